import { databaseUnavailableReason } from './db-errors.js';
import type { Db } from './database.js';
import { withinDeadline } from '../lib/answer-deadline.js';

/** What `/readyz` reports about the database. */
export type WriteProbe = { writable: true } | { writable: false; reason: string };

/**
 * Writes this node's heartbeat row: the database is ready only when it takes a write (a
 * read-only, full, locked or unreachable database fails here). Gives up after `timeoutMs`.
 */
export async function probeWrite(db: Db, nodeId: string, at: Date, timeoutMs: number): Promise<WriteProbe> {
  const write = db
    .insertInto('nodeHeartbeats')
    .values({ nodeId, beatAt: at.toISOString() })
    .onConflict((oc) => oc.column('nodeId').doUpdateSet({ beatAt: at.toISOString() }))
    .execute();
  try {
    await withinDeadline(write, timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
    return { writable: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { writable: false, reason: databaseUnavailableReason(error) ?? message };
  }
}
