import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, operatorOf, signup, startTestApp, type TestApp } from './support/harness.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const compute = { data: [{ a: 1 }, { a: 2 }], expression: 'Sum(a)' };

/** A TCP proxy in front of the real Redis that the test can cut and restore (the machine's Redis keeps running). */
class CuttableProxy {
  #server?: net.Server;
  readonly #sockets = new Set<net.Socket>();
  port = 0;
  async open(): Promise<void> {
    const target = new URL(REDIS_URL);
    this.#server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
  }
  async cut(): Promise<void> {
    const server = this.#server;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

describe('limits shared through Redis by two nodes on one database (issue 12 item 4)', () => {
  const prefix = `bdoc-test-${process.pid}-${Date.now()}:`;
  const proxy = new CuttableProxy();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await proxy.open();
    a = await startTestApp({ env: { REDIS_URL, REDIS_PREFIX: prefix, LIMIT_NODES: '2' } });
    const shared: Record<string, string> = a.config.databaseUrl ? { DATABASE_URL: a.config.databaseUrl } : { DATA_DIR: a.dataDir };
    b = await startTestApp({
      env: { ...shared, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_PREFIX: prefix, LIMIT_NODES: '2', REDIS_TIMEOUT_MS: '200' },
    });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await proxy.cut();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  const post = (t: TestApp, secret: string) => t.app.inject({ method: 'POST', url: '/v1/data/compute', headers: { 'x-api-key': secret }, payload: compute });
  async function orgWithKey(name: string, utilityActionsPerMonth: number) {
    const admin = await signup(a, name);
    await a.services.orgs.setSubscription(operatorOf(admin.orgId), { plan: 'enterprise', overrides: { utilityActionsPerMonth, requestsPerMinute: 100_000 } });
    return { admin, key: await createKey(a, admin, { name: `prod-shared-flow-${utilityActionsPerMonth}` }) };
  }

  it('a quota of 10 admits exactly 10 across both nodes, interleaved and in concurrent bursts', async () => {
    const { key } = await orgWithKey('Shared Quota Ltd', 10);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(i % 2 ? b : a, key.secret)).statusCode);
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? b : a, key.secret)));
    statuses.push(...burst.map((r) => r.statusCode));
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 403)).toHaveLength(14);
    expect(burst.find((r) => r.statusCode === 403)!.json()).toMatchObject({ code: 'quota_exceeded', limit: 10 });
  });

  it('a rate limit of 60 per minute admits 60 across both nodes', async () => {
    const { admin } = await orgWithKey('Shared Rate Ltd', 10_000);
    await a.services.orgs.setSubscription(operatorOf(admin.orgId), { overrides: { requestsPerMinute: 60 } });
    const key = await createKey(a, admin, { name: 'prod-shared-rate-ops' });
    // The limit counts per minute window: start the burst well inside one.
    while (Date.now() % 60_000 > 55_000) await new Promise((resolve) => setTimeout(resolve, 250));
    const responses = await Promise.all(Array.from({ length: 90 }, (_, i) => post(i % 2 ? b : a, key.secret)));
    const statuses = responses.map((r) => r.statusCode);
    const admitted = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(admitted).toBe(60);
    expect(responses.find((r) => r.statusCode === 429)!.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('/readyz names Redis: ok while shared', async () => {
    for (const t of [a, b]) expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready', redis: 'ok' });
  });

  it('Redis lost → the node keeps serving within a local share, says degraded; back → shared again, usage complete', async () => {
    const { admin, key } = await orgWithKey('Redis Blink Ltd', 40);
    // Two requests shared normally, one on each node.
    expect((await post(a, key.secret)).statusCode).toBe(200);
    expect((await post(b, key.secret)).statusCode).toBe(200);
    await proxy.cut();
    // Node B can no longer reach Redis: it serves up to its share of what was left, no more.
    const offline: number[] = [];
    for (let i = 0; i < 30; i++) offline.push((await post(b, key.secret)).statusCode);
    const admittedOffline = offline.filter((s) => s === 200).length;
    expect(offline).not.toContain(500);
    expect(admittedOffline).toBeGreaterThan(0);
    expect(admittedOffline).toBeLessThanOrEqual(20);
    const ready = await b.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', redis: 'degraded' });
    expect(b.logs.text).toMatch(/Redis lost/);

    await proxy.open();
    // Back: B reconnects by itself and shares again.
    await expect.poll(async () => (await b.app.inject({ method: 'GET', url: '/readyz' })).json().redis, { timeout: 10_000, interval: 100 }).toBe('ok');
    const after: number[] = [];
    for (let i = 0; i < 60; i++) after.push((await post(i % 2 ? b : a, key.secret)).statusCode);
    const total = 2 + admittedOffline + after.filter((s) => s === 200).length;
    expect(total).toBe(40);

    await a.services.usage.flush();
    await b.services.usage.flush();
    const usage = (await a.app.inject({ method: 'GET', url: '/api/usage', headers: { cookie: admin.cookie } })).json();
    expect(usage.quotas.find((q: { actionType: string }) => q.actionType === 'utility')).toMatchObject({ used: 40, limit: 40 });
  });
});

describe('Redis unreachable at start', () => {
  it('the app refuses to start with a one-line message naming REDIS_URL', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(startTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_TIMEOUT_MS: '100' } })).rejects.toThrow(
      /^REDIS_URL: Redis is unreachable[^\n]*$/,
    );
  });
});
