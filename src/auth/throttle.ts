import type { Clock } from '../lib/clock.js';

/**
 * Counts failures per subject (an IP, an account) in a sliding window. In memory here; the
 * scale-out work backs the same interface with Redis so every node sees the same counts.
 */
export interface FailureThrottle {
  /** Seconds until another attempt is allowed, or 0 when the subject may try. */
  retryAfter(subject: string): number;
  fail(subject: string): void;
  reset(subject: string): void;
}

export function createMemoryThrottle(clock: Clock, limit: number, windowMs: number): FailureThrottle {
  const failures = new Map<string, number[]>();
  const recent = (subject: string): number[] => {
    const cutoff = clock.now().getTime() - windowMs;
    const kept = (failures.get(subject) ?? []).filter((t) => t > cutoff);
    if (kept.length === 0) failures.delete(subject);
    else failures.set(subject, kept);
    return kept;
  };
  return {
    retryAfter(subject) {
      const times = recent(subject);
      if (times.length < limit) return 0;
      const oldestThatCounts = times[times.length - limit]!;
      return Math.max(1, Math.ceil((oldestThatCounts + windowMs - clock.now().getTime()) / 1000));
    },
    fail(subject) {
      const times = recent(subject);
      times.push(clock.now().getTime());
      failures.set(subject, times.slice(-limit * 2));
    },
    reset(subject) {
      failures.delete(subject);
    },
  };
}
