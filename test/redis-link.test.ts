import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LeaseRequest, RedisLink } from '../src/limits/redis-link.js';
import { CuttableProxy, REDIS_URL, dropRedisKeys } from './support/redis-proxy.js';

/** Keeps the event loop busy for `ms`, as a long collection or a synchronous write does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const lease: LeaseRequest = { seed: 0, limit: 1000, maxBlock: 10, divisor: 4, ttlSeconds: 60, unreported: 0 };

describe('the Redis link of a node (issue 12 item 4)', () => {
  const prefix = `bdoc-test-link-${process.pid}-${Date.now()}:`;
  const admin = new Redis(REDIS_URL, { lazyConnect: true });
  const links: RedisLink[] = [];
  const proxies: CuttableProxy[] = [];
  async function linkTo(url: string): Promise<RedisLink> {
    const link = new RedisLink(url, { prefix, timeoutMs: 200 });
    links.push(link);
    await link.connect();
    // The first lease meets Redis's epoch (and loads the script): the next ones take places.
    expect(await link.lease(`${prefix}quota:first`, lease)).toBe('again');
    return link;
  }

  beforeAll(() => admin.connect());
  afterAll(async () => {
    await Promise.all(links.map((link) => link.close()));
    await Promise.all(proxies.map((proxy) => proxy.cut()));
    await dropRedisKeys(prefix);
    await admin.quit();
  });

  it('an answer that waited behind a busy event loop is an answer: Redis is not taken as lost', async () => {
    const link = await linkTo(REDIS_URL);
    const key = `${prefix}quota:busy`;
    const logged: string[] = [];
    link.log = (_level, message) => logged.push(message);
    // Sent, then the node is busy three times REDIS_TIMEOUT_MS (200 ms) while Redis answers at once:
    // the timers are due before the answers are read.
    const leased = link.lease(key, lease);
    const counted = link.count(key);
    busy(600);
    expect(await leased).toEqual({ taken: 10, total: 10, returned: false });
    expect(await counted).toBe('10');
    expect(link.healthy).toBe(true);
    expect(logged).toEqual([]);
  });

  it('a command with no answer still fails after REDIS_TIMEOUT_MS', async () => {
    const proxy = new CuttableProxy();
    proxies.push(proxy);
    await proxy.open();
    const link = await linkTo(`redis://127.0.0.1:${proxy.port}`);
    proxy.freeze();
    const started = performance.now();
    await expect(link.count(`${prefix}quota:first`)).rejects.toThrow('Command timed out');
    expect(performance.now() - started).toBeLessThan(2000);
    proxy.thaw();
  });

  it('a lease that got no answer on a silent connection is not run later on the next one (it would take places no node holds)', async () => {
    const proxy = new CuttableProxy();
    proxies.push(proxy);
    await proxy.open();
    const link = await linkTo(`redis://127.0.0.1:${proxy.port}`);
    const key = `${prefix}quota:silent`;
    expect(await link.lease(key, lease)).toEqual({ taken: 10, total: 10, returned: false });

    proxy.freezeOpen();
    const heldBefore = proxy.held;
    const error = await link.lease(key, lease).then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error?.message).toBe('Command timed out');
    // The lease went into the silent connection: it is among what the proxy holds.
    expect(proxy.heldText(heldBefore).join('')).toContain(key);
    // As a holder does on a failed lease; the watch then finds the connection silent and opens another.
    link.markDown(error);
    expect(link.healthy).toBe(false);
    await expect.poll(() => link.healthy, { timeout: 10_000, interval: 50 }).toBe(true);

    // The count is what the answered lease left: the unanswered one was not sent again.
    expect(await admin.get(key)).toBe('10');
    expect(await link.lease(key, lease)).toEqual({ taken: 10, total: 20, returned: false });
    proxy.thaw();
  });
});
