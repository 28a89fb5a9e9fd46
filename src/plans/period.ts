/** A billing period: from `start` (inclusive) to `end` (exclusive), both UTC instants. */
export interface BillingPeriod {
  start: string;
  end: string;
}

/** The calendar month last asked for; the gateway asks on every billed request. */
let month: { startMs: number; endMs: number; period: BillingPeriod } | undefined;

function calendarMonth(ms: number): BillingPeriod {
  if (month && ms >= month.startMs && ms < month.endMs) return month.period;
  const now = new Date(ms);
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  month = { startMs: start.getTime(), endMs: end.getTime(), period: { start: start.toISOString(), end: end.toISOString() } };
  return month.period;
}

/**
 * The period `now` (a date, or epoch ms as the gateway has it) falls in: the subscription's own
 * period while `now` is inside it, otherwise the calendar month (UTC).
 */
export function currentPeriod(sub: { periodStart: string; periodEnd: string | null }, now: Date | number): BillingPeriod {
  const ms = typeof now === 'number' ? now : now.getTime();
  if (sub.periodEnd) {
    const own = ownPeriod(sub, sub.periodEnd);
    if (own) {
      if (own.startMs <= ms && ms < own.endMs) return own.period;
    } else {
      const at = new Date(ms).toISOString();
      if (sub.periodStart <= at && at < sub.periodEnd) return { start: sub.periodStart, end: sub.periodEnd };
    }
  }
  return calendarMonth(ms);
}

interface OwnPeriod {
  startMs: number;
  endMs: number;
  period: BillingPeriod;
}

/**
 * Each subscription's own period as epoch ms, worked out once per subscription object: the
 * gateway asks on every request with its cached organisation, and organisations take turns (a
 * single last-asked entry was worked out anew on nearly every request, about 3 µs each).
 */
const ownPeriods = new WeakMap<object, { start: string; end: string; own: OwnPeriod | undefined }>();

/**
 * A period whose bounds are ISO instants as `toISOString` writes them, in epoch ms: comparing
 * the numbers then says exactly what comparing the strings with `now.toISOString()` says.
 * Bounds in any other form answer undefined (compared as strings).
 */
function ownPeriod(sub: { periodStart: string }, end: string): OwnPeriod | undefined {
  const start = sub.periodStart;
  const known = ownPeriods.get(sub);
  if (known && known.start === start && known.end === end) return known.own;
  const startMs = Date.parse(start);
  const endMs = Date.parse(end);
  const own = isIsoInstant(start, startMs) && isIsoInstant(end, endMs) ? { startMs, endMs, period: { start, end } } : undefined;
  ownPeriods.set(sub, { start, end, own });
  return own;
}

function isIsoInstant(text: string, ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms < 253402300800000 && new Date(ms).toISOString() === text;
}
