import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../src/db/database.js';
import { runExclusive } from '../src/db/exclusive.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { callGateway, createKey, signup, startTestApp, type TestApp } from './support/harness.js';
import { type Pooler, startPgBouncer } from './support/pgbouncer.js';
import { createTestDatabase, onPostgres, type TestDatabase } from './support/postgres.js';

// PostgreSQL only: vitest.config.ts collects this file only under `npm run test:postgres`.
if (!onPostgres) throw new Error('test/pooler.test.ts needs PostgreSQL: run it with TEST_DATABASE=postgres (npm run test:postgres)');

/** Each of `count` transactions at once (so on `count` connections) reads a setting. */
async function settingOnConnections(t: TestApp, name: 'statement_timeout' | 'idle_in_transaction_session_timeout', count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      t.services.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ value: string }>`select current_setting(${name}) as value, pg_sleep(0.05)`.execute(trx);
        return rows[0]!.value;
      }),
    ),
  );
}

/** The listener's check waits this long for its NOTIFY (DATABASE_ANSWER_TIMEOUT_MS, default). */
const DEAF_CHECK_MS = 2000;
const DEAF = /the event listener heard no NOTIFY within \d+ ms of one sent to it/;

/** A key created on A works on B; revoked on A, it is refused on B within 2 s. */
async function keyCreatedThenRevoked(a: TestApp, b: TestApp, organisation: string): Promise<void> {
  const admin = await signup(a, organisation);
  const key = await createKey(a, admin, { name: 'prod-pooled-flow' });
  expect((await callGateway(b, key.secret)).statusCode).toBe(200);
  const revoked = await a.app.inject({ method: 'POST', url: `/api/keys/${key.id}/revoke`, headers: { cookie: admin.cookie, origin: 'http://portal.test' } });
  expect(revoked.statusCode).toBe(200);
  await expect.poll(async () => (await callGateway(b, key.secret)).json().code, { timeout: 2000, interval: 20 }).toBe('api_key_revoked');
}

describe('PostgreSQL behind a connection pooler (PgBouncer in session mode)', () => {
  let database: TestDatabase;
  let pooler: Pooler;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase('pooler');
    pooler = await startPgBouncer(database.url, 'session');
    const env = { DATABASE_URL: pooler.url, DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '54321' };
    a = await startTestApp({ env: { ...env, DATABASE_STATEMENT_TIMEOUT_MS: '4321' } });
    b = await startTestApp({ env: { ...env, DATABASE_STATEMENT_TIMEOUT_MS: '1500' } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await pooler?.stop();
    await database?.drop();
  });

  it('the nodes start through it (it refuses the startup parameters it does not know) and every connection has their timeouts', async () => {
    expect(await settingOnConnections(a, 'statement_timeout', 4)).toEqual(['4321ms', '4321ms', '4321ms', '4321ms']);
    expect(await settingOnConnections(a, 'idle_in_transaction_session_timeout', 4)).toEqual(['54321ms', '54321ms', '54321ms', '54321ms']);
    expect(await settingOnConnections(b, 'statement_timeout', 4)).toEqual(['1500ms', '1500ms', '1500ms', '1500ms']);
    for (const t of [a, b]) expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready', database: 'postgres' });
  });

  it('the event listener hears NOTIFY through it: no warning once its check had time to finish', async () => {
    await new Promise((resolve) => setTimeout(resolve, DEAF_CHECK_MS + 500));
    for (const t of [a, b]) expect(t.logs.text).not.toMatch(DEAF);
  });

  it('PostgreSQL ends a statement longer than DATABASE_STATEMENT_TIMEOUT_MS', async () => {
    const started = Date.now();
    const error = await sql`select pg_sleep(5)`.execute(b.services.db).then(
      () => undefined,
      (caught: unknown) => caught as { code?: string },
    );
    expect(error?.code).toBe('57014'); // query_canceled: statement timeout
    expect(Date.now() - started).toBeLessThan(4500);
  });

  it('a key created on A works on B, and a revocation on A is refused on B within 2 s', async () => {
    await keyCreatedThenRevoked(a, b, 'Pooled Ltd');
  });
});

