import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import type { DbOrTrx } from '../db/database.js';
import type { AuditEntryView } from '../api/views.js';
import type { Severity } from '../domain/vocabulary.js';
import type { AuditRow } from '../db/schema.js';
import type { Actor } from '../domain/actor.js';
import { toCsv } from '../lib/csv.js';

export interface AuditEvent {
  eventType: string;
  resourceType: string;
  resourceId: string | null;
  action: string;
  details?: Record<string, unknown>;
  severity?: Severity;
}

export interface AuditFilter {
  from?: string;
  to?: string;
  userId?: string;
  eventType?: string;
  resourceId?: string;
}

export interface AuditService {
  record(db: DbOrTrx, actor: Actor, event: AuditEvent): Promise<void>;
  list(db: DbOrTrx, orgId: string, filter: AuditFilter, page: { limit: number; offset: number }): Promise<{ items: AuditEntryView[]; total: number }>;
}

export function createAuditService(deps: { clock: Clock; newId: IdGenerator }): AuditService {
  return {
    async record(db, actor, event) {
      await db
        .insertInto('auditLog')
        .values({
          id: deps.newId('aud'),
          orgId: actor.orgId,
          timestamp: deps.clock.now().toISOString(),
          eventType: event.eventType,
          userId: actor.userId,
          userEmail: actor.email,
          resourceType: event.resourceType,
          resourceId: event.resourceId,
          action: event.action,
          details: JSON.stringify(event.details ?? {}),
          ip: actor.ip,
          severity: event.severity ?? 'info',
        })
        .execute();
    },

    async list(db, orgId, filter, page) {
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
      return { items: rows.map(toAuditView), total: Number(count.n) };
    },
  };
}

export function toAuditView(row: AuditRow): AuditEntryView {
  return {
    id: row.id,
    timestamp: row.timestamp,
    eventType: row.eventType,
    userId: row.userId,
    userEmail: row.userEmail,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    action: row.action,
    details: JSON.parse(row.details) as Record<string, unknown>,
    ip: row.ip,
    severity: row.severity,
  };
}

const CSV_COLUMNS = ['timestamp', 'eventType', 'userId', 'userEmail', 'resourceType', 'resourceId', 'action', 'details', 'ip', 'severity'] as const;

export function auditToCsv(entries: AuditEntryView[]): string {
  return toCsv(
    [...CSV_COLUMNS],
    entries.map((entry) =>
      CSV_COLUMNS.map((column) => {
        const value = entry[column];
        return typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
      }),
    ),
  );
}
