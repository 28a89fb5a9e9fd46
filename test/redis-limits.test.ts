import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { PASSWORD, TEST_WEBHOOK_SECRET_KEY, createKey, operatorOf, signup, startTestApp, type TestApp } from './support/harness.js';
import { createTestDatabase, TEST_POSTGRES_URL } from './support/postgres.js';
import { freePort } from './support/processes.js';
import { CuttableProxy, REDIS_URL, dropRedisKeys } from './support/redis-proxy.js';

const compute = { data: [{ a: 1 }, { a: 2 }], expression: 'Sum(a)' };

const through = (proxy: CuttableProxy) => `redis://127.0.0.1:${proxy.port}`;

/**
 * Two nodes on one database sharing their limits through Redis at `redisA` and `redisB` (the
 * machine's Redis, or a proxy the test can cut). A generous Redis timeout on both: a busy machine
 * can stall the event loop past a short one, and a node that times out counts alone for a
 * moment; these tests cut Redis on purpose instead.
 */
async function twoNodes(prefix: string, redisA: string, redisB: string, env: Record<string, string> = {}): Promise<[TestApp, TestApp]> {
  const common = { REDIS_PREFIX: prefix, LIMIT_NODES: '2', REDIS_TIMEOUT_MS: '2000', ...env };
  const a = await startTestApp({ env: { ...common, REDIS_URL: redisA } });
  const shared: Record<string, string> = a.config.databaseUrl ? { DATABASE_URL: a.config.databaseUrl } : { DATA_DIR: a.dataDir };
  try {
    return [a, await startTestApp({ env: { ...common, ...shared, REDIS_URL: redisB } })];
  } catch (error) {
    await a.close();
    throw error;
  }
}

describe('limits shared through Redis by two nodes on one database (issue 12 item 4)', () => {
  const prefix = `bdoc-test-${process.pid}-${Date.now()}:`;
  const proxy = new CuttableProxy();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await proxy.open();
    [a, b] = await twoNodes(prefix, REDIS_URL, through(proxy));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await proxy.cut();
    await dropRedisKeys(prefix);
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
    // Its share: the places of its block (at most 40 / (4 × LIMIT_NODES) = 5), then half of what
    // the shared count it last saw left. That count includes A's block when A leased through Redis
    // first (then at most 3 + 15 = 18); it may not, when A met a slow Redis and counted its first
    // request alone (then 4 + 17 = 21). Together the nodes stay within 40 (below).
    expect(admittedOffline).toBeLessThanOrEqual(5 + 20);
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
  it('a plan change heard while Redis is lost: the places B held go back once it returns, none lost (40 in all)', async () => {
    const { admin, key } = await orgWithKey('Plan Change Offline Ltd', 40);
    // B leases a block (5 of 40) and uses 1: it holds 4.
    expect((await post(b, key.secret)).statusCode).toBe(200);
    await proxy.cut();
    await expect.poll(async () => (await b.app.inject({ method: 'GET', url: '/readyz' })).json().redis, { timeout: 10_000, interval: 50 }).toBe('degraded');
    // The plan changes (the quota stays 40): B gives back what it leased under the old plan, while it cannot reach Redis.
    await a.services.orgs.setSubscription(operatorOf(admin.orgId), {
      plan: 'enterprise',
      overrides: { utilityActionsPerMonth: 40, requestsPerMinute: 100_001 },
    });
    await expect.poll(async () => (await b.services.cache.org(admin.orgId))?.plan.requestsPerMinute, { timeout: 5000, interval: 50 }).toBe(100_001);
    await proxy.open();
    await expect.poll(async () => (await b.app.inject({ method: 'GET', url: '/readyz' })).json().redis, { timeout: 10_000, interval: 100 }).toBe('ok');
    // The 4 places went back to the count (not lost with the connection): A uses them, B has none left to use.
    await expect
      .poll(async () => (await a.app.inject({ method: 'GET', url: '/v1/connection', headers: { 'x-api-key': key.secret } })).json().utilityActionsLeft, {
        timeout: 5000,
        interval: 50,
      })
      .toBe(39);
    const onA = (await Promise.all(Array.from({ length: 45 }, () => post(a, key.secret)))).filter((r) => r.statusCode === 200).length;
    const onB = (await Promise.all(Array.from({ length: 5 }, () => post(b, key.secret)))).filter((r) => r.statusCode === 200).length;
    expect(1 + onA + onB).toBe(40);
  });
});

