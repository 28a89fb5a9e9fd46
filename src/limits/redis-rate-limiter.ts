import type { RateDecision, RateLimiter } from './rate-limiter.js';
import type { RedisLink } from './redis-link.js';

const WINDOW_MS = 60_000;

interface WindowLease {
  window: number;
  places: number;
  total: number;
  exhausted: boolean;
  fetching?: Promise<void>;
}

/**
 * Requests per minute shared by every node through Redis: one budget per subject and minute
 * window, leased in blocks that shrink near the limit, so a request costs no round trip while the
 * node holds places. Redis lost: at most limit / expected nodes per window on this node.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #link: RedisLink;
  readonly #nodes: number;
  readonly #leases = new Map<string, WindowLease>();

  constructor(link: RedisLink, options: { expectedNodes?: number } = {}) {
    this.#link = link;
    this.#nodes = Math.max(1, options.expectedNodes ?? 2);
  }

  take(subject: string, perMinute: number, nowMs: number): RateDecision | Promise<RateDecision> {
    const window = Math.floor(nowMs / WINDOW_MS);
    let lease = this.#leases.get(subject);
    if (!lease || lease.window !== window) {
      if (lease && lease.places > 0) this.#giveBack(subject, lease);
      lease = { window, places: 0, total: 0, exhausted: false };
      this.#leases.set(subject, lease);
    }
    if (lease.places > 0) return this.#decide(lease, perMinute, nowMs, true);
    const current = lease;
    current.fetching ??= this.#fetch(subject, current, perMinute).finally(() => {
      current.fetching = undefined;
    });
    return current.fetching.then(() => {
      if (current.places > 0 || current.exhausted) return this.#decide(current, perMinute, nowMs, current.places > 0);
      return this.take(subject, perMinute, nowMs);
    });
  }

  #decide(lease: WindowLease, perMinute: number, nowMs: number, allowed: boolean): RateDecision {
    const resetSeconds = Math.max(1, Math.ceil(((lease.window + 1) * WINDOW_MS - nowMs) / 1000));
    if (!allowed) return { allowed: false, limit: perMinute, remaining: 0, resetSeconds, retryAfterSeconds: resetSeconds };
    lease.places--;
    return { allowed: true, limit: perMinute, remaining: Math.max(0, perMinute - lease.total) + lease.places, resetSeconds, retryAfterSeconds: 0 };
  }

  #key(subject: string, window: number): string {
    return `${this.#link.prefix}rate:${subject}:${window}`;
  }

  async #fetch(subject: string, lease: WindowLease, perMinute: number): Promise<void> {
    try {
      const [taken, total] = await this.#link.lease(this.#key(subject, lease.window), {
        seed: 0,
        limit: perMinute,
        maxBlock: 1000,
        divisor: 4 * this.#nodes,
        ttlSeconds: 120,
      });
      this.#link.markUp();
      lease.places += taken;
      lease.total = total;
      lease.exhausted = taken === 0;
    } catch {
      this.#link.markDown();
      // Conservative local share for this window, granted once.
      if (lease.total === 0) {
        const share = Math.max(1, Math.floor(perMinute / this.#nodes));
        lease.places += share;
        lease.total = perMinute;
      }
      lease.exhausted = lease.places === 0;
    }
  }

  #giveBack(subject: string, lease: WindowLease): void {
    if (this.#link.healthy) void this.#link.client.decrby(this.#key(subject, lease.window), lease.places).catch(() => undefined);
    lease.places = 0;
  }

  async close(): Promise<void> {
    for (const [subject, lease] of this.#leases) if (lease.places > 0) this.#giveBack(subject, lease);
  }
}
