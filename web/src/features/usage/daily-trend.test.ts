import { describe, expect, it } from 'vitest';
import { dailyTrend } from './daily-trend';

const calls = (day: string, document: number) => ({ day, document, utility: 0, none: 0, failed: 0 });
const zero = (day: string) => calls(day, 0);

describe("the usage page's daily trend has one point per day of the period so far", () => {
  it('days without calls between two days with calls are zero, not skipped', () => {
    const trend = dailyTrend(
      [calls('2026-12-01', 3), calls('2026-12-04', 2)],
      '2026-12-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
      Date.parse('2026-12-05T09:00:00Z'),
    );
    expect(trend).toEqual([calls('2026-12-01', 3), zero('2026-12-02'), zero('2026-12-03'), calls('2026-12-04', 2), zero('2026-12-05')]);
  });
  it('from the first day of the period, even before the first call', () => {
    const trend = dailyTrend([calls('2026-12-03', 1)], '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', Date.parse('2026-12-03T12:00:00Z'));
    expect(trend.map((d) => d.day)).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
  });
  it('an ended period stops at its last day', () => {
    const trend = dailyTrend([], '2026-11-01T00:00:00.000Z', '2026-11-04T00:00:00.000Z', Date.parse('2026-12-20T12:00:00Z'));
    expect(trend.map((d) => d.day)).toEqual(['2026-11-01', '2026-11-02', '2026-11-03']);
  });
  it("the period's first day alone, on that day", () => {
    expect(dailyTrend([], '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', Date.parse('2026-12-01T00:00:01Z'))).toEqual([zero('2026-12-01')]);
  });
});