describe('Redis back after counting alone, or back empty: every place admitted is counted once', () => {
  const prefix = `bdoc-test-back-${process.pid}-${Date.now()}:`;
  // Both nodes reach Redis through a proxy of their own: one can be cut alone, or both at once
  // while Redis loses every count, as a Redis restarted without persistence does.
  const proxyA = new CuttableProxy();
  const proxyB = new CuttableProxy();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await proxyA.open();
    await proxyB.open();
    [a, b] = await twoNodes(prefix, through(proxyA), through(proxyB));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await proxyA.cut();
    await proxyB.cut();
    await dropRedisKeys(prefix);
  });

  const post = (t: TestApp, secret: string) => t.app.inject({ method: 'POST', url: '/v1/data/compute', headers: { 'x-api-key': secret }, payload: compute });
  const admittedOf = async (requests: Array<Promise<{ statusCode: number }>>) => {
    const statuses = (await Promise.all(requests)).map((r) => r.statusCode);
    expect(statuses.filter((s) => s !== 200 && s !== 403 && s !== 429)).toEqual([]);
    return statuses.filter((s) => s === 200).length;
  };
  const sequentially = async (count: number, node: (i: number) => TestApp, secret: string) => {
    let admitted = 0;
    for (let i = 0; i < count; i++) admitted += (await admittedOf([post(node(i), secret)])) as number;
    return admitted;
  };
  const redisState =
    (...nodes: TestApp[]) =>
    async (state: 'ok' | 'degraded') => {
      for (const t of nodes)
        await expect.poll(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).json().redis, { timeout: 10_000, interval: 100 }).toBe(state);
    };
  /** What each node logged about Redis, to say how a count that is off came about. */
  const redisLog = () =>
    [a, b]
      .map(
        (t, i) =>
          `${'AB'[i]}: ${t.logs.lines
            .map((line) => JSON.parse(line).msg as string)
            .filter((msg) => /Redis/.test(msg))
            .join(' | ')}`,
      )
      .join('\n');
  /**
   * Redis restarted without persistence, as both nodes see it: both connections drop, every count
   * is gone, both come back. `aloneOnA` runs with A back and B not yet (answering what A admitted).
   */
  async function redisRestartedEmpty(aloneOnA?: () => Promise<number>): Promise<number> {
    await proxyA.cut();
    await proxyB.cut();
    await redisState(a, b)('degraded');
    await dropRedisKeys(prefix);
    await proxyA.open();
    let admitted = 0;
    if (aloneOnA) {
      await redisState(a)('ok');
      admitted = await aloneOnA();
    }
    await proxyB.open();
    await redisState(a, b)('ok');
    return admitted;
  }
  async function orgWithKey(name: string, limits: { utilityActionsPerMonth: number; requestsPerMinute: number }) {
    const admin = await signup(a, name);
    await a.services.orgs.setSubscription(operatorOf(admin.orgId), { plan: 'enterprise', overrides: limits });
    return { admin, key: await createKey(a, admin, { name: `prod-back-flow-${limits.requestsPerMinute}` }) };
  }
  /**
   * These tests count one minute window of the rate limit: each starts with at least 20 s of one
   * ahead (so it may wait up to 40 s: its timeout allows for that).
   */
  const WINDOW_TEST_TIMEOUT_MS = 90_000;
  async function earlyInAWindow() {
    while (Date.now() % 60_000 > 40_000) await new Promise((resolve) => setTimeout(resolve, 250));
    return Math.floor(Date.now() / 60_000);
  }

  it('a rate limit of 60: what B admitted alone joins the shared count when Redis returns (60 in the window, not 90)', {
    timeout: WINDOW_TEST_TIMEOUT_MS,
  }, async () => {
    const { key } = await orgWithKey('Back Alone Ltd', { utilityActionsPerMonth: 100_000, requestsPerMinute: 60 });
    const window = await earlyInAWindow();
    await proxyB.cut();
    await redisState(b)('degraded');
    const alone = await sequentially(40, () => b, key.secret);
    expect(alone).toBe(30); // its share: 60 / LIMIT_NODES
    await proxyB.open();
    await redisState(b)('ok');
    const after = await admittedOf(Array.from({ length: 90 }, (_, i) => post(i % 2 ? b : a, key.secret)));
    expect(Math.floor(Date.now() / 60_000)).toBe(window);
    expect(alone + after, redisLog()).toBe(60);
  });

  it('a rate limit of 60: Redis goes silent (a black hole) after B leased in the window; B serves its share of the window without a round trip per request, then shares again once Redis answers', {
    timeout: WINDOW_TEST_TIMEOUT_MS,
  }, async () => {
    const { key } = await orgWithKey('Silent Redis Ltd', { utilityActionsPerMonth: 100_000, requestsPerMinute: 60 });
    const window = await earlyInAWindow();
    const before = await sequentially(10, (i) => (i % 2 ? b : a), key.secret);
    expect(before).toBe(10);
    proxyB.freeze();
    // B's lease runs out, its next lease gets no answer (REDIS_TIMEOUT_MS): Redis is lost. B admitted
    // 5 in the window; its share is 60 / LIMIT_NODES = 30, so 25 more, the rest refused.
    const alone = await sequentially(40, () => b, key.secret);
    expect(alone).toBe(25);
    // Once lost, no request waits on Redis: the 40 requests sent it at most the lease that found it
    // silent; besides, B's watch (every 4 s here) sends a probe and, finding the connection silent,
    // reconnects (one handshake command per attempt). One held write per request would be 40.
    expect(proxyB.held).toBeLessThanOrEqual(6);
    proxyB.thaw();
    await redisState(b)('ok');
    const after = await admittedOf(Array.from({ length: 90 }, (_, i) => post(i % 2 ? b : a, key.secret)));
    expect(Math.floor(Date.now() / 60_000)).toBe(window);
    // The lease B sent as Redis went silent reaches it on the thaw and takes a block no node holds
    // (at most 60 / (4 × LIMIT_NODES) places): the window admits 60 less that block, never more than 60.
    expect(before + alone + after).toBeLessThanOrEqual(60);
    expect(before + alone + after).toBeGreaterThanOrEqual(60 - Math.ceil(60 / 8));
  });

  it("B's connection goes silent while new ones are answered (a failover that moved Redis's address, a dropped flow): B reconnects by itself and shares again", {
    timeout: 60_000,
  }, async () => {
    const { key } = await orgWithKey('Silent Flow Redis Ltd', { utilityActionsPerMonth: 40, requestsPerMinute: 100_000 });
    // B leases places of the quota in small blocks (40 / (4 × LIMIT_NODES) = 5): it soon asks Redis again.
    expect(await sequentially(2, () => b, key.secret)).toBe(2);
    const lostBefore = b.logs.text.split('\n').filter((line) => /Redis lost/.test(line)).length;
    proxyB.freezeOpen();
    // The lease that finds the connection silent waits REDIS_TIMEOUT_MS (2 s here), then B counts alone.
    const alone = await sequentially(8, () => b, key.secret);
    expect(alone).toBeGreaterThan(0);
    expect(b.logs.text.split('\n').filter((line) => /Redis lost/.test(line)).length).toBe(lostBefore + 1);
    // Nobody thaws the old connection: B's watch finds it silent, reconnects, and the new connection answers.
    await expect.poll(async () => (await b.app.inject({ method: 'GET', url: '/readyz' })).json().redis, { timeout: 30_000, interval: 200 }).toBe('ok');
    // Shared again: what B admitted alone joined the count; the two nodes together never pass 40.
    const after = await admittedOf(Array.from({ length: 60 }, (_, i) => post(i % 2 ? b : a, key.secret)));
    // Redis answered every command of the new connection: B did not count alone again (a node
    // that does admits its share of what it last saw left, and the two could pass 40).
    expect(b.logs.text.split('\n').filter((line) => /Redis lost/.test(line)).length).toBe(lostBefore + 1);
    expect(2 + alone + after).toBeLessThanOrEqual(40);
    proxyB.thaw();
  });

  it('a rate limit of 60: Redis back empty in the middle of a window, each node counts again what it admitted (60 in the window)', {
    timeout: WINDOW_TEST_TIMEOUT_MS,
  }, async () => {
    const { key } = await orgWithKey('Back Empty Rate Ltd', { utilityActionsPerMonth: 100_000, requestsPerMinute: 60 });
    const window = await earlyInAWindow();
    const before = await sequentially(20, (i) => (i % 2 ? b : a), key.secret);
    expect(before).toBe(20);
    await redisRestartedEmpty();
    const after = await admittedOf(Array.from({ length: 90 }, (_, i) => post(i % 2 ? b : a, key.secret)));
    expect(Math.floor(Date.now() / 60_000)).toBe(window);
    expect(before + after, redisLog()).toBe(60);
    expect(a.logs.text).toMatch(/Redis lost its shared counts/);
  });

  it('a rate limit of 60: Redis back empty and its epoch made again by the node that made the old one; the other node still sees the counts were lost (60 in the window)', {
    timeout: WINDOW_TEST_TIMEOUT_MS,
  }, async () => {
    // First A makes Redis's epoch: back alone after a loss, its lease finds none and makes one.
    const maker = await orgWithKey('Epoch Maker Ltd', { utilityActionsPerMonth: 100_000, requestsPerMinute: 60 });
    expect(await redisRestartedEmpty(() => sequentially(1, () => a, maker.key.secret))).toBe(1);
    const { key } = await orgWithKey('Epoch Again Ltd', { utilityActionsPerMonth: 100_000, requestsPerMinute: 60 });
    const window = await earlyInAWindow();
    const before = await sequentially(20, (i) => (i % 2 ? b : a), key.secret);
    expect(before).toBe(20);
    const lossesSeenByB = () => b.logs.text.match(/Redis lost its shared counts/g)?.length ?? 0;
    const seen = lossesSeenByB();
    // Lost again; A, back first, makes the next epoch before B looks at Redis's.
    const alone = await redisRestartedEmpty(() => sequentially(10, () => a, key.secret));
    expect(alone).toBe(10);
    const after = await admittedOf(Array.from({ length: 90 }, (_, i) => post(i % 2 ? b : a, key.secret)));
    expect(Math.floor(Date.now() / 60_000)).toBe(window);
    expect(before + alone + after, redisLog()).toBe(60);
    expect(lossesSeenByB()).toBe(seen + 1);
  });

  it('a lower quota applies at once on both nodes: the places each node holds beyond it are not used (20 in all)', async () => {
    const { admin, key } = await orgWithKey('Quota Lowered Ltd', { utilityActionsPerMonth: 1000, requestsPerMinute: 100_000 });
    expect(await sequentially(10, (i) => (i % 2 ? b : a), key.secret)).toBe(10);
    // Each node now holds a block of places leased under the limit of 1,000.
    await a.services.orgs.setSubscription(operatorOf(admin.orgId), { overrides: { utilityActionsPerMonth: 20, requestsPerMinute: 100_000 } });
    for (const t of [a, b]) {
      const left = async () => (await t.app.inject({ method: 'GET', url: '/v1/connection', headers: { 'x-api-key': key.secret } })).json().utilityActionsLeft;
      await expect.poll(left, { timeout: 5000, interval: 50 }).toBe(10);
    }
    expect(await sequentially(30, (i) => (i % 2 ? b : a), key.secret)).toBe(10);
  });

  it('a lower rate limit applies at once on both nodes, within the window (20 in the minute)', { timeout: WINDOW_TEST_TIMEOUT_MS }, async () => {
    const { admin, key } = await orgWithKey('Rate Lowered Ltd', { utilityActionsPerMonth: 100_000, requestsPerMinute: 10_000 });
    const window = await earlyInAWindow();
    expect(await sequentially(10, (i) => (i % 2 ? b : a), key.secret)).toBe(10);
    await a.services.orgs.setSubscription(operatorOf(admin.orgId), { overrides: { utilityActionsPerMonth: 100_000, requestsPerMinute: 20 } });
    // Both nodes have heard of the change (their cached organisation says so), without a request that would count.
    for (const t of [a, b]) {
      const perMinute = async () => (await t.services.cache.org(admin.orgId))?.plan.requestsPerMinute;
      await expect.poll(perMinute, { timeout: 5000, interval: 50 }).toBe(20);
    }
    const after = await sequentially(40, (i) => (i % 2 ? b : a), key.secret);
    expect(Math.floor(Date.now() / 60_000)).toBe(window);
    expect(after).toBe(10);
  });

  it('a quota of 40: Redis back empty, the count starts again from the database, and the places the nodes held are not used (40 in all)', async () => {
    const { admin, key } = await orgWithKey('Back Empty Quota Ltd', { utilityActionsPerMonth: 40, requestsPerMinute: 100_000 });
    const before = await sequentially(10, (i) => (i % 2 ? b : a), key.secret);
    expect(before).toBe(10);
    // Each node now holds places leased from the count that is about to be lost.
    await a.services.usage.flush();
    await b.services.usage.flush();
    await redisRestartedEmpty();
    // The connection test tells what is left from the database's count, not from the emptied lease.
    for (const t of [a, b]) {
      const check = await t.app.inject({ method: 'GET', url: '/v1/connection', headers: { 'x-api-key': key.secret } });
      expect(check.json()).toMatchObject({ utilityActionsLeft: 30 });
    }
    const after = await admittedOf(Array.from({ length: 60 }, (_, i) => post(i % 2 ? b : a, key.secret)));
    expect(before + after, redisLog()).toBe(40);

    await a.services.usage.flush();
    await b.services.usage.flush();
    const usage = (await a.app.inject({ method: 'GET', url: '/api/usage', headers: { cookie: admin.cookie } })).json();
    expect(usage.quotas.find((q: { actionType: string }) => q.actionType === 'utility')).toMatchObject({ used: 40, limit: 40 });
  });
});

