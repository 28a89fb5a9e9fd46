import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { callGateway, createKey, operatorOf, signup, startTestApp, type TestApp } from './support/harness.js';
import { sqliteRoomVerdict } from '../src/db/heartbeat.js';
import { asSuperuser, createTestDatabase, onPostgres } from './support/postgres.js';
import { CuttableProxy } from './support/redis-proxy.js';

function databaseName(t: TestApp): string {
  return new URL(t.config.databaseUrl!).pathname.slice(1);
}

async function usageCount(t: TestApp, keyId: string): Promise<number> {
  const rows = await t.services.db.selectFrom('keyUsageDaily').select('count').where('keyId', '=', keyId).where('outcome', '=', 'success').execute();
  return rows.reduce((sum, row) => sum + row.count, 0);
}

/** Ends every connection to the test's database but the caller's (as a restart or an administrator would). */
const endConnections = (t: TestApp) =>
  asSuperuser('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [databaseName(t)]);

/** Sessions opened from now on are read-only (`on`) or not, as on a server that turned read-only in a failover. */
const setReadOnly = (t: TestApp, on: boolean) =>
  asSuperuser(`ALTER DATABASE "${databaseName(t)}" ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);

/** A fresh database and a proxy in front of it that the test can freeze; `throughProxy` is its URL through the proxy. */
async function databaseBehindProxy(name: string) {
  const database = await createTestDatabase(name);
  const proxy = new CuttableProxy(database.url);
  await proxy.open();
  const url = new URL(database.url);
  url.port = String(proxy.port);
  return { database, proxy, throughProxy: url.toString() };
}

if (onPostgres) {
  describe('PostgreSQL goes away and comes back', () => {
    let current: TestApp | undefined;
    afterEach(async () => {
      if (current) await asSuperuser(`ALTER DATABASE "${databaseName(current)}" ALLOW_CONNECTIONS true`).catch(() => {});
      await current?.close();
      current = undefined;
    });

    it('terminated connections and refused new ones: the process lives, writes answer 503 with Retry-After, cached keys are served, usage is complete after recovery', async () => {
      const t = await startTestApp({ env: { USAGE_FLUSH_MS: '100', DATABASE_CONNECT_TIMEOUT_MS: '1000' } });
      current = t;
      const owner = await signup(t, 'Outage Ltd');
      const { id, secret } = await createKey(t, owner, { name: 'prod-outage-flow-ops' });
      expect((await callGateway(t, secret)).statusCode).toBe(200);
      // The creation's change reaches this node's feed (and drops the entry); the next call caches the key again.
      await new Promise((resolve) => setTimeout(resolve, 4 * t.config.changePollMs));
      expect((await callGateway(t, secret)).statusCode).toBe(200);
      await t.services.usage.flush();

      const name = databaseName(t);
      await asSuperuser(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      await endConnections(t);

      // The verified key answers from the node's cache while the database is gone.
      const during = await Promise.all(Array.from({ length: 20 }, () => callGateway(t, secret)));
      expect(
        during.map((r) => r.statusCode),
        during[0]!.body,
      ).toEqual(Array(20).fill(200));

      // A write (and the session lookup before it) answers 503 unavailable, never 500; each time, but logged once.
      for (let i = 0; i < 5; i++) {
        const write = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: owner.cookie }, payload: { name: 'prod-during-outage-ops' } });
        expect(write.statusCode, write.body).toBe(503);
        expect(write.json()).toMatchObject({ code: 'unavailable' });
        expect(Number(write.headers['retry-after'])).toBeGreaterThan(0);
      }
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().reason).toBeTruthy();

      // Flushes fail meanwhile and keep their counts (checked below: nothing is missing after recovery).
      await expect(t.services.usage.flush()).rejects.toThrow();

      // The parts that retry by themselves (the event-log reader polls every 50 ms here, the
      // pool lost every connection) each logged the outage once, not once per retry.
      const logged = (message: string) => t.logs.lines.filter((line) => JSON.parse(line).msg === message).length;
      await expect.poll(() => logged('reading the event log failed; retrying'), { timeout: 5000, interval: 50 }).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 10 * t.config.changePollMs));
      expect(logged('reading the event log failed; retrying')).toBe(1);
      expect(logged('database connection lost; the pool reconnects')).toBe(1);
      expect(logged('database unavailable: answered 503')).toBe(1);
      // Each by the error's message and code: the driver's stack says nothing of the outage.
      const warnings = t.logs.lines.map((line) => JSON.parse(line)).filter((line) => line.level >= 40 && line.err);
      expect(warnings.length).toBeGreaterThanOrEqual(3);
      for (const warning of warnings) expect(typeof warning.err === 'string' && !warning.err.includes('\n    at '), JSON.stringify(warning)).toBe(true);
      expect(warnings.find((line) => line.msg === 'database connection lost; the pool reconnects').err).toBe(
        '57P01: terminating connection due to administrator command',
      );

      await asSuperuser(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
      await t.services.usage.flush();
      expect(await usageCount(t, id)).toBe(22);
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      const after = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: owner.cookie }, payload: { name: 'prod-after-outage-ops' } });
      expect(after.statusCode, after.body).toBe(201);
      // One line says the outage is over, with how long it lasted and the five writes it refused.
      const back = () => t.logs.lines.map((line) => JSON.parse(line)).filter((line) => /^database reachable again/.test(line.msg));
      expect(back()).toHaveLength(1);
      expect(back()[0]).toMatchObject({
        level: 30,
        answered503: 5,
        msg: expect.stringMatching(/^database reachable again after \d+\.\d s, 5 requests answered 503$/),
      });
      expect(back()[0].downSeconds).toBeGreaterThan(0);
      await t.app.inject({ method: 'GET', url: '/api/keys', headers: { cookie: owner.cookie } });
      expect(back()).toHaveLength(1);
      expect(t.logs.text).not.toContain(secret);
    });

    it('a database that stops answering (a black hole: connections open, nothing comes back): requests that need it answer 503 instead of waiting, cached keys are served, and all is back with no usage lost once it answers', async () => {
      const { database, proxy, throughProxy } = await databaseBehindProxy('black_hole');
      try {
        const t = await startTestApp({ env: { DATABASE_URL: throughProxy, DATABASE_ANSWER_TIMEOUT_MS: '300' } });
        current = t;
        const owner = await signup(t, 'Black Hole Ltd');
        const cached = await createKey(t, owner, { name: 'prod-cached-flow-ops' });
        const uncached = await createKey(t, owner, { name: 'prod-uncached-flow-ops' });
        expect((await callGateway(t, cached.secret)).statusCode).toBe(200);
        // The creations' changes reach this node's feed (and drop the entry); the next call caches the key again.
        await new Promise((resolve) => setTimeout(resolve, 4 * t.config.changePollMs));
        expect((await callGateway(t, cached.secret)).statusCode).toBe(200);
        await t.services.usage.flush();
        // A statement slower than the answer timeout on a database that answers is left to finish.
        const slow = await sql<{ done: number }>`select 1 as done from pg_sleep(1)`.execute(t.services.db);
        expect(slow.rows).toEqual([{ done: 1 }]);

        proxy.freeze();
        // Neither TCP nor PostgreSQL's statement timeout would end these waits for many minutes.
        const [unknownKey, portal, ready] = await Promise.all([
          callGateway(t, uncached.secret),
          t.app.inject({ method: 'GET', url: '/api/keys', headers: { cookie: owner.cookie } }),
          t.app.inject({ method: 'GET', url: '/readyz' }),
        ]);
        for (const answer of [unknownKey, portal, ready]) {
          expect(answer.statusCode, answer.body).toBe(503);
          expect(answer.json()).toMatchObject({ code: 'unavailable' });
          expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
        }
        const during = await Promise.all(Array.from({ length: 10 }, () => callGateway(t, cached.secret)));
        expect(during.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
        const logged = (message: string) => t.logs.lines.filter((line) => JSON.parse(line).msg === message).length;
        expect(logged('the database is not answering; requests that need it answer 503 until it does')).toBe(1);

        proxy.thaw();
        await expect.poll(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, { timeout: 10_000, interval: 100 }).toBe(200);
        expect(t.logs.lines.filter((line) => /^database reachable again after \d+\.\d s, \d+ requests? answered 503$/.test(JSON.parse(line).msg))).toHaveLength(
          1,
        );
        expect((await callGateway(t, uncached.secret)).statusCode).toBe(200);
        await t.services.usage.flush();
        expect(await usageCount(t, cached.id)).toBe(12);
        expect(await usageCount(t, uncached.id)).toBe(1);
      } finally {
        await current?.close();
        current = undefined;
        await proxy.cut();
        await database.drop();
      }
    });

    it('connections gone silent while the database answers on new ones (a failover to another server, dropped flows): their queries answer 503 in about the answer timeout, not at the statement timeout, and new connections take over', async () => {
      const { database, proxy, throughProxy } = await databaseBehindProxy('silent_flows');
      try {
        const t = await startTestApp({ env: { DATABASE_URL: throughProxy, DATABASE_ANSWER_TIMEOUT_MS: '1000', DATABASE_POOL_MAX: '3' } });
        current = t;
        const owner = await signup(t, 'Silent Flows Ltd');
        const portal = () => t.app.inject({ method: 'GET', url: '/api/keys', headers: { cookie: owner.cookie } });
        // The pool holds connections opened before the cut.
        expect((await Promise.all([portal(), portal(), portal()])).map((r) => r.statusCode)).toEqual([200, 200, 200]);

        proxy.freezeOpen();
        // Each request may meet one of those: it gets no answer, and the node learns on a new
        // connection that the database is not running its query; the statement timeout is 30 s.
        const statuses: number[] = [];
        for (let i = 0; i < 6 && statuses.at(-1) !== 200; i++) {
          const answer = await Promise.race([portal(), new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 10_000))]);
          if (answer === 'still waiting') throw new Error('a request on a silent connection was still waiting after 10 s');
          if (answer.statusCode !== 200) {
            expect(answer.statusCode, answer.body).toBe(503);
            expect(answer.json()).toMatchObject({ code: 'unavailable' });
            expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
          }
          statuses.push(answer.statusCode);
        }
        expect(statuses.at(-1)).toBe(200);
        expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
        // The database kept answering: never taken as away.
        expect(t.logs.lines.filter((line) => JSON.parse(line).msg?.startsWith('the database is not answering'))).toEqual([]);
      } finally {
        await current?.close();
        current = undefined;
        proxy.thaw();
        await proxy.cut();
        await database.drop();
      }
    });

    it('a read-only database: /readyz is 503 naming the reason, writes answer 503, reads still work', async () => {
      const t = await startTestApp();
      current = t;
      const owner = await signup(t, 'Read Only Ltd');
      await setReadOnly(t, true);
      await endConnections(t);

      // The pool may first meet a connection that was just terminated (ECONNRESET, also 503);
      // once it has reconnected, the reason is the read-only database.
      let ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      for (let i = 0; i < 50 && !/^25006/.test(ready.json().reason ?? ''); i++) {
        expect(ready.statusCode).toBe(503);
        await new Promise((resolve) => setTimeout(resolve, 100));
        ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      }
      expect(ready.statusCode).toBe(503);
      expect(ready.json().reason).toMatch(/^25006/);
      const write = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: owner.cookie }, payload: { name: 'prod-read-only-ops' } });
      expect(write.statusCode, write.body).toBe(503);
      expect(write.headers['retry-after']).toBeDefined();
      const read = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { cookie: owner.cookie } });
      expect(read.statusCode, read.body).toBe(200);

      await setReadOnly(t, false);
      await endConnections(t);
      // Again the first probe may meet a terminated connection (503); the pool then reconnects to a writable database.
      let back = await t.app.inject({ method: 'GET', url: '/readyz' });
      for (let i = 0; i < 50 && back.statusCode !== 200; i++) {
        expect(back.statusCode).toBe(503);
        await new Promise((resolve) => setTimeout(resolve, 100));
        back = await t.app.inject({ method: 'GET', url: '/readyz' });
      }
      expect(back.statusCode, back.body).toBe(200);
      // /readyz reconnected one of the pool's connections; a write may still meet another that was
      // terminated (503 with Retry-After, as a client is told to retry), never a 500.
      const writeAgain = () =>
        t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: owner.cookie }, payload: { name: 'prod-writable-again-ops' } });
      let written = await writeAgain();
      for (let i = 0; i < 10 && written.statusCode === 503; i++) {
        expect(written.headers['retry-after']).toBeDefined();
        written = await writeAgain();
      }
      expect(written.statusCode, written.body).toBe(201);
    });

    it('connections that met a read-only server are replaced, so writes work again once the database is writable, with no one ending them (a failover leaves a pool on the demoted primary)', async () => {
      const t = await startTestApp();
      current = t;
      const owner = await signup(t, 'Failover Ltd');
      await setReadOnly(t, true);
      await endConnections(t);
      // Reads at once fill the pool with connections opened while the database was read-only.
      const reads = await Promise.all(Array.from({ length: 8 }, () => t.app.inject({ method: 'GET', url: '/api/keys', headers: { cookie: owner.cookie } })));
      expect(reads.map((r) => r.statusCode).filter((s) => s !== 200 && s !== 503)).toEqual([]);
      await expect
        .poll(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).json().reason ?? '', { timeout: 5000, interval: 100 })
        .toMatch(/^25006/);

      // Writable again; the node's connections are left as they are (a session keeps the read-only
      // default it started with, as a connection to a demoted primary keeps meeting a read-only server).
      await setReadOnly(t, false);
      await expect.poll(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, { timeout: 5000, interval: 100 }).toBe(200);
      // Writes at once: each connection still read-only fails one write (503, Retry-After) and is
      // replaced; no 500, and the next round is all written.
      const writeRound = () =>
        Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: owner.cookie }, payload: { name: `prod-failover-${i}-${Date.now()}` } }),
          ),
        );
      const first = await writeRound();
      for (const r of first.filter((r) => r.statusCode !== 201)) {
        expect(r.statusCode, r.body).toBe(503);
        expect(r.headers['retry-after']).toBeDefined();
      }
      const second = await writeRound();
      expect(second.map((r) => r.statusCode)).toEqual(Array(8).fill(201));
    });
  });
} else {
  describe('SQLite locked by another process, or full', () => {
    let current: TestApp | undefined;
    let other: SQLite.Database | undefined;
    afterEach(async () => {
      if (other?.inTransaction) other.exec('ROLLBACK');
      other?.close();
      other = undefined;
      await current?.close();
      current = undefined;
    });

    it('a write lock held elsewhere: cached keys answer at once, writes wait then answer 503 with Retry-After, usage is written after', async () => {
      const t = await startTestApp({ env: { SQLITE_LOCK_WAIT_MS: '400', USAGE_FLUSH_MS: '100' } });
      current = t;
      const owner = await signup(t, 'Locked Ltd');
      const { id, secret } = await createKey(t, owner, { name: 'prod-locked-flow-ops' });
      expect((await callGateway(t, secret)).statusCode).toBe(200);
      await t.services.usage.flush();

      // Another connection (as the CLI or a backup would) takes the write lock and keeps it.
      other = new SQLite(t.dbFile);
      other.exec('BEGIN IMMEDIATE');

      // The event loop is free: the cached key answers while a write waits for the lock.
      const write = t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: owner.cookie }, payload: { name: 'prod-while-locked-ops' } });
      const started = performance.now();
      const cached = await callGateway(t, secret);
      const cachedMs = performance.now() - started;
      expect(cached.statusCode).toBe(200);
      expect(cachedMs).toBeLessThan(300);

      const refused = await write;
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.json()).toMatchObject({ code: 'unavailable' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);

      other.exec('ROLLBACK');
      await t.services.usage.flush();
      expect(await usageCount(t, id)).toBe(2);
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      const after = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: owner.cookie }, payload: { name: 'prod-after-lock-ops' } });
      expect(after.statusCode, after.body).toBe(201);
    });

    it('a write that finds no room answers 503, not 500 (SQLite rolls such a transaction back itself, and the rollback after it must not hide why); cached keys are served; usage is written once there is room', async () => {
      const t = await startTestApp({ env: { USAGE_FLUSH_MS: '100' } });
      current = t;
      const owner = await signup(t, 'Full Disk Ltd');
      await t.services.orgs.setSubscription(operatorOf(owner.orgId), { plan: 'enterprise' }); // no key limit
      const { id, secret } = await createKey(t, owner, { name: 'prod-full-disk-ops' });
      expect((await callGateway(t, secret)).statusCode).toBe(200);
      await t.services.usage.flush();

      // No page more than the file holds, and the room left in them filled: as on a full disk,
      // SQLITE_FULL on the next write that needs room.
      await sql`create table disk_filler (v text)`.execute(t.services.db);
      const pages = (await sql<{ pageCount: number }>`pragma page_count`.execute(t.services.db)).rows[0]!.pageCount;
      expect(pages).toBeGreaterThan(0);
      await sql.raw(`pragma max_page_count = ${pages}`).execute(t.services.db);
      for (let size = 4000; size >= 1; size = Math.floor(size / 2)) {
        while (
          await sql`insert into disk_filler values (${'x'.repeat(size)})`.execute(t.services.db).then(
            () => true,
            () => false,
          )
        );
      }
      const createAnother = (i: number) =>
        t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: owner.cookie }, payload: { name: `prod-full-disk-${i}-ops` } });
      try {
        // Rows may still fit in the room their tables' pages have; one of these writes finds none.
        let refused = await createAnother(0);
        for (let i = 1; i < 100 && refused.statusCode === 201; i++) refused = await createAnother(i);
        expect(refused.statusCode, refused.body).toBe(503);
        expect(refused.json()).toMatchObject({ code: 'unavailable' });
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        // The operator's log says why (the client is told to retry).
        expect(t.logs.text).toMatch(/SQLITE_FULL: database or disk is full/);
        const during = await Promise.all(Array.from({ length: 5 }, () => callGateway(t, secret)));
        expect(during.map((r) => r.statusCode)).toEqual(Array(5).fill(200));
        expect(t.logs.text).not.toContain('cannot rollback');
        // Not ready while no write can find room, though the heartbeat row is updated in place.
        const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
        expect(ready.statusCode, ready.body).toBe(503);
        expect(ready.json()).toMatchObject({ code: 'unavailable', reason: expect.stringContaining('max_page_count') });
      } finally {
        await sql.raw('pragma max_page_count = 1073741823').execute(t.services.db);
      }
      await t.services.usage.flush();
      expect(await usageCount(t, id)).toBe(6);
      expect((await createAnother(100)).statusCode).toBe(201);
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    });

    // A full disk cannot be made in a test without mounting one (checked by hand on a 3 MB tmpfs);
    // what /readyz concludes from the numbers it reads (pragmas and statfs) is checked here.
    it('room for new pages: free pages count, then growth up to the smaller of the page limit and the disk; each lack is named', () => {
      const room = { pages: 1000, maxPages: 1_073_741_823, freePages: 0, pageSize: 4096, diskBytesFree: 1e9, directory: '/var/lib/bdoc' };
      expect(sqliteRoomVerdict(room)).toBeNull();
      // The disk has 15 pages left (60 KB): full, and it says which disk.
      expect(sqliteRoomVerdict({ ...room, diskBytesFree: 15 * 4096 + 100 })).toBe('the disk holding /var/lib/bdoc is full (60 KB free)');
      // ... unless free pages inside the file make up the room.
      expect(sqliteRoomVerdict({ ...room, diskBytesFree: 15 * 4096, freePages: 1 })).toBeNull();
      // The page limit reached, with room on the disk.
      expect(sqliteRoomVerdict({ ...room, maxPages: 1005, freePages: 3 })).toBe(
        'the database has reached its page limit (SQLite max_page_count 1005, 3 free pages)',
      );
      expect(sqliteRoomVerdict({ ...room, maxPages: 1016 })).toBeNull();
      // Free space unknown (statfs failed): the page limit alone says.
      expect(sqliteRoomVerdict({ ...room, diskBytesFree: Number.POSITIVE_INFINITY })).toBeNull();
    });
  });
}
