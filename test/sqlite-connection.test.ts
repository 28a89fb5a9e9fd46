import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { BackgroundCheckpoints } from '../src/db/checkpoints.js';
import { openSqlite, type Db } from '../src/db/database.js';
import { LogCapture } from './support/harness.js';

// The SQLite connection keeps its statements prepared (by SQL text, the least recently used
// dropped first) and lets the event loop turn during long runs of statements. Neither may change
// an answer: these run on the SQLite file alone, whichever store the rest of the suite uses.
describe('the SQLite connection', () => {
  let dir: string | undefined;
  let db: Db | undefined;
  afterEach(async () => {
    await db?.destroy();
    db = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const open = async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bdoc-sqlite-'));
    db = openSqlite(path.join(dir, 'test.sqlite'));
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    return db;
  };

  it('answers right with more distinct statements than it keeps, asked twice over', async () => {
    const db = await open();
    for (let i = 0; i < 600; i++) await sql`insert into items (id, name) values (${i}, ${`item ${i}`})`.execute(db);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 600; i += 1) {
        // A text of its own per id: 600 statements, more than are kept.
        const { rows } = await sql.raw<{ name: string }>(`select name from items where id = ${i}`).execute(db);
        expect(rows).toEqual([{ name: `item ${i}` }]);
      }
    }
    const { rows } = await sql<{ n: number }>`select count(*) as n from items`.execute(db);
    expect(rows).toEqual([{ n: 600 }]);
  });

  it('batch statements of many sizes, more than it keeps of them, write every row', async () => {
    const db = await open();
    let next = 0;
    let written = 0;
    for (let round = 0; round < 2; round++) {
      // 40 sizes of a multi-row insert, each a long text of its own (batches are kept apart, 16 of them).
      for (let size = 300; size < 340; size++) {
        const rows = Array.from({ length: size }, () => {
          next++;
          return sql`(${next}, ${`item ${next}`})`;
        });
        await sql`insert into items (id, name) values ${sql.join(rows)}`.execute(db);
        written += size;
      }
    }
    const { rows } = await sql<{ n: number; last: string }>`select count(*) as n, max(id) as last from items`.execute(db);
    expect(rows).toEqual([{ n: written, last: next }]);
  });

  it('a kept statement sees a table changed by another process (a migration run beside the server)', async () => {
    const db = await open();
    await sql`insert into items (id, name) values (1, 'one')`.execute(db);
    const read = () => sql`select * from items where id = ${1}`.execute(db);
    expect((await read()).rows).toEqual([{ id: 1, name: 'one' }]);
    const other = spawnSync(
      process.execPath,
      [
        '-e',
        `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.exec("alter table items add column colour text not null default 'blue'");d.close()`,
        path.join(dir!, 'test.sqlite'),
      ],
      { encoding: 'utf8' },
    );
    expect(other.status, other.stderr).toBe(0);
    expect((await read()).rows).toEqual([{ id: 1, name: 'one', colour: 'blue' }]);
  });

  const autocheckpoint = async (db: Db) => Object.values((await sql.raw<Record<string, number>>('pragma wal_autocheckpoint').execute(db)).rows[0]!)[0];
  /** About 2 MB in one commit (some 500 pages, under SQLite's own 1,000-page checkpoint threshold). */
  const writeTwoMegabytes = (db: Db) =>
    sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 2000) insert into items (id, name) select i, hex(randomblob(500)) from n`.execute(
      db,
    );

  it('a worker thread copies the WAL back into the database file; the connection’s own commits do not, until it stops', async () => {
    const db = await open();
    const file = path.join(dir!, 'test.sqlite');
    const failures: Error[] = [];
    const checkpoints = await BackgroundCheckpoints.start(db, file, { everyMs: 20, onFailure: (error) => failures.push(error) });
    expect(await autocheckpoint(db)).toBe(0);
    const before = statSync(file).size;
    await writeTwoMegabytes(db);
    // Only a checkpoint writes pages into the database file itself; the commit wrote them to the WAL.
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 2_000_000), { timeout: 10_000, interval: 20 });
    await checkpoints.stop();
    expect(await autocheckpoint(db)).toBe(1000);
    expect(failures).toEqual([]);
  });

  it('when the checkpoint worker fails, the connection checkpoints by itself again and the failure is told', async () => {
    const db = await open();
    const failures: Error[] = [];
    const checkpoints = await BackgroundCheckpoints.start(db, path.join(dir!, 'missing.sqlite'), { everyMs: 20, onFailure: (error) => failures.push(error) });
    await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(failures[0]!.message).toMatch(/unable to open database file/);
    expect(await autocheckpoint(db)).toBe(1000);
    await checkpoints.stop();
    expect(failures).toHaveLength(1);
  });

  it('after a failure a new checkpoint worker is tried; once one runs, the connection leaves checkpoints to it again', async () => {
    const db = await open();
    const file = path.join(dir!, 'test.sqlite');
    // The worker opens another name for the file: missing at first (a volume not mounted yet), there on the next try.
    const later = path.join(dir!, 'later.sqlite');
    const failures: Error[] = [];
    let recovered = 0;
    const checkpoints = await BackgroundCheckpoints.start(db, later, {
      everyMs: 20,
      retryMs: 100,
      onFailure: (error) => failures.push(error),
      onRecovered: () => recovered++,
    });
    try {
      await vi.waitFor(() => expect(failures).not.toHaveLength(0), { timeout: 10_000, interval: 20 });
      expect(failures[0]!.message).toMatch(/cannot open .*later\.sqlite/);
      expect(await autocheckpoint(db)).toBe(1000);
      // Tried again every retryMs while the file is missing; each try that fails is told.
      await vi.waitFor(() => expect(failures.length).toBeGreaterThan(1), { timeout: 10_000, interval: 20 });
      expect(recovered).toBe(0);
      symlinkSync(file, later);
      await vi.waitFor(() => expect(recovered).toBe(1), { timeout: 10_000, interval: 20 });
      expect(await autocheckpoint(db)).toBe(0);
      const told = failures.length;
      const before = statSync(file).size;
      await writeTwoMegabytes(db);
      await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 2_000_000), { timeout: 10_000, interval: 20 });
      expect(failures).toHaveLength(told);
    } finally {
      await checkpoints.stop();
    }
    expect(await autocheckpoint(db)).toBe(1000);
  });

  it('a checkpoint worker stopped while a new one is due is not started again', async () => {
    const db = await open();
    const file = path.join(dir!, 'test.sqlite');
    const later = path.join(dir!, 'later.sqlite');
    /** Open descriptors of this process on the database's files (a worker's connection adds its own). */
    const openOnFile = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(file);
        } catch {
          return false;
        }
      }).length;
    const failures: Error[] = [];
    const checkpoints = await BackgroundCheckpoints.start(db, later, { everyMs: 20, retryMs: 200, onFailure: (error) => failures.push(error) });
    await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 10_000, interval: 10 });
    await checkpoints.stop();
    const held = openOnFile();
    const told = failures.length;
    // Were a new worker started now, it would open the file and stay.
    symlinkSync(file, later);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(openOnFile()).toBe(held);
    expect(failures).toHaveLength(told);
    expect(await autocheckpoint(db)).toBe(1000);
  });

  it('the server on SQLite leaves checkpoints to the worker while it runs (within about a second)', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bdoc-sqlite-'));
    const logs = new LogCapture();
    const { app, services } = await buildApp({ config: loadConfig({ DATA_DIR: dir, PUBLIC_URL: 'http://portal.test', LOG_LEVEL: 'warn' }), logStream: logs });
    try {
      await app.ready();
      expect(await autocheckpoint(services.db)).toBe(0);
      const file = path.join(dir, 'build-a-doc.sqlite');
      const before = statSync(file).size;
      await sql`create table items (id integer primary key, name text not null)`.execute(services.db);
      await writeTwoMegabytes(services.db);
      await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 2_000_000), { timeout: 10_000, interval: 50 });
    } finally {
      await app.close();
    }
    expect(logs.text).not.toMatch(/checkpoint worker failed/);
  });
});
