import type { RateDecision, RateLimiter } from './rate-limiter.js';
import { forgetHeld, type HeldPlaces, type RedisLink } from './redis-link.js';

const WINDOW_MS = 60_000;

interface WindowLease extends HeldPlaces {
  window: number;
  /** Requests admitted in the window that the shared count does not hold yet. */
  unreported: number;
  /** Requests this node admitted in the window. */
  admitted: number;
  /** The limit the places were taken under: a lower one (the plan changed) voids them. */
  limit: number;
  fetching?: Promise<void>;
}

/**
 * Requests per minute shared by every node through Redis: one budget per subject and minute
 * window, leased in blocks that shrink near the limit, so a request costs no round trip while the
 * node holds places. Redis lost: at most limit / expected nodes per window on this node, added to
 * the shared count when Redis returns; Redis back empty: each node adds what it admitted in the window.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #link: RedisLink;
  readonly #nodes: number;
  readonly #leases = new Map<string, WindowLease>();

  constructor(link: RedisLink, options: { expectedNodes?: number } = {}) {
    this.#link = link;
    this.#nodes = Math.max(1, options.expectedNodes ?? 2);
    link.onCountsLost(() => {
      // The window's counts are gone: the places held were counted there only, and everything
      // admitted in the window must be counted again.
      for (const lease of this.#leases.values()) {
        forgetHeld(lease);
        lease.unreported = lease.admitted;
      }
    });
  }

  take(subject: string, perMinute: number, nowMs: number): RateDecision | Promise<RateDecision> {
    const window = Math.floor(nowMs / WINDOW_MS);
    let lease = this.#leases.get(subject);
    if (!lease || lease.window !== window) {
      if (lease && lease.places > lease.local) void this.#giveBack(subject, lease);
      lease = { window, places: 0, local: 0, unreported: 0, admitted: 0, total: 0, limit: perMinute, exhausted: false };
      this.#leases.set(subject, lease);
    }
    // Places taken under a higher limit than now are given back: the count says how many are left.
    if (lease.places > 0 && perMinute < lease.limit) void this.#giveBack(subject, lease);
    // A place from the lease, no round trip (unless Redis is back and the local places must be reported first).
    if (lease.places > 0 && !(lease.local > 0 && this.#link.healthy)) return this.#decide(lease, perMinute, nowMs, true);
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
    lease.admitted++;
    if (lease.local > 0) {
      lease.local--;
      lease.unreported++;
    }
    return { allowed: true, limit: perMinute, remaining: Math.max(0, perMinute - lease.total) + lease.places, resetSeconds, retryAfterSeconds: 0 };
  }

  #key(subject: string, window: number): string {
    return `${this.#link.prefix}rate:${subject}:${window}`;
  }

  async #fetch(subject: string, lease: WindowLease, perMinute: number): Promise<void> {
    try {
      for (let attempt = 0; ; attempt++) {
        if (attempt === 3) throw new Error("Redis's epoch changed on every lease");
        const unreported = lease.unreported;
        const result = await this.#link.lease(this.#key(subject, lease.window), {
          seed: 0,
          limit: perMinute,
          maxBlock: 1000,
          divisor: 4 * this.#nodes,
          ttlSeconds: 120,
          unreported,
        });
        if (typeof result === 'string') continue; // 'again': Redis's epoch was new to this node; the lease is as it says now
        this.#link.markUp();
        // Back: what was admitted alone is in the shared count now; unused local places are dropped.
        lease.unreported -= unreported;
        lease.places -= lease.local;
        lease.local = 0;
        lease.places += result.taken;
        lease.total = result.total;
        lease.limit = perMinute;
        lease.exhausted = result.taken === 0;
        return;
      }
    } catch (error) {
      this.#link.markDown(error);
      // Conservative local share for the rest of the window: this node admits at most limit ÷ nodes
      // in it (what it admitted and the places it still holds included), and no more than the shared
      // count said was left when last known. A node that had leased in the window keeps serving too.
      const share = Math.max(1, Math.floor(perMinute / this.#nodes));
      const left = lease.total === 0 ? perMinute : Math.max(0, perMinute - lease.total);
      const granted = Math.max(0, Math.min(share - lease.admitted - lease.places, left));
      lease.places += granted;
      lease.local += granted;
      lease.total = perMinute;
      lease.limit = perMinute;
      lease.exhausted = lease.places === 0;
    }
  }

  /** The organisation's plan changed: the places this node holds go back, and the next request leases under the new limit. */
  release(subject: string): void {
    const lease = this.#leases.get(subject);
    if (lease && lease.places > 0) void this.#giveBack(subject, lease);
  }

  /** Places leased from Redis and not used go back to the window's count (local ones were never in it). */
  #giveBack(subject: string, lease: WindowLease): Promise<unknown> {
    return this.#link.giveBack(this.#key(subject, lease.window), lease);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#leases].map(([subject, lease]) => this.#giveBack(subject, lease)));
  }
}
