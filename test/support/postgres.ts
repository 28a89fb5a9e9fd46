import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server tests use (CI and the developer machine run one on 127.0.0.1:5432). */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** True when the suite runs on PostgreSQL (`npm run test:postgres`), false on SQLite (`npm test`). */
export const onPostgres = process.env.TEST_DATABASE === 'postgres';

export interface TestDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  /** Drops the database (terminating what is still connected). */
  drop(): Promise<void>;
}

/**
 * The run's mark in each database name (set by the global setup before the test workers start):
 * what a run left behind is found by it. Outside a test run (the benchmarks) there is none.
 */
export const TEST_RUN_ENV = 'BDOC_TEST_RUN';

/** Creates a fresh, empty PostgreSQL database for one test file; `drop()` removes it. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const run = process.env[TEST_RUN_ENV] ?? 'x';
  const name = `bdoc_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 20)}_${process.pid}_${run}_${randomBytes(4).toString('hex')}`;
  await asSuperuser(`CREATE DATABASE "${name}"`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await asSuperuser(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** Runs one statement as the PostgreSQL superuser, outside any app's pool. */
export async function asSuperuser(statement: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement, values);
  } finally {
    await client.end();
  }
}
