import type { AuditService } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { commitWithEvents, type EventBus } from '../events/event-bus.js';
import type { Clock } from '../lib/clock.js';

/**
 * Expiry needs no write to take effect (the gateway compares `expiresAt` with the clock);
 * this only writes the "key expired" audit event once per key, whichever node sees it first.
 */
export async function recordExpiredKeys(deps: { db: Db; clock: Clock; audit: AuditService; events: EventBus }): Promise<number> {
  const now = deps.clock.now().toISOString();
  const due = await deps.db
    .selectFrom('apiKeys')
    .select(['id', 'orgId', 'name', 'expiresAt'])
    .where('expiresAt', '<=', now)
    .where('expiryRecordedAt', 'is', null)
    .where('status', '!=', 'revoked')
    .where('deletedAt', 'is', null)
    .limit(500)
    .execute();
  let recorded = 0;
  for (const key of due) {
    await commitWithEvents(deps.db, deps.events, async (trx, emit) => {
      const claimed = await trx
        .updateTable('apiKeys')
        .set({ expiryRecordedAt: now })
        .where('id', '=', key.id)
        .where('expiryRecordedAt', 'is', null)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) return;
      await deps.audit.record(
        trx,
        { orgId: key.orgId, userId: null, email: null, role: 'operator', ip: null },
        {
          eventType: 'key.expired',
          resourceType: 'api_key',
          resourceId: key.id,
          action: 'expire',
          details: { name: key.name, expiresAt: key.expiresAt },
          severity: 'warning',
        },
      );
      emit({ type: 'api_key.expired', organisationId: key.orgId, data: { key: { id: key.id, name: key.name, expiresAt: key.expiresAt } } });
      recorded++;
    });
  }
  return recorded;
}
