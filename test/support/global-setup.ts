import pg from 'pg';
import { onPostgres, TEST_POSTGRES_URL } from './postgres.js';

/** On PostgreSQL runs, a server that cannot be reached fails the run at once, with what to fix. */
export default async function globalSetup(): Promise<void> {
  if (!onPostgres) return;
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
}
