import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterAdmin, type ClusterNode, gatewayStatus, manage, setSubscription, signupOn, startNode } from './support/cluster.js';
import { createTestDatabase, onPostgres, TEST_POSTGRES_URL, type TestDatabase } from './support/postgres.js';
import { CuttableProxy, dropRedisKeys, REDIS_URL } from './support/redis-proxy.js';

const PASSWORD = 'correct horse battery staple';
const compute = { data: [{ a: 1 }, { a: 2 }], expression: 'Sum(a)' };

/** Runs one statement as the PostgreSQL superuser, outside the nodes' pools. */
async function asSuperuser<T extends pg.QueryResultRow = pg.QueryResultRow>(databaseUrl: string, statement: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(statement, values)).rows;
  } finally {
    await client.end();
  }
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

// Several nodes need PostgreSQL: vitest.config.ts collects this file only under `npm run test:postgres`.
if (!onPostgres) throw new Error('test/cluster-limits.test.ts needs PostgreSQL: run it with TEST_DATABASE=postgres (npm run test:postgres)');
describe('two node processes on one PostgreSQL database and one Redis: limits hold across both', () => {
  const prefix = `bdoc-test-cluster-${process.pid}-${Date.now()}:`;
  // Node B reaches Redis through a proxy the test can cut; node A directly.
  const proxy = new CuttableProxy();
  let database: TestDatabase;
  let a: ClusterNode;
  let b: ClusterNode;

  beforeAll(async () => {
    await proxy.open();
    database = await createTestDatabase('cluster_limits');
    const common = {
      REDIS_PREFIX: prefix,
      LIMIT_NODES: '2',
      USAGE_FLUSH_MS: '100',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      // Every request comes from 127.0.0.1: the sign-in tests name their address in X-Forwarded-For.
      TRUST_PROXY: 'true',
      SIGNUPS_PER_IP_PER_HOUR: '1000',
      // A node whose event loop stalls past the Redis timeout (the first requests of a process on a
      // busy machine) counts alone for a moment; these tests cut Redis on purpose instead.
      REDIS_TIMEOUT_MS: '2000',
    };
    [a, b] = await Promise.all([
      startNode({ databaseUrl: database.url, env: { ...common, REDIS_URL }, timeoutMs: 60_000 }),
      startNode({ databaseUrl: database.url, env: { ...common, REDIS_URL: `redis://127.0.0.1:${proxy.port}` }, timeoutMs: 60_000 }),
    ]);
  }, 90_000);

  afterAll(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
    await proxy.cut();
    await dropRedisKeys(prefix);
    expect(codes, `${a?.output()}\n${b?.output()}`).toEqual([0, 0]);
  }, 60_000);

  /** A new organisation on the Enterprise plan with the given subscription flags, and one key. */
  async function orgWithKey(name: string, flags: string[]): Promise<{ admin: ClusterAdmin; email: string; secret: string; keyId: string }> {
    const admin = await signupOn(a.url, name);
    await setSubscription(database.url, admin.orgId, ['--plan', 'enterprise', ...flags]);
    const created = await manage(a.url, admin, 'POST', '/api/keys', { name: `prod-${name.toLowerCase().replace(/\W+/g, '-')}-ops` });
    expect(created.status).toBe(201);
    return { admin, email: admin.email, secret: created.json.secret, keyId: created.json.key.id };
  }

  const computeOn = async (node: ClusterNode, secret: string) => {
    const response = await fetch(`${node.url}/v1/data/compute`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify(compute),
    });
    await response.arrayBuffer();
    return response.status;
  };
  const readyz = async (node: ClusterNode) => (await fetch(`${node.url}/readyz`)).json() as Promise<{ status: string; redis: string }>;

  it('a quota of 10 admits exactly 10 across both nodes, in concurrent bursts on both', async () => {
    const { secret } = await orgWithKey('Quota Ten', ['--utility-actions', '10', '--requests-per-minute', '100000']);
    const first = await Promise.all(Array.from({ length: 12 }, (_, i) => computeOn(i % 2 ? b : a, secret)));
    const second = await Promise.all(Array.from({ length: 12 }, (_, i) => computeOn(i % 2 ? b : a, secret)));
    const statuses = [...first, ...second];
    expect(count(statuses, 200)).toBe(10);
    expect(count(statuses, 403)).toBe(14);
  });

  it('a rate limit of 30 per minute admits 30 across both nodes', async () => {
    const { secret } = await orgWithKey('Rate Thirty', ['--requests-per-minute', '30']);
    // The shared limit counts per minute window: start the burst well inside one.
    while (Date.now() % 60_000 > 50_000) await new Promise((resolve) => setTimeout(resolve, 250));
    const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => gatewayStatus((i % 2 ? b : a).url, secret)));
    expect(count(statuses, 200)).toBe(30);
    expect(count(statuses, 429)).toBe(20);
  });

  it('sign-in throttling holds across both nodes: 25 wrong passwords over A and B, exactly 10 answered 401, the rest 429', async () => {
    const { email } = await orgWithKey('Throttle Ten', []);
    const attempt = async (node: ClusterNode, i: number) => {
      const response = await fetch(`${node.url}/api/auth/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `192.0.2.${i + 1}` },
        body: JSON.stringify({ email, password: `wrong password ${i}` }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    const statuses = await Promise.all(Array.from({ length: 25 }, (_, i) => attempt(i % 2 ? b : a, i)));
    expect(count(statuses, 401)).toBe(10);
    expect(count(statuses, 429)).toBe(15);
    // The right password from a new browser now waits on both nodes too.
    for (const node of [a, b]) {
      const right = await fetch(`${node.url}/api/auth/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.9' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      expect(right.status).toBe(429);
    }
  });

  it('the key limit is exact across both nodes: 12 concurrent creates on A and B at a limit of 5 make 5 keys', async () => {
    const { admin } = await orgWithKey('Key Limit Five', ['--max-keys', '5']);
    // One key exists already (orgWithKey): four places are left.
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => (await manage((i % 2 ? b : a).url, admin, 'POST', '/api/keys', { name: `prod-limit-${i}-ops` })).status),
    );
    expect(count(statuses, 201)).toBe(4);
    expect(count(statuses, 403)).toBe(8);
    const listed = await manage(b.url, admin, 'GET', '/api/keys');
    expect(listed.json.items).toHaveLength(5);
  });

  it('Redis unreachable from B: B keeps serving within a local share, /readyz says degraded; back: shared again, usage complete', async () => {
    const { admin, secret } = await orgWithKey('Redis Blink', ['--utility-actions', '40', '--requests-per-minute', '100000']);
    expect(await computeOn(a, secret)).toBe(200);
    expect(await computeOn(b, secret)).toBe(200);

    await proxy.cut();
    const offline: number[] = [];
    for (let i = 0; i < 30; i++) offline.push(await computeOn(b, secret));
    const admittedOffline = count(offline, 200);
    // Its conservative share of the 38 left is 19; nothing else than admitted or over quota.
    expect(admittedOffline).toBeGreaterThan(0);
    expect(admittedOffline).toBeLessThanOrEqual(19);
    expect(count(offline, 200) + count(offline, 403)).toBe(30);
    expect(await readyz(b)).toMatchObject({ status: 'ready', redis: 'degraded' });
    expect(await readyz(a)).toMatchObject({ status: 'ready', redis: 'ok' });
    expect(b.output()).toMatch(/Redis lost/);

    await proxy.open();
    await expect.poll(async () => (await readyz(b)).redis, { timeout: 15_000, interval: 100 }).toBe('ok');
    const after: number[] = [];
    for (let i = 0; i < 60; i++) after.push(await computeOn(i % 2 ? b : a, secret));
    expect(2 + admittedOffline + count(after, 200)).toBe(40);

    // Every admitted call is counted once the nodes have flushed.
    await expect
      .poll(async () => (await manage(a.url, admin, 'GET', '/api/usage')).json.quotas.find((q: { actionType: string }) => q.actionType === 'utility')?.used, {
        timeout: 10_000,
        interval: 100,
      })
      .toBe(40);
  });

  it('database connections terminated and refused: both nodes live, writes answer 503, cached keys are served, usage complete after recovery', async () => {
    const { admin, secret, keyId } = await orgWithKey('Database Blink', ['--requests-per-minute', '100000']);
    // Both nodes hold the key (the creation's change may drop a first entry: ask until it stays).
    for (const node of [a, b]) expect(await gatewayStatus(node.url, secret)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const node of [a, b]) expect(await gatewayStatus(node.url, secret)).toBe(200);
    let answered = 4;

    const name = new URL(database.url).pathname.slice(1);
    await asSuperuser(TEST_POSTGRES_URL, `ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    try {
      await asSuperuser(TEST_POSTGRES_URL, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      for (const node of [a, b]) {
        const during = await Promise.all(Array.from({ length: 20 }, () => gatewayStatus(node.url, secret)));
        expect(during).toEqual(Array(20).fill(200));
        answered += 20;
        const write = await fetch(`${node.url}/api/keys`, {
          method: 'POST',
          headers: { cookie: admin.cookie, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'prod-during-outage-ops' }),
        });
        expect(write.status).toBe(503);
        expect(Number(write.headers.get('retry-after'))).toBeGreaterThan(0);
        expect((await fetch(`${node.url}/readyz`)).status).toBe(503);
      }
    } finally {
      await asSuperuser(TEST_POSTGRES_URL, `ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    }

    // Both processes lived through it and answer writes again; the usage kept in memory is written.
    for (const node of [a, b]) {
      await expect.poll(async () => (await fetch(`${node.url}/readyz`)).status, { timeout: 15_000, interval: 200 }).toBe(200);
      expect((await manage(node.url, admin, 'POST', '/api/keys', { name: 'prod-after-outage-ops' })).status).toBe(201);
    }
    const counted = async () =>
      Number(
        (
          await asSuperuser<{ used: string | null }>(database.url, "SELECT sum(count) AS used FROM key_usage_daily WHERE key_id = $1 AND outcome = 'success'", [
            keyId,
          ])
        )[0]?.used ?? 0,
      );
    await expect.poll(counted, { timeout: 15_000, interval: 200 }).toBe(answered);
  }, 90_000);
});
