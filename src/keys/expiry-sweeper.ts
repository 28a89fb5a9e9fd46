import type { AuditService } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { commitWithEvents, type EventBus } from '../events/event-bus.js';
import { EXPIRING_DAYS } from '../events/domain-events.js';
import { claimMark, hasMark } from '../events/event-marks.js';
import { DAY, utcDay, type Clock } from '../lib/clock.js';
import { toKeyView } from './key-view.js';
import { claimExpiryRecord, expiredUnrecorded, findKeyView, keysExpiringBetween } from './keys.repository.js';

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

/**
 * Announces `api_key.expiring` 14, 7 and 1 days before a key expires, once per key and mark
 * (a mark in `event_marks`, inserted with the event, so two nodes racing announce it once).
 * A key found late (made with 3 days left) is announced once, for the nearest mark; the
 * marks it passed are claimed with it. A new expiry date (extension) gets its own marks.
 */
export async function announceExpiringKeys(deps: { db: Db; clock: Clock; events: EventBus }): Promise<number> {
  const now = deps.clock.now();
  const until = new Date(now.getTime() + Math.max(...EXPIRING_DAYS) * DAY).toISOString();
  const due = await keysExpiringBetween(deps.db, now.toISOString(), until, 1000);
  let announced = 0;
  for (const key of due) {
    const left = Date.parse(key.expiresAt!) - now.getTime();
    const passed = EXPIRING_DAYS.filter((days) => left <= days * DAY);
    const nearest = Math.min(...passed) as (typeof EXPIRING_DAYS)[number];
    await commitWithEvents(deps.db, deps.events, async (trx, emit) => {
      const subject = `${key.id}@${key.expiresAt}`;
      let fresh = false;
      for (const days of passed) {
        if (await claimMark(trx, { kind: 'api_key.expiring', subject, mark: String(days), orgId: key.orgId }, now)) fresh ||= days === nearest;
      }
      if (!fresh) return;
      const row = await findKeyView(trx, key.orgId, key.id);
      if (!row) return;
      emit({ type: 'api_key.expiring', organisationId: key.orgId, data: { key: toKeyView(row, now), daysBefore: nearest } });
      announced++;
    });
  }
  return announced;
}

/**
 * Announces `api_key.revoked_key_used` for the first call of a revoked key on a UTC day, once
 * for the whole cluster (the day's mark decides). Called after the gateway answered, never on its path.
 */
export async function recordRevokedKeyUse(deps: { db: Db; clock: Clock; events: EventBus }, key: { id: string; orgId: string }): Promise<boolean> {
  const now = deps.clock.now();
  const day = utcDay(now);
  const mark = { kind: 'api_key.revoked_key_used', subject: key.id, mark: day } as const;
  if (await hasMark(deps.db, mark)) return false;
  return commitWithEvents(deps.db, deps.events, async (trx, emit) => {
    const row = await findKeyView(trx, key.orgId, key.id);
    if (!row) return false;
    if (!(await claimMark(trx, { ...mark, orgId: key.orgId }, now))) return false;
    emit({ type: 'api_key.revoked_key_used', organisationId: key.orgId, data: { key: toKeyView(row, now), day } });
    return true;
  });
}
