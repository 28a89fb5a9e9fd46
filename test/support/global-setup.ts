import pg from 'pg';
import { TEST_POSTGRES_URL } from './postgres.js';

/**
 * Before any test file: when the suite runs on PostgreSQL (`npm run test:postgres`), the server
 * must answer, or the whole run fails at once with what to fix instead of hundreds of timeouts.
 */
export default async function setup(): Promise<void> {
  if (process.env.TEST_DATABASE !== 'postgres') return;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const where = new URL(TEST_POSTGRES_URL);
    throw new Error(
      `TEST_DATABASE=postgres but PostgreSQL at ${where.protocol}//${where.host}${where.pathname} cannot be reached (${reason}). ` +
        'Start PostgreSQL or set TEST_POSTGRES_URL to a server where this user may CREATE DATABASE.',
    );
  } finally {
    await client.end().catch(() => {});
  }
}
