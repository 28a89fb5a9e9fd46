import { describe, expect, it } from 'vitest';
import { eachDay } from './days';

describe('eachDay lists every day of a range, both ends included', () => {
  it('across a month and a year end', () => {
    expect(eachDay('2026-12-30', '2027-01-02')).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
  });
  it('across February of a leap year', () => {
    expect(eachDay('2028-02-28', '2028-03-01')).toEqual(['2028-02-28', '2028-02-29', '2028-03-01']);
  });
  it('one day, and the first day alone when the range ends before it', () => {
    expect(eachDay('2026-12-07', '2026-12-07')).toEqual(['2026-12-07']);
    expect(eachDay('2026-12-07', '2026-12-01')).toEqual(['2026-12-07']);
  });
});
