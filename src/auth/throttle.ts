import type { Clock } from '../lib/clock.js';

/**
 * Counts attempts per subject (an IP, an account) in a sliding window. An attempt is counted
 * when it starts (`take`), before the slow password check, so parallel attempts cannot all
 * pass a check that none of them has failed yet; a successful one is given back. In memory
 * here; several nodes back the same interface with Redis.
 */
export interface FailureThrottle {
  /** Counts an attempt and returns 0, or returns the seconds to wait (counting nothing) when the subject is over its limit. */
  take(subject: string): number;
  /** Un-counts the latest attempt (it succeeded, or another check refused it first). */
  giveBack(subject: string): void;
  reset(subject: string): void;
}

export function createMemoryThrottle(clock: Clock, limit: number, windowMs: number): FailureThrottle {
  const attempts = new Map<string, number[]>();
  const recent = (subject: string): number[] => {
    const cutoff = clock.now().getTime() - windowMs;
    const kept = (attempts.get(subject) ?? []).filter((t) => t > cutoff);
    if (kept.length === 0) attempts.delete(subject);
    else attempts.set(subject, kept);
    return kept;
  };
  return {
    take(subject) {
      const times = recent(subject);
      if (times.length >= limit) {
        const oldestThatCounts = times[times.length - limit]!;
        return Math.max(1, Math.ceil((oldestThatCounts + windowMs - clock.now().getTime()) / 1000));
      }
      times.push(clock.now().getTime());
      attempts.set(subject, times);
      return 0;
    },
    giveBack(subject) {
      const times = attempts.get(subject);
      times?.pop();
      if (times?.length === 0) attempts.delete(subject);
    },
    reset(subject) {
      attempts.delete(subject);
    },
  };
}
