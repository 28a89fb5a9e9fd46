import { Redis } from 'ioredis';
import { ConfigError } from '../config.js';

/**
 * Takes up to a block of places from the shared budget of one period, atomically. The budget
 * starts from the database's count (ARGV[1]) the first time any node sees the period. The block
 * shrinks near the limit (a share of what is left per node), so a limit of 10 admits exactly 10.
 * Returns {places taken, total taken by every node}.
 */
const LEASE = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5]) end
local taken = tonumber(redis.call('GET', KEYS[1]))
local left = tonumber(ARGV[2]) - taken
if left <= 0 then return {0, taken} end
local block = math.max(1, math.min(tonumber(ARGV[3]), math.floor(left / tonumber(ARGV[4]))))
return {block, redis.call('INCRBY', KEYS[1], block)}
`;

/**
 * Counts one attempt in a sliding window (a sorted set of attempt times), atomically: drops the
 * attempts older than the window, then either refuses (the subject is at its limit: returns the
 * seconds until the oldest attempt that counts leaves the window) or adds this attempt and returns 0.
 * KEYS[1] the subject's set; ARGV: now (ms), window (ms), limit, a unique member for this attempt.
 */
const ATTEMPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  return math.max(1, math.ceil((tonumber(oldest[2]) + window - now) / 1000))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;

/**
 * The one Redis connection a node shares its limits through. It reports whether Redis is
 * reachable (`healthy`) and logs a loss and a recovery once each, not per failed call.
 */
export class RedisLink {
  readonly client: Redis;
  readonly prefix: string;
  #healthy = true;
  #connected = false;
  log: (level: 'warn' | 'info', message: string) => void = () => {};

  constructor(url: string, options: { prefix?: string; timeoutMs?: number } = {}) {
    this.prefix = options.prefix ?? 'bdoc:';
    const timeoutMs = options.timeoutMs ?? 500;
    this.client = new Redis(url, {
      lazyConnect: true,
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs * 4,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.client.defineCommand('bdocLease', { numberOfKeys: 1, lua: LEASE });
    this.client.defineCommand('bdocAttempt', { numberOfKeys: 1, lua: ATTEMPT });
    this.client.on('error', () => this.markDown());
    this.client.on('ready', () => this.markUp());
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Connects once at start; rejects with a one-line message naming REDIS_URL. */
  async connect(): Promise<void> {
    try {
      await this.client.connect();
      await this.client.ping();
      this.#connected = true;
    } catch (error) {
      this.client.disconnect();
      throw new ConfigError(`REDIS_URL: Redis is unreachable (${(error as Error).message})`);
    }
  }

  /** Takes up to a block of places from the shared budget at `key`: [places taken, total taken by every node]. */
  lease(key: string, o: { seed: number; limit: number; maxBlock: number; divisor: number; ttlSeconds: number }): Promise<[number, number]> {
    const client = this.client as unknown as { bdocLease(...args: (string | number)[]): Promise<[number, number]> };
    return client.bdocLease(key, o.seed, o.limit, o.maxBlock, o.divisor, o.ttlSeconds);
  }

  /** Counts an attempt at `key` unless it is at `limit` within the window: 0, or the seconds to wait. */
  attempt(key: string, o: { nowMs: number; windowMs: number; limit: number; member: string }): Promise<number> {
    const client = this.client as unknown as { bdocAttempt(...args: (string | number)[]): Promise<number> };
    return client.bdocAttempt(key, o.nowMs, o.windowMs, o.limit, o.member);
  }

  markDown(): void {
    if (!this.#healthy || !this.#connected) return;
    this.#healthy = false;
    this.log('warn', 'Redis lost: limits and sign-in throttling fall back to a conservative local share until it returns');
  }

  markUp(): void {
    if (this.#healthy) return;
    this.#healthy = true;
    this.log('info', 'Redis back: limits and sign-in throttling are shared again');
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
