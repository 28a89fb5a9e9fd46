/** The answer of one rate-limit check, with what the `RateLimit-*` headers say. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the full allowance is back. */
  resetSeconds: number;
  /** Seconds to wait before the next request is allowed (0 when allowed). */
  retryAfterSeconds: number;
}

/**
 * Requests per minute per subject (an organisation). In memory here; the scale-out work puts
 * the same algorithm in Redis behind this interface so every node shares one allowance.
 */
export interface RateLimiter {
  /** Synchronous except when a shared limiter must fetch a new lease. */
  take(subject: string, perMinute: number, nowMs: number): RateDecision | Promise<RateDecision>;
  /** The subject's limit changed: drop what this node holds for it (a shared limiter's leased places). */
  release?(subject: string): void;
  close?(): Promise<void>;
}

const WINDOW_MS = 60_000;

/**
 * GCRA (the generic cell rate algorithm): one "theoretical arrival time" per subject. It
 * allows a burst of the whole minute's allowance and then exactly one request every
 * 60 s / limit — smooth, with no fixed-minute boundary to game. O(1) time and memory.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #tat = new Map<string, number>();
  #lastSweep = 0;

  take(subject: string, perMinute: number, nowMs: number): RateDecision {
    const interval = WINDOW_MS / perMinute;
    const tat = Math.max(this.#tat.get(subject) ?? nowMs, nowMs);
    const next = tat + interval;
    const allowAt = next - WINDOW_MS;
    if (nowMs < allowAt) {
      return {
        allowed: false,
        limit: perMinute,
        remaining: 0,
        resetSeconds: Math.ceil((tat - nowMs) / 1000),
        retryAfterSeconds: Math.max(1, Math.ceil((allowAt - nowMs) / 1000)),
      };
    }
    this.#tat.set(subject, next);
    this.#sweep(nowMs);
    return {
      allowed: true,
      limit: perMinute,
      remaining: Math.max(0, Math.floor((nowMs + WINDOW_MS - next) / interval)),
      resetSeconds: Math.ceil((next - nowMs) / 1000),
      retryAfterSeconds: 0,
    };
  }

  /** Forgets subjects whose allowance is full again, once a minute, so the map stays small. */
  #sweep(nowMs: number): void {
    if (nowMs - this.#lastSweep < WINDOW_MS) return;
    this.#lastSweep = nowMs;
    for (const [subject, tat] of this.#tat) if (tat <= nowMs) this.#tat.delete(subject);
  }
}
