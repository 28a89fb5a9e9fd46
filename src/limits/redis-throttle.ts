import { randomBytes } from 'node:crypto';
import { createLocalThrottle, type FailureThrottle } from '../auth/throttle.js';
import type { Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import type { RedisLink } from './redis-link.js';

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
      } catch (error) {
        link.markDown(error);
        return local.take(subject);
      }
    },
    async giveBack(subject) {
      // While Redis is lost attempts are counted here, so they are given back here.
      if (!link.healthy) return local.giveBack(subject);
      // The subject's latest attempt leaves the window (maybe another node's: the count is what matters).
      await link.dropLatest(key(subject)).catch((error) => link.markDown(error));
    },
    async reset(subject) {
      local.reset(subject);
      // While Redis is lost this fails at once (a silent Redis would hold the sign-in for
      // REDIS_TIMEOUT_MS); the shared count then keeps the earlier failures until its window ends.
      await link.forget(key(subject)).catch((error) => link.markDown(error));
    },
  };
}