describe('quota places held by a node that stops without closing (killed, crashed, cut off)', () => {
  const prefix = `bdoc-test-holders-${process.pid}-${Date.now()}:`;
  // A short holder TTL: a silent node's places are given back after 1.5 s, and it stops using them after 0.75 s.
  const env = { REDIS_HOLDER_TTL_MS: '1500' };
  const proxyB = new CuttableProxy();
  const redis = new Redis(REDIS_URL);
  const opened: TestApp[] = [];
  afterAll(async () => {
    for (const t of opened) await t.close();
    await proxyB.cut();
    await dropRedisKeys(prefix);
    await redis.quit();
  });

  const post = (t: TestApp, secret: string) => t.app.inject({ method: 'POST', url: '/v1/data/compute', headers: { 'x-api-key': secret }, payload: compute });
  const admitted = async (count: number, t: TestApp, secret: string) => {
    let ok = 0;
    for (let i = 0; i < count; i++) {
      const { statusCode } = await post(t, secret);
      expect([200, 403]).toContain(statusCode);
      if (statusCode === 200) ok++;
    }
    return ok;
  };
  const redisOf = (t: TestApp) => async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).json().redis;
  /** The shared count of the organisation's utility actions this period, and what it holds in `t`'s name. */
  async function countOf(orgId: string, t?: TestApp): Promise<{ count: number; held: number | null }> {
    const [key] = await redis.keys(`${prefix}quota:${orgId}:*:utility`);
    const held = key && t ? await redis.hget(`${key}:held`, t.services.redis!.nodeId) : null;
    return { count: Number(key ? await redis.get(key) : 0), held: held ? Number(held) : null };
  }

  /**
   * Node A on Redis itself and node B through a proxy; an organisation with a quota of 40. B
   * leases a block (5 of 40 with two nodes), uses 3 of it and says so (within 50 ms); then B is cut off from
   * Redis, holding 2 places in its name.
   */
  async function bCutOffHoldingTwo(organisation: string) {
    await proxyB.open();
    const [a, b] = await twoNodes(prefix, REDIS_URL, through(proxyB), env);
    opened.push(a, b);
    const admin = await signup(a, organisation);
    await a.services.orgs.setSubscription(operatorOf(admin.orgId), {
      plan: 'enterprise',
      overrides: { utilityActionsPerMonth: 40, requestsPerMinute: 100_000 },
    });
    const { secret } = await createKey(a, admin, { name: 'prod-holder-flow' });
    expect(await admitted(3, b, secret)).toBe(3);
    await expect.poll(async () => (await countOf(admin.orgId, b)).held, { timeout: 5000, interval: 20 }).toBe(2);
    await proxyB.cut();
    await expect.poll(redisOf(b), { timeout: 10_000, interval: 50 }).toBe('degraded');
    return { a, b, orgId: admin.orgId, secret };
  }
  const givenBack = (t: TestApp) =>
    expect.poll(() => t.logs.text, { timeout: 10_000, interval: 100 }).toContain('gave back 2 quota places held by a node that stopped without closing');

  it('a node stops without giving its places back: another node gives them back after REDIS_HOLDER_TTL_MS, and the quota of 40 admits 40', async () => {
    const { a, b, orgId, secret } = await bCutOffHoldingTwo('Killed Node Ltd');
    // B stops cut off: it cannot give back the 2 places it holds, as a killed node cannot.
    await b.close();
    await givenBack(a);
    expect(await admitted(45, a, secret)).toBe(37);
    // The shared count holds every place used, none twice.
    expect((await countOf(orgId)).count).toBe(40);
    await a.close();
  });

  it('a node cut off past REDIS_HOLDER_TTL_MS stops using its places, which another node gave back; once back, the quota of 40 still admits 40', async () => {
    const { a, b, orgId, secret } = await bCutOffHoldingTwo('Cut Off Node Ltd');
    await givenBack(a);
    await proxyB.open();
    await expect.poll(redisOf(b), { timeout: 10_000, interval: 50 }).toBe('ok');

    // The 2 places B held were given back once: A uses them, and B, back, does not use them too.
    expect(await admitted(45, a, secret)).toBe(37);
    expect(await admitted(5, b, secret)).toBe(0);
    expect((await countOf(orgId)).count).toBe(40);

    // Closing normally, a node leaves nothing held in its name.
    const nodeId = b.services.redis!.nodeId;
    await b.close();
    expect(await redis.sismember(`${prefix}holders`, nodeId)).toBe(0);
    expect(await redis.exists(`${prefix}held-by:${nodeId}`, `${prefix}node:${nodeId}`)).toBe(0);
  });
});

