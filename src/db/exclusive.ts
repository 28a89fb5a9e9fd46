import { sql } from 'kysely';
import type { DatabaseHandle } from './database.js';
import { sha256Hex } from '../lib/hash.js';

/** A stable 32-bit advisory-lock key for a job name. */
function lockKey(name: string): number {
  return Number.parseInt(sha256Hex(`job:${name}`).slice(0, 8), 16) | 0;
}

/**
 * Runs a scheduled job on one node at a time. PostgreSQL: a session advisory try-lock; a node
 * that does not get it skips this round (another node is doing the work) and returns undefined.
 * SQLite is one file on one machine: the job just runs (its writes are serialised anyway).
 */
export async function runExclusive<T>(handle: DatabaseHandle, name: string, job: () => Promise<T>): Promise<T | undefined> {
  if (handle.dialect !== 'postgres') return job();
  const key = lockKey(name);
  return handle.db.connection().execute(async (connection) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${key}) as locked`.execute(connection);
    if (!rows[0]?.locked) return undefined;
    try {
      return await job();
    } finally {
      await sql`select pg_advisory_unlock(${key})`.execute(connection).catch(() => {});
    }
  });
}
