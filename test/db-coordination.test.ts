import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { databaseUnavailableReason } from '../src/db/db-errors.js';
import { runExclusive } from '../src/db/exclusive.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { asSuperuser, createTestDatabase, onPostgres, type TestDatabase } from './support/postgres.js';

describe('which driver errors mean "unavailable" (503) rather than a bug (500)', () => {
  const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  it('connection, resource, shutdown, read-only and lock errors of both stores are unavailable', () => {
    for (const code of [
      '08006',
      '08001',
      '53300',
      '57P01',
      '57P03',
      '25006',
      '55000',
      'ECONNREFUSED',
      'ECONNRESET',
      'SQLITE_BUSY',
      'SQLITE_BUSY_SNAPSHOT',
      'SQLITE_LOCKED',
      'SQLITE_IOERR_WRITE',
      'SQLITE_FULL',
      'SQLITE_READONLY',
    ]) {
      expect(databaseUnavailableReason(coded(code)), code).toBeDefined();
    }
    expect(databaseUnavailableReason(new Error('Connection terminated unexpectedly'))).toBeDefined();
    expect(databaseUnavailableReason(new Error('migration setup failed', { cause: coded('ECONNREFUSED') }))).toBeDefined();
  });
  it('constraint, syntax and programming errors are not', () => {
    for (const code of ['23505', '42601', '42P01', '22P02', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR']) {
      expect(databaseUnavailableReason(coded(code)), code).toBeUndefined();
    }
    expect(databaseUnavailableReason(new TypeError('x is undefined'))).toBeUndefined();
  });
});

if (onPostgres) {
  describe('several nodes on one PostgreSQL database', () => {
    let database: TestDatabase | undefined;
    const handles: DatabaseHandle[] = [];
    afterEach(async () => {
      for (const handle of handles.splice(0)) await handle.db.destroy();
      await database?.drop();
      database = undefined;
    });

    it('four nodes migrating at once: one applies the migrations, the others find nothing to do, none fails', async () => {
      database = await createTestDatabase('migrate');
      for (let i = 0; i < 4; i++) handles.push(openDatabase({ dataDir: '/nonexistent', databaseUrl: database.url }));
      const applied = await Promise.all(handles.map((handle) => migrateToLatest(handle)));
      const nonEmpty = applied.filter((names) => names.length > 0);
      expect(nonEmpty).toHaveLength(1);
      expect(nonEmpty[0]).toContain('0001-initial');
    });

    it('a migration that fails leaves nothing applied, and says which one and why', async () => {
      database = await createTestDatabase('migrate_fail');
      handles.push(openDatabase({ dataDir: '/nonexistent', databaseUrl: database.url }));
      const handle = handles[0]!;
      await sql`create table flows (x integer)`.execute(handle.db);
      await expect(migrateToLatest(handle)).rejects.toThrow('migration 0008-flows failed: relation "flows" already exists');
      // One transaction: the migrations before it are undone with it, Kysely's own tables too.
      const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(handle.db);
      expect(rows.map((r) => r.name)).toEqual(['flows']);
    });

    it('a database never migrated that cannot be written: PostgreSQL\'s reason, not "current transaction is aborted"', async () => {
      database = await createTestDatabase('migrate_ro');
      const name = new URL(database.url).pathname.slice(1);
      await asSuperuser(`ALTER DATABASE "${name}" SET default_transaction_read_only = on`);
      handles.push(openDatabase({ dataDir: '/nonexistent', databaseUrl: database.url }));
      const error = await migrateToLatest(handles[0]!).catch((caught: Error) => caught);
      expect(String(error)).toMatch(/migration setup failed: cannot execute CREATE TABLE in a read-only transaction/);
      expect(databaseUnavailableReason(error)).toMatch(/^25006/);

      const role = `bdoc_nocreate_${process.pid}`;
      await asSuperuser(`ALTER DATABASE "${name}" RESET default_transaction_read_only`);
      await asSuperuser(`CREATE ROLE ${role} LOGIN`);
      try {
        const url = new URL(database.url);
        url.username = role;
        handles.push(openDatabase({ dataDir: '/nonexistent', databaseUrl: url.toString() }));
        await expect(migrateToLatest(handles[1]!)).rejects.toThrow(/permission denied for schema public: the DATABASE_URL user needs CREATE on it/);
      } finally {
        for (const handle of handles.splice(0)) await handle.db.destroy();
        await asSuperuser(`DROP ROLE ${role}`);
      }
    });

    it('a scheduled job runs on one node at a time', async () => {
      database = await createTestDatabase('exclusive');
      for (let i = 0; i < 3; i++) handles.push(openDatabase({ dataDir: '/nonexistent', databaseUrl: database.url }));
      let running = 0;
      let most = 0;
      const job = async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 200));
        running--;
        return 'ran';
      };
      const results = await Promise.all(handles.map((handle) => runExclusive(handle, 'sweeper', job)));
      expect(results.filter((r) => r === 'ran')).toHaveLength(1);
      expect(results.filter((r) => r === undefined)).toHaveLength(2);
      expect(most).toBe(1);
      // Released afterwards: the next round runs again.
      expect(await runExclusive(handles[1]!, 'sweeper', job)).toBe('ran');
    });
  });
}
