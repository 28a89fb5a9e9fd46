/**
 * The checkpoint worker (see checkpoints.ts): a connection of its own to the server's SQLite
 * file that copies the WAL back into the database every `everyMs`, PASSIVE (it neither waits for
 * nor blocks the server's readers and writer). A round that finds the file locked is skipped; any
 * other error ends the thread, and the server's connection then checkpoints by itself again
 * (until a new worker runs). `ready` tells the server the first checkpoint was done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { isSqliteBusy } from './db-errors.js';

const { file, everyMs } = workerData as { file: string; everyMs: number };

/** better-sqlite3's errors reach the server without their message unless made plain Errors. */
function plain(what: string, error: unknown): Error {
  const { message, code } = error as { message?: string; code?: string };
  return new Error(`${what}: ${message ?? 'failed'}${code ? ` (${code})` : ''}`);
}

let db: SQLite.Database;
try {
  db = new SQLite(file, { fileMustExist: true });
} catch (error) {
  throw plain(`the checkpoint worker cannot open ${file}`, error);
}

function checkpoint(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    if (isSqliteBusy(error)) return;
    throw plain(`checkpointing ${file} failed`, error);
  }
}

checkpoint();
// The server's connection leaves checkpoints to this thread from now on.
parentPort!.postMessage('ready');
const timer = setInterval(checkpoint, everyMs);
parentPort!.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
