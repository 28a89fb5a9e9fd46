import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { asSuperuser, onPostgres, TEST_POSTGRES_URL, TEST_RUN_ENV } from './postgres.js';

/**
 * On PostgreSQL runs, a server that cannot be reached fails the run at once, with what to fix;
 * and a database a test left behind (an app it started and never closed) fails the run at its end.
 */
export default async function globalSetup(): Promise<(() => Promise<void>) | undefined> {
  if (!onPostgres) return undefined;
  const run = randomBytes(3).toString('hex');
  process.env[TEST_RUN_ENV] = run;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    const url = new URL(TEST_POSTGRES_URL);
    throw new Error(
      `TEST_DATABASE=postgres, but PostgreSQL at ${url.host} cannot be reached (${(error as Error).message}). Start it, or set TEST_POSTGRES_URL to a server where the user may create databases.`,
    );
  } finally {
    await client.end().catch(() => {});
  }
  return async () => {
    const left = await databasesOfRun(run);
    for (const name of left) await asSuperuser(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    if (left.length === 0) return;
    // A throw here is only printed; the exit code is what fails the run.
    process.stderr.write(`\nTests left ${left.length} database(s) behind (an app started and never closed; now dropped): ${left.join(', ')}\n`);
    process.exitCode = 1;
  };
}

async function databasesOfRun(run: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`bdoc\\_%\\_${run}\\_%`]);
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}
