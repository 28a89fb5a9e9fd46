import { describe, expect, it } from 'vitest';
import { overLimitNote } from './over-limit';

describe('a limit already passed is explained under the limits', () => {
  it('keys: how many over, that they keep working, and what to do to create one again', () => {
    expect(overLimitNote({ field: 'maxKeys', used: 11, limit: 10 }, null)).toBe(
      "11 live API keys, 1 more than the plan's 10. Every one keeps working, but no key can be created until fewer than 10 are live: revoke or delete one you no longer need. A rotated key counts until its grace period ends, and a smaller plan revokes no key.",
    );
  });
  it('a quota: how many over, and until when further actions are refused', () => {
    expect(overLimitNote({ field: 'documentActionsPerMonth', used: 1250, limit: 500 }, '2026-04-01T00:00:00.000Z')).toBe(
      "1,250 document actions used this period, 750 more than the plan's 500 (used before the plan changed). Further document actions are refused with quota_exceeded until the period ends on 1 Apr 2026.",
    );
    expect(overLimitNote({ field: 'utilityActionsPerMonth', used: 60, limit: 50 }, null)).toContain('until the next period');
  });
});
