import { sql } from 'kysely';
import type { DatabaseHandle } from './database.js';
import { sha256Hex } from '../lib/hash.js';

/** A stable 32-bit advisory-lock key for a job name. */
function lockKey(name: string): number {
  return Number.parseInt(sha256Hex(`job:${name}`).slice(0, 8), 16) | 0;
}

/**
 * Runs a scheduled job on one node at a time. PostgreSQL: a transaction-scoped advisory try-lock,
 * held by a transaction left open while the job works on other connections; a node that does not
 * get it skips this round (another node is doing the work) and returns undefined. The lock ends
 * with that transaction, whatever the job did, also behind a pooler in transaction mode (a session
 * lock there stays with whichever server connection took it, and the jobs stop for good).
 * SQLite is one file on one machine: the job just runs (its writes are serialised anyway).
 */
export async function runExclusive<T>(handle: DatabaseHandle, name: string, job: () => Promise<T>): Promise<T | undefined> {
  if (handle.dialect !== 'postgres') return job();
  const key = lockKey(name);
  return handle.db.transaction().execute(async (trx) => {
    // The holding transaction waits, idle, for as long as the job runs.
    await sql`select set_config('idle_in_transaction_session_timeout', '0', true)`.execute(trx);
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${key}) as locked`.execute(trx);
    if (!rows[0]?.locked) return undefined;
    return job();
  });
}
