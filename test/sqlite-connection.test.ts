import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite, type Db } from '../src/db/database.js';

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
});
