import { eachDay } from '../../lib/days';
import type { OrgUsage } from '../../lib/types';

type Day = OrgUsage['daily'][number];

/**
 * The daily trend of a billing period: one point per day from the period's first day to today
 * (or its last day, if it has ended), a day without calls at zero. The server lists only days
 * with calls; drawn as they come, a quiet week would vanish from the line. Days are UTC days,
 * as the server counts them; `periodEnd` is exclusive.
 */
export function dailyTrend(daily: readonly Day[], periodStart: string, periodEnd: string, now = Date.now()): Day[] {
  const byDay = new Map(daily.map((day) => [day.day, day]));
  const first = periodStart.slice(0, 10);
  const end = Math.min(Date.parse(periodEnd), now);
  // The day of the last moment before the end (exclusive).
  const last = new Date(end - 1).toISOString().slice(0, 10);
  const days: Day[] = eachDay(first, last).map((day) => byDay.get(day) ?? { day, document: 0, utility: 0, none: 0, failed: 0 });
  // A day the server counted outside that range (a clock a moment apart) is not dropped.
  for (const day of daily) if (!days.some((d) => d.day === day.day)) days.push(day);
  return days.sort((a, b) => a.day.localeCompare(b.day));
}
