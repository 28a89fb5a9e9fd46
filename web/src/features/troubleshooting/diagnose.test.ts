import { describe, expect, it } from 'vitest';
import { diagnoseLocally } from './diagnose';

const KEY = 'bdoc_208bNkmHQ0Al8gc3ksjrvYvEB1234567890';

describe('a pasted key is diagnosed and then checked without what was wrong with it', () => {
  it.each([
    ['a space inside', `${KEY.slice(0, 20)} ${KEY.slice(20)}`, 'inner-space'],
    ['a non-breaking space inside', `${KEY.slice(0, 20)}\u00a0${KEY.slice(20)}`, 'inner-space'],
    ['a line break inside', `${KEY.slice(0, 20)}\n${KEY.slice(20)}`, 'line-break'],
    ['quotes around it', `"${KEY}"`, 'quotes'],
    ['a Bearer prefix', `Bearer ${KEY}`, 'bearer'],
    ['a trailing non-breaking space', `${KEY}\u00a0`, 'trailing-space'],
  ])('%s: named, and the key checked is the key itself', (_label, pasted, kind) => {
    const { issues, cleaned } = diagnoseLocally(pasted);
    expect(issues.map((issue) => issue.kind)).toEqual([kind]);
    expect(cleaned).toBe(KEY);
  });

  it('plain spaces around the key are not an issue (HTTP removes them)', () => {
    expect(diagnoseLocally(`  ${KEY}\t`)).toEqual({ issues: [], cleaned: KEY });
  });
});
