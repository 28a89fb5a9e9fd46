import type { AuditService } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { commitWithEvents, type EventBus } from '../events/event-bus.js';
import type { Clock } from '../lib/clock.js';
import { claimExpiryRecord, expiredUnrecorded } from './keys.repository.js';

/**
 * Expiry needs no write to take effect (the gateway compares `expiresAt` with the clock);
 * this only writes the "key expired" audit event once per key, whichever node sees it first.
 */
export async function recordExpiredKeys(deps: { db: Db; clock: Clock; audit: AuditService; events: EventBus }): Promise<number> {
  const now = deps.clock.now().toISOString();
  const due = await expiredUnrecorded(deps.db, now, 500);
  let recorded = 0;
  for (const key of due) {
    await commitWithEvents(deps.db, deps.events, async (trx, emit) => {
      if (!(await claimExpiryRecord(trx, key.id, now))) return;
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