describe('PostgreSQL behind a pooler in transaction mode (each statement may go to another server connection)', () => {
  let database: TestDatabase;
  let pooler: Pooler;
  const handles: DatabaseHandle[] = [];
  const nodes: TestApp[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('pooler_tx');
    pooler = await startPgBouncer(database.url, 'transaction');
  });
  afterAll(async () => {
    for (const t of nodes) await t.close();
    for (const handle of handles) await handle.db.destroy();
    await pooler?.stop();
    await database?.drop();
  });

  /** Advisory locks still held on the database, as PostgreSQL itself sees them (not through the pooler). */
  async function advisoryLocksHeld(): Promise<number> {
    const direct = openDatabase({ dataDir: '/nonexistent', databaseUrl: database.url });
    try {
      const { rows } = await sql<{
        held: string;
      }>`select count(*) as held from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`.execute(
        direct.db,
      );
      return Number(rows[0]!.held);
    } finally {
      await direct.db.destroy();
    }
  }

  it('four nodes migrating at once: one applies the migrations, the others find nothing to do, and no lock is left behind', async () => {
    for (let i = 0; i < 4; i++) handles.push(openDatabase({ dataDir: '/nonexistent', databaseUrl: pooler.url }));
    const applied = await Promise.all(handles.map((handle) => migrateToLatest(handle)));
    expect(applied.filter((names) => names.length > 0)).toHaveLength(1);
    expect(await advisoryLocksHeld()).toBe(0);
    // A later start finds nothing to do, and does not wait on a lock.
    expect(await migrateToLatest(handles[3]!)).toEqual([]);
  });

  it('a scheduled job runs on one node at a time, round after round: its lock never stays with a server connection', async () => {
    let running = 0;
    let most = 0;
    const job = async () => {
      running++;
      most = Math.max(most, running);
      // The job's own statements go through the pooler meanwhile.
      await sql`select pg_sleep(0.1)`.execute(handles[0]!.db);
      running--;
      return 'ran';
    };
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(handles.map((handle) => runExclusive(handle, 'sweeper', job)));
      expect(results.filter((r) => r === 'ran')).toHaveLength(1);
      expect(await advisoryLocksHeld()).toBe(0);
    }
    expect(most).toBe(1);
  });

  it('two nodes start through it; a key created on A works on B, and a revocation on A is refused on B within 2 s', async () => {
    nodes.push(...(await Promise.all([startTestApp({ env: { DATABASE_URL: pooler.url } }), startTestApp({ env: { DATABASE_URL: pooler.url } })])));
    const [a, b] = nodes as [TestApp, TestApp];
    await keyCreatedThenRevoked(a, b, 'Transaction Pooled Ltd');
    // LISTEN stays with the server connection it ran on: each node says it hears nothing, and why.
    for (const t of [a, b]) await expect.poll(() => t.logs.text, { timeout: DEAF_CHECK_MS + 3000, interval: 100 }).toMatch(DEAF);
    expect(a.logs.text).toMatch(
      /pooler in transaction mode\? Set DATABASE_LISTEN_URL to a direct connection to the database\): changes made on other nodes \(revocations too\) reach this node from the event log every 50 ms \(CHANGE_POLL_MS\)/,
    );
    expect(await advisoryLocksHeld()).toBe(0);
  });

  it('with DATABASE_LISTEN_URL (a direct connection for the event listener), each node hears the NOTIFY its check sends through the pooler', async () => {
    const env = { DATABASE_URL: pooler.url, DATABASE_LISTEN_URL: database.url };
    const listening = await Promise.all([startTestApp({ env }), startTestApp({ env })]);
    nodes.push(...listening);
    const [a, b] = listening as [TestApp, TestApp];
    await keyCreatedThenRevoked(a, b, 'Directly Listening Ltd');
    // The check's NOTIFY goes the way changes send theirs (DATABASE_URL, through the pooler): heard.
    await new Promise((resolve) => setTimeout(resolve, DEAF_CHECK_MS + 500));
    for (const t of [a, b]) expect(t.logs.text).not.toMatch(DEAF);
    expect(await advisoryLocksHeld()).toBe(0);
  });

  it('a DATABASE_LISTEN_URL that is not the database of DATABASE_URL hears nothing, and each node says so', async () => {
    const other = await createTestDatabase('pooler_tx_other');
    try {
      const node = await startTestApp({ env: { DATABASE_URL: pooler.url, DATABASE_LISTEN_URL: other.url } });
      nodes.push(node);
      await expect.poll(() => node.logs.text, { timeout: DEAF_CHECK_MS + 3000, interval: 100 }).toMatch(DEAF);
      expect(node.logs.text).toMatch(/DATABASE_LISTEN_URL goes through a pooler in transaction mode, or to another database than DATABASE_URL\?/);
      await node.close();
      nodes.splice(nodes.indexOf(node), 1);
    } finally {
      await other.drop();
    }
  });
});

describe('PostgreSQL directly', () => {
  let t: TestApp;
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('direct-timeouts');
    t = await startTestApp({ env: { DATABASE_URL: database.url, DATABASE_STATEMENT_TIMEOUT_MS: '2345', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '6789' } });
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('every connection has the configured timeouts', async () => {
    expect(await settingOnConnections(t, 'statement_timeout', 4)).toEqual(['2345ms', '2345ms', '2345ms', '2345ms']);
    expect(await settingOnConnections(t, 'idle_in_transaction_session_timeout', 4)).toEqual(['6789ms', '6789ms', '6789ms', '6789ms']);
  });
});
