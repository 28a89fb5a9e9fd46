import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { claimedName } from '../src/usage/usage-spill.js';
import { callGateway, createKey, signup, startTestApp, type TestApp } from './support/harness.js';
import { asSuperuser, createTestDatabase, onPostgres, type TestDatabase } from './support/postgres.js';

/**
 * The database taken away from the node and given back: on PostgreSQL its connections are
 * terminated and new ones refused; on SQLite another process holds the write lock.
 */
function outage(t: TestApp) {
  if (t.config.databaseUrl) {
    const name = new URL(t.config.databaseUrl).pathname.slice(1);
    return {
      async begin() {
        await asSuperuser(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
        await asSuperuser('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      },
      end: () => asSuperuser(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`),
    };
  }
  let other: SQLite.Database | undefined;
  return {
    async begin() {
      other = new SQLite(path.join(t.config.dataDir, 'build-a-doc.sqlite'));
      other.exec('BEGIN IMMEDIATE');
    },
    async end() {
      other?.exec('ROLLBACK');
      other?.close();
    },
  };
}

describe(`a node stopped while the database is away loses no usage (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let dataDir: string;
  let database: TestDatabase | undefined;
  const apps: TestApp[] = [];
  const ends: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const end of ends.splice(0)) await end().catch(() => {});
    for (const t of apps.splice(0)) await t.close();
    await database?.drop();
    database = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A node on a database and DATA_DIR of the test's own, so a second node can start on both after the first stopped. */
  async function startNode(retryMs: number): Promise<TestApp> {
    dataDir ??= mkdtempSync(path.join(tmpdir(), 'bdoc-shutdown-usage-'));
    const t = await startTestApp({
      env: {
        DATA_DIR: dataDir,
        ...(database ? { DATABASE_URL: database.url } : {}),
        SHUTDOWN_USAGE_RETRY_MS: String(retryMs),
        SQLITE_LOCK_WAIT_MS: '200',
        DATABASE_CONNECT_TIMEOUT_MS: '500',
      },
    });
    apps.push(t);
    return t;
  }
  async function begin() {
    dataDir = mkdtempSync(path.join(tmpdir(), 'bdoc-shutdown-usage-'));
    database = onPostgres ? await createTestDatabase('shutdown_usage') : undefined;
  }
  const calls = async (t: TestApp, secret: string, count: number) => {
    for (let i = 0; i < count; i++) expect((await callGateway(t, secret)).statusCode).toBe(200);
  };
  /** A node whose key answered 5 calls, then 7 more (from its cache) once the database was taken away. */
  async function twelveCallsAcrossAnOutage(retryMs: number, organisation: string) {
    await begin();
    const t = await startNode(retryMs);
    const owner = await signup(t, organisation);
    const key = await createKey(t, owner, { name: 'prod-stopped-node-ops' });
    await calls(t, key.secret, 5);
    const away = outage(t);
    ends.push(away.end);
    await away.begin();
    await calls(t, key.secret, 7);
    return { t, key, away };
  }
  async function written(t: TestApp, keyId: string): Promise<number> {
    const rows = await t.services.db.selectFrom('keyUsageDaily').select('count').where('keyId', '=', keyId).where('outcome', '=', 'success').execute();
    return rows.reduce((sum, row) => sum + row.count, 0);
  }
  const kept = () => readdirSync(dataDir).filter((name) => name.startsWith('usage-unwritten-'));

  it('the database back within SHUTDOWN_USAGE_RETRY_MS: the node waits for it, writes every call, and keeps nothing aside', async () => {
    const { t, key, away } = await twelveCallsAcrossAnOutage(30_000, 'Stopped Waiting Ltd');

    let stopped = false;
    const stopping = t.close().then(() => {
      stopped = true;
    });
    await expect
      .poll(() => t.logs.text, { timeout: 10_000, interval: 50 })
      .toMatch(/writing usage at shutdown failed; trying again until the database is back/);
    expect(stopped).toBe(false);
    await away.end();
    await stopping;

    expect(kept()).toEqual([]);
    const next = await startNode(30_000);
    expect(await written(next, key.id)).toBe(12);
  });

  it('the database still away after SHUTDOWN_USAGE_RETRY_MS: the usage is kept in DATA_DIR and written by the next start', async () => {
    const { t, key, away } = await twelveCallsAcrossAnOutage(300, 'Stopped Away Ltd');
    await t.close();

    expect(kept()).toHaveLength(1);
    const file = readFileSync(path.join(dataDir, kept()[0]!), 'utf8');
    expect(file).toContain(key.id);
    expect(file).not.toContain(key.secret);
    expect(t.logs.text).toMatch(new RegExp(`the database could not take the usage of \\d+ calls at shutdown: kept in ${dataDir}`));
    await away.end();

    const next = await startNode(300);
    expect(await written(next, key.id)).toBe(12);
    expect(kept()).toEqual([]);
    expect(next.logs.text).toMatch(/wrote the usage that an earlier shutdown kept in DATA_DIR/);
    // Written once: a further start finds nothing to write again.
    await next.close();
    const third = await startNode(300);
    expect(await written(third, key.id)).toBe(12);
  });

  it('a kept file claimed by a start that ended before writing it is written by a later start (not while that process still runs)', async () => {
    const { t, key, away } = await twelveCallsAcrossAnOutage(300, 'Stopped Twice Ltd');
    await t.close();
    await away.end();
    const [name] = kept();
    const claimedBy = (pid: number) => claimedName(name!, pid);

    // Claimed by a process that still runs (it may be writing it): left alone.
    renameSync(path.join(dataDir, name!), path.join(dataDir, claimedBy(process.ppid)));
    const second = await startNode(300);
    // Only what was written before the outage (the kept calls are not): 12 once the file is written.
    expect(await written(second, key.id)).toBeLessThan(12);
    expect(readdirSync(dataDir)).toContain(claimedBy(process.ppid));
    await second.close();

    // That process ended without writing it: the next start claims it again and writes it once.
    const ended = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    renameSync(path.join(dataDir, claimedBy(process.ppid)), path.join(dataDir, claimedBy(ended)));
    const third = await startNode(300);
    expect(await written(third, key.id)).toBe(12);
    expect(kept()).toEqual([]);
  });
});
