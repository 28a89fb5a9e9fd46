/** A billing period: from `start` (inclusive) to `end` (exclusive), both UTC instants. */
export interface BillingPeriod {
  start: string;
  end: string;
}

/**
 * The period `now` falls in. Subscriptions without an explicit end use calendar months
 * (UTC); with one, periods repeat monthly from the subscription's own `periodStart` day.
 */
export function currentPeriod(sub: { periodStart: string; periodEnd: string | null }, now: Date): BillingPeriod {
  if (sub.periodEnd && sub.periodStart <= now.toISOString() && now.toISOString() < sub.periodEnd) {
    return { start: sub.periodStart, end: sub.periodEnd };
  }
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start: start.toISOString(), end: end.toISOString() };
}
