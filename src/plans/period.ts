/** A billing period: from `start` (inclusive) to `end` (exclusive), both UTC instants. */
export interface BillingPeriod {
  start: string;
  end: string;
}

/** The calendar month last asked for; the gateway asks on every billed request. */
let month: { startMs: number; endMs: number; period: BillingPeriod } | undefined;

function calendarMonth(now: Date): BillingPeriod {
  const ms = now.getTime();
  if (month && ms >= month.startMs && ms < month.endMs) return month.period;
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  month = { startMs: start.getTime(), endMs: end.getTime(), period: { start: start.toISOString(), end: end.toISOString() } };
  return month.period;
}

/**
 * The period `now` falls in: the subscription's own period while `now` is inside it,
 * otherwise the calendar month (UTC).
 */
export function currentPeriod(sub: { periodStart: string; periodEnd: string | null }, now: Date): BillingPeriod {
  if (sub.periodEnd) {
    const at = now.toISOString();
    if (sub.periodStart <= at && at < sub.periodEnd) return { start: sub.periodStart, end: sub.periodEnd };
  }
  return calendarMonth(now);
}
