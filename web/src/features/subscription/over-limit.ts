import { date, number } from '../../lib/format';

/** A limit of the plan that is already passed, as the Subscription page's Limits card counts it. */
export interface OverLimit {
  field: 'documentActionsPerMonth' | 'utilityActionsPerMonth' | 'maxKeys';
  used: number;
  limit: number;
}

const ACTIONS = { documentActionsPerMonth: 'document actions', utilityActionsPerMonth: 'utility actions' } as const;

/**
 * What a "Used" above 100 % means and what happens next, said once under the limits: it happens
 * after a move to a smaller plan, or (for keys) while a rotated key's grace period runs.
 */
export function overLimitNote({ field, used, limit }: OverLimit, periodEnd: string | null): string {
  const over = number.format(used - limit);
  if (field === 'maxKeys') {
    return `${number.format(used)} live API keys, ${over} more than the plan's ${number.format(limit)}. Every one keeps working, but no key can be created until fewer than ${number.format(limit)} are live: revoke or delete one you no longer need. A rotated key counts until its grace period ends, and a smaller plan revokes no key.`;
  }
  const what = ACTIONS[field];
  const resets = periodEnd ? `the period ends on ${date(periodEnd)}` : 'the next period';
  return `${number.format(used)} ${what} used this period, ${over} more than the plan's ${number.format(limit)} (used before the plan changed). Further ${what} are refused with quota_exceeded until ${resets}.`;
}
