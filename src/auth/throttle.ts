import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../lib/hash.js';
import type { Clock } from '../lib/clock.js';
import type { RedisLink } from '../limits/redis-link.js';

/**
 * Counts attempts per subject (an IP, an account) in a sliding window. An attempt is counted
 * when it starts (`take`), before the slow password check, so parallel attempts cannot all
 * pass a check that none of them has failed yet; a successful one is given back. In memory
 * for one node; with Redis, one count shared by every node.
 */
export interface FailureThrottle {
  /** Counts an attempt and answers 0, or answers the seconds to wait (counting nothing) when the subject is over its limit. */
  take(subject: string): Promise<number>;
  /** Un-counts the latest attempt (it succeeded, or another check refused it first). */
  giveBack(subject: string): Promise<void>;
  reset(subject: string): Promise<void>;
}

/** The same counting, synchronous: one node's own attempts. */
interface LocalThrottle {
  take(subject: string): number;
  giveBack(subject: string): void;
  reset(subject: string): void;
}

function createLocalThrottle(clock: Clock, limit: number, windowMs: number): LocalThrottle {
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

/**
 * Attempts counted in Redis, so the limit holds across every node together: one atomic script
 * per attempt (a sorted set of attempt times per subject), so concurrent attempts on several
 * nodes admit exactly the limit. Redis lost: this node counts alone with a conservative share
 * (limit / expected nodes), and shares again by itself once Redis answers. Subjects are hashed:
 * no email address is written to Redis.
 */
export function createRedisThrottle(
  link: RedisLink,
  clock: Clock,
  options: { name: string; limit: number; windowMs: number; expectedNodes: number },
): FailureThrottle {
  const { limit, windowMs } = options;
  const local = createLocalThrottle(clock, Math.max(1, Math.floor(limit / Math.max(1, options.expectedNodes))), windowMs);
  const key = (subject: string) => `${link.prefix}throttle:${options.name}:${sha256Hex(subject).slice(0, 32)}`;
  return {
    async take(subject) {
      try {
        const nowMs = clock.now().getTime();
        const wait = await link.attempt(key(subject), { nowMs, windowMs, limit, member: `${nowMs}:${randomBytes(6).toString('hex')}` });
        link.markUp();
        return Number(wait);
      } catch {
        link.markDown();
        return local.take(subject);
      }
    },
    async giveBack(subject) {
      // While Redis is lost attempts are counted here, so they are given back here.
      if (!link.healthy) return local.giveBack(subject);
      // The subject's latest attempt leaves the window (maybe another node's: the count is what matters).
      await link.client.zpopmax(key(subject)).then(
        () => undefined,
        () => link.markDown(),
      );
    },
    async reset(subject) {
      local.reset(subject);
      await link.client.del(key(subject)).then(
        () => undefined,
        () => link.markDown(),
      );
    },
  };
}
