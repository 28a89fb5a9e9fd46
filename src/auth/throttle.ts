import type { Clock } from '../lib/clock.js';

/**
 * Counts attempts per subject (an IP, an account) in a sliding window. An attempt is counted
 * when it starts (`take`), before the slow password check, so parallel attempts cannot all
 * pass a check that none of them has failed yet; a successful one is given back. In memory
 * for one node; with Redis (limits/redis-throttle.ts), one count shared by every node.
 */
export interface FailureThrottle {
  /** Counts an attempt and answers 0, or answers the seconds to wait (counting nothing) when the subject is over its limit. */
  take(subject: string): Promise<number>;
  /** Un-counts the latest attempt (it succeeded, or another check refused it first). */
  giveBack(subject: string): Promise<void>;
  reset(subject: string): Promise<void>;
}

/** The same counting, synchronous: one node's own attempts (also what a shared throttle falls back to). */
export interface LocalThrottle {
  take(subject: string): number;
  giveBack(subject: string): void;
  reset(subject: string): void;
}

export function createLocalThrottle(clock: Clock, limit: number, windowMs: number): LocalThrottle {
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

export function createMemoryThrottle(clock: Clock, limit: number, windowMs: number): FailureThrottle {
  const local = createLocalThrottle(clock, limit, windowMs);
  return {
    take: async (subject) => local.take(subject),
    giveBack: async (subject) => local.giveBack(subject),
    reset: async (subject) => local.reset(subject),
  };
}
