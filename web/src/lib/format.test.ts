import { afterEach, describe, expect, it } from 'vitest';
import { dateTime } from './format';

const zone = process.env.TZ;
/** Node reads TZ afresh when it is set, so each case runs in the person's zone it names. */
function inZone<T>(tz: string, run: () => T): T {
  process.env.TZ = tz;
  return run();
}
afterEach(() => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

describe('an absolute time says which time zone it is in', () => {
  it('in Berlin in winter, UTC+1; in summer, UTC+2', () => {
    expect(inZone('Europe/Berlin', () => dateTime('2026-12-03T13:05:00Z'))).toBe('3 Dec 2026, 14:05 UTC+1');
    expect(inZone('Europe/Berlin', () => dateTime('2026-07-03T13:05:00Z'))).toBe('3 Jul 2026, 15:05 UTC+2');
  });
  it('half hours and zones west of Greenwich', () => {
    expect(inZone('Asia/Kolkata', () => dateTime('2026-12-03T13:05:00Z'))).toBe('3 Dec 2026, 18:35 UTC+5:30');
    expect(inZone('America/St_Johns', () => dateTime('2026-12-03T13:05:00Z'))).toBe('3 Dec 2026, 09:35 UTC-3:30');
    expect(inZone('America/New_York', () => dateTime('2026-12-03T13:05:00Z'))).toBe('3 Dec 2026, 08:05 UTC-5');
  });
  it('in UTC itself, UTC', () => {
    expect(inZone('UTC', () => dateTime('2026-12-03T13:05:00Z'))).toBe('3 Dec 2026, 13:05 UTC');
  });
  it('no time, no zone', () => {
    expect(dateTime(null)).toBe('');
  });
});