describe('sign-in and sign-up throttling shared through Redis by two nodes', () => {
  const prefix = `bdoc-test-throttle-${process.pid}-${Date.now()}:`;
  const proxy = new CuttableProxy();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await proxy.open();
    // Only the cut below may make a node count alone.
    [a, b] = await twoNodes(prefix, REDIS_URL, through(proxy), { SIGNUPS_PER_IP_PER_HOUR: '5' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await proxy.cut();
    await dropRedisKeys(prefix);
  });

  let ip = 0;
  /** Every attempt from its own address: these tests are about the account's count. */
  const signin = (t: TestApp, email: string, password: string, cookie?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/signin',
      payload: { email, password },
      remoteAddress: `192.0.2.${(ip++ % 250) + 1}`,
      ...(cookie ? { headers: { cookie } } : {}),
    });
  const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

  it('25 wrong passwords at once over both nodes: exactly 10 are checked (401), the rest are 429 on either node', async () => {
    const admin = await signup(a, 'Shared Throttle Ltd');
    const known = await signin(a, admin.email, PASSWORD);
    expect(known.statusCode).toBe(200);
    const device = `bdoc_device=${known.cookies.find((c) => c.name === 'bdoc_device')!.value}`;

    const attempts = await Promise.all(Array.from({ length: 25 }, (_, i) => signin(i % 2 ? b : a, admin.email, `wrong password ${i}`)));
    const statuses = attempts.map((r) => r.statusCode);
    expect(count(statuses, 401)).toBe(10);
    expect(count(statuses, 429)).toBe(15);
    // Both nodes refused some: the count is one, not one per node.
    expect(
      count(
        statuses.filter((_, i) => i % 2 === 0),
        429,
      ),
    ).toBeGreaterThan(0);
    expect(
      count(
        statuses.filter((_, i) => i % 2 === 1),
        429,
      ),
    ).toBeGreaterThan(0);
    for (const r of attempts.filter((r) => r.statusCode === 429)) expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);

    // Locked on both nodes for a browser it does not know; the browser that signed in before still gets in, on either node.
    expect((await signin(b, admin.email, PASSWORD)).statusCode).toBe(429);
    expect((await signin(a, admin.email, PASSWORD)).statusCode).toBe(429);
    expect((await signin(b, admin.email, PASSWORD, device)).statusCode).toBe(200);
  });

  it('sign-ups from one address are counted across both nodes (SIGNUPS_PER_IP_PER_HOUR 5 admits 5)', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? b : a).app.inject({
          method: 'POST',
          url: '/api/auth/signup',
          payload: { email: `signup-${i}-${Date.now()}@example.test`, password: PASSWORD, name: 'Sam', organisation: 'Probe Ltd' },
          remoteAddress: '198.51.100.77',
        }),
      ),
    );
    const statuses = attempts.map((r) => r.statusCode);
    expect(count(statuses, 201)).toBe(5);
    expect(count(statuses, 429)).toBe(3);
  });

  it('Redis lost → the node throttles alone with half the limit, says so, keeps serving; back → counted together again', async () => {
    const admin = await signup(a, 'Throttle Blink Ltd');
    await proxy.cut();
    const offline = [];
    for (let i = 0; i < 8; i++) offline.push((await signin(b, admin.email, `wrong password ${i}`)).statusCode);
    // Its conservative share: 10 / LIMIT_NODES = 5 checked, then refused; never a 500.
    expect(offline).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect((await b.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready', redis: 'degraded' });
    expect(b.logs.text).toMatch(/Redis lost \(.+\): limits and sign-in throttling fall back/);

    await proxy.open();
    await expect.poll(async () => (await b.app.inject({ method: 'GET', url: '/readyz' })).json().redis, { timeout: 10_000, interval: 100 }).toBe('ok');
    // Shared again: one count over both nodes, of 10 (the attempts B counted alone stayed on B).
    const attempts = await Promise.all(Array.from({ length: 14 }, (_, i) => signin(i % 2 ? b : a, admin.email, `wrong again ${i}`)));
    const statuses = attempts.map((r) => r.statusCode);
    expect(count(statuses, 401)).toBe(10);
    expect(count(statuses, 429)).toBe(4);
  });

  it('once Redis is known lost, sign-ins send it nothing (no wait on a silent Redis): failures count locally, a success resets locally', async () => {
    const admin = await signup(a, 'Silent Throttle Ltd');
    const redisState = () => b.app.inject({ method: 'GET', url: '/readyz' }).then((r) => r.json().redis);
    proxy.freeze();
    try {
      // The first attempt finds Redis silent (no answer within REDIS_TIMEOUT_MS): lost, counted locally.
      expect((await signin(b, admin.email, 'wrong password 1')).statusCode).toBe(401);
      expect(await redisState()).toBe('degraded');
      const held = proxy.held;
      expect((await signin(b, admin.email, 'wrong password 2')).statusCode).toBe(401);
      expect((await signin(b, admin.email, PASSWORD)).statusCode).toBe(200);
      // Nothing of sign-in throttling was sent to the silent Redis since: neither the failure nor the
      // reset after the success (the watch's own probe may be among what was held).
      expect(proxy.heldText(held).filter((command) => command.includes(':throttle:'))).toEqual([]);
    } finally {
      proxy.thaw();
    }
    await expect.poll(redisState, { timeout: 10_000, interval: 100 }).toBe('ok');
  });
});

