import type { AuditService } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import type { AuditEventType } from '../domain/audit-events.js';
import { QUOTA_THRESHOLDS } from '../events/domain-events.js';
import { commitWithEvents, type EventBus } from '../events/event-bus.js';
import { claimMark, hasMark } from '../events/event-marks.js';
import type { Clock } from '../lib/clock.js';
import { monthlyLimit, type PlanCatalogue, type QuotaActionType } from '../plans/catalogue.js';
import { currentPeriod } from '../plans/period.js';
import { subscriptionsPage } from '../orgs/orgs.repository.js';
import { successfulActionsByOrg } from '../usage/usage.repository.js';
import type { QuotaThreshold } from './quota-tracker.js';

export const QUOTA_EVENT = 'quota.threshold_reached' satisfies AuditEventType;

type Deps = { db: Db; audit: AuditService; events: EventBus; clock: Clock };

/**
 * Announces "quota 80 % / 100 % reached" (audit entry and `quota.threshold` event, one
 * transaction) once per organisation, period, action type and threshold: the mark in
 * `event_marks` decides, whichever node or sweep gets there first.
 */
export async function recordQuotaThreshold(deps: Deps, event: QuotaThreshold): Promise<boolean> {
  const subject = `${event.orgId}:${event.actionType}:${event.period.start}`;
  if (await hasMark(deps.db, { kind: 'quota.threshold', subject, mark: String(event.threshold) })) return false;
  return commitWithEvents(deps.db, deps.events, async (trx, emit) => {
    if (!(await claimMark(trx, { kind: 'quota.threshold', subject, mark: String(event.threshold), orgId: event.orgId }, deps.clock.now()))) return false;
    await deps.audit.record(
      trx,
      { orgId: event.orgId, userId: null, email: null, role: 'operator', ip: null },
      {
        eventType: QUOTA_EVENT,
        resourceType: 'quota',
        resourceId: `${event.actionType}:${event.period.start.slice(0, 10)}:${event.threshold}`,
        action: 'threshold',
        severity: event.threshold === 100 ? 'error' : 'warning',
        details: {
          actionType: event.actionType,
          threshold: event.threshold,
          used: event.used,
          limit: event.limit,
          periodStart: event.period.start,
          periodEnd: event.period.end,
        },
      },
    );
    emit({
      type: 'quota.threshold',
      organisationId: event.orgId,
      data: {
        quota: {
          actionType: event.actionType,
          threshold: event.threshold,
          used: event.used,
          limit: event.limit,
          periodStart: event.period.start,
          periodEnd: event.period.end,
        },
      },
    });
    return true;
  });
}

const QUOTA_TYPES: readonly QuotaActionType[] = ['document', 'utility'];

/**
 * The once-per-cluster sweep: compares every organisation's successful actions this period
 * (as flushed to the database) with its monthly quotas and announces each threshold crossed
 * and not yet announced. The gateway's own counters announce sooner; the marks keep it once.
 */
export async function sweepQuotaThresholds(deps: Deps & { plans: PlanCatalogue }): Promise<number> {
  const now = deps.clock.now();
  let announced = 0;
  let after = '';
  for (;;) {
    const subs = await subscriptionsPage(deps.db, after, 500);
    if (subs.length === 0) return announced;
    after = subs.at(-1)!.orgId;
    const byPeriod = new Map<string, typeof subs>();
    for (const sub of subs) {
      const period = currentPeriod(sub, now);
      const key = `${period.start}|${period.end}`;
      byPeriod.set(key, [...(byPeriod.get(key) ?? []), sub]);
    }
    for (const [key, group] of byPeriod) {
      const [start, end] = key.split('|') as [string, string];
      const used = await successfulActionsByOrg(
        deps.db,
        group.map((s) => s.orgId),
        start.slice(0, 10),
        end.slice(0, 10),
      );
      const usedOf = new Map(used.map((u) => [`${u.orgId}|${u.actionType}`, u.used]));
      for (const sub of group) {
        const plan = deps.plans.ofSubscription(sub);
        for (const actionType of QUOTA_TYPES) {
          const limit = monthlyLimit(plan, actionType);
          const count = usedOf.get(`${sub.orgId}|${actionType}`) ?? 0;
          if (limit === null || limit <= 0) continue;
          for (const threshold of QUOTA_THRESHOLDS) {
            if (count < Math.ceil((limit * threshold) / 100)) continue;
            const event = { orgId: sub.orgId, actionType, threshold, used: count, limit, period: { start, end } };
            if (await recordQuotaThreshold(deps, event)) announced++;
          }
        }
      }
    }
  }
}
