import { Redis } from 'ioredis';
import { ConfigError } from '../config.js';

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

  markDown(): void {
    if (!this.#healthy || !this.#connected) return;
    this.#healthy = false;
    this.log('warn', 'Redis lost: limits fall back to a conservative local share until it returns');
  }

  markUp(): void {
    if (this.#healthy) return;
    this.#healthy = true;
    this.log('info', 'Redis back: limits are shared again');
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