describe('a Redis that answers but refuses writes (a read-only replica after a failover, out of memory)', () => {
  const prefix = `bdoc-test-readonly-${process.pid}-${Date.now()}:`;
  // B signs in to Redis as a user of its own, whose right to write the test takes away and gives back.
  const user = `bdoc-test-${process.pid}-${Date.now()}`;
  const admin = new Redis(REDIS_URL, { lazyConnect: true });
  const mayWrite = (yes: boolean) => admin.acl('SETUSER', user, yes ? '+@write' : '-@write');
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await admin.connect();
    await admin.acl('SETUSER', user, 'reset', 'on', '>not-a-secret', `~${prefix}*`, '+@all');
    const asUser = new URL(REDIS_URL);
    asUser.username = user;
    asUser.password = 'not-a-secret';
    [a, b] = await twoNodes(prefix, REDIS_URL, asUser.toString());
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await admin.acl('DELUSER', user);
    await dropRedisKeys(prefix);
    await admin.quit();
  });

  const lines = (t: TestApp, pattern: RegExp) => t.logs.text.split('\n').filter((line) => pattern.test(line));
  const redisState = (t: TestApp) => t.app.inject({ method: 'GET', url: '/readyz' }).then((r) => r.json().redis);

  it('B counts alone and says why, once, and stays so while Redis only answers (no back and forth every watch); writes allowed again → shared again', {
    timeout: 40_000,
  }, async () => {
    const owner = await signup(a, 'Read Only Redis Ltd');
    await a.services.orgs.setSubscription(operatorOf(owner.orgId), {
      plan: 'enterprise',
      overrides: { utilityActionsPerMonth: 40, requestsPerMinute: 100_000 },
    });
    const key = await createKey(a, owner, { name: 'prod-read-only-flow' });
    const call = () => b.app.inject({ method: 'POST', url: '/v1/data/compute', headers: { 'x-api-key': key.secret }, payload: compute });
    expect((await call()).statusCode).toBe(200);

    await mayWrite(false);
    // Two of B's Redis watches (every 2 × REDIS_TIMEOUT_MS: 4 s) pass with calls coming; Redis answers every ping meanwhile.
    const statuses: number[] = [];
    for (const until = Date.now() + 9000; Date.now() < until; ) {
      statuses.push((await call()).statusCode);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Served from B's local share of the quota (20 of 40), then refused as over quota: never a fault.
    expect(statuses.filter((s) => s !== 200 && s !== 403)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(await redisState(b)).toBe('degraded');
    const lost = lines(b, /Redis lost/);
    expect(lost).toHaveLength(1);
    // Redis's own refusal, as the script met it (the wording varies with the version).
    expect(lost[0]).toMatch(/Redis lost \((NOPERM|ERR) [^)]*(permission|can't run)/);
    expect(lines(b, /Redis back/)).toEqual([]);

    await mayWrite(true);
    await expect.poll(() => redisState(b), { timeout: 10_000, interval: 100 }).toBe('ok');
    expect(lines(b, /Redis back/)).toHaveLength(1);
  });
});

describe('Redis unreachable at start', () => {
  it('the app refuses to start with a one-line message naming REDIS_URL', async () => {
    await expect(startTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_TIMEOUT_MS: '100' } })).rejects.toThrow(
      /^REDIS_URL: Redis is unreachable[^\n]*$/,
    );
  });

  it('a refused start closes the database connections it opened, so the process can exit at once', async () => {
    const database = await createTestDatabase('refused_start');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bdoc-refused-'));
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    const name = new URL(database.url).pathname.slice(1);
    const connections = async () => Number((await admin.query('select count(*) as n from pg_stat_activity where datname = $1', [name])).rows[0].n);
    try {
      const config = loadConfig({
        DATABASE_URL: database.url,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY,
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        REDIS_TIMEOUT_MS: '100',
      });
      // The migrations ran on the pool before Redis was asked: its clients were connected.
      await expect(buildApp({ config })).rejects.toThrow(/^REDIS_URL: Redis is unreachable/);
      expect(await connections()).toBe(0);
    } finally {
      await admin.end();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
