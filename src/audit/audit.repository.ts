/** The only module that reads or writes the `auditLog` table (through the audit service). */
import type { DbOrTrx } from '../db/database.js';
import type { AuditRow } from '../db/schema.js';

export interface AuditFilter {
  from?: string;
  to?: string;
  userId?: string;
  eventType?: string;
  resourceId?: string;
}

export const auditRepository = {
  async insert(db: DbOrTrx, row: AuditRow): Promise<void> {
    await db.insertInto('auditLog').values(row).execute();
  },

  /** Whether an organisation's log holds an entry of this type about this resource. */
  async exists(db: DbOrTrx, orgId: string, eventType: string, resourceId: string): Promise<boolean> {
    const row = await db
      .selectFrom('auditLog')
      .select('id')
      .where('orgId', '=', orgId)
      .where('eventType', '=', eventType)
      .where('resourceId', '=', resourceId)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** An organisation's entries matching the filter, newest first, and how many match. */
  async list(db: DbOrTrx, orgId: string, filter: AuditFilter, page: { limit: number; offset: number }): Promise<{ rows: AuditRow[]; total: number }> {
    let query = db.selectFrom('auditLog').where('orgId', '=', orgId);
    if (filter.from) query = query.where('timestamp', '>=', filter.from);
    if (filter.to) query = query.where('timestamp', '<', filter.to);
    if (filter.userId) query = query.where('userId', '=', filter.userId);
    if (filter.eventType) query = query.where('eventType', '=', filter.eventType);
    if (filter.resourceId) query = query.where('resourceId', '=', filter.resourceId);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('timestamp', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
      query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  },
};
