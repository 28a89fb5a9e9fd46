import type { AuditService } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import type { QuotaThreshold } from './quota-tracker.js';

export const QUOTA_EVENT = 'quota.threshold_reached';

/**
 * Writes "quota 80 % / 100 % reached" once per organisation, period, action type and
 * threshold, whichever node crosses it first (the notifications work reads these events).
 */
export async function recordQuotaThreshold(deps: { db: Db; audit: AuditService }, event: QuotaThreshold): Promise<boolean> {
  const resourceId = `${event.actionType}:${event.period.start.slice(0, 10)}:${event.threshold}`;
  return deps.db.transaction().execute((trx) =>
    deps.audit.recordOnce(
      trx,
      { orgId: event.orgId, userId: null, email: null, role: 'operator', ip: null },
      {
        eventType: QUOTA_EVENT,
        resourceType: 'quota',
        resourceId,
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
    ),
  );
}
