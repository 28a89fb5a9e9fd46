import { statfsSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { databaseUnavailableReason } from './db-errors.js';
import type { DatabaseHandle, Db } from './database.js';
import { withinDeadline } from '../lib/answer-deadline.js';

/** What `/readyz` reports about the database. */
export type WriteProbe = { writable: true } | { writable: false; reason: string };

/** With fewer free pages than this, a SQLite database is full: the next writes that need a page fail with SQLITE_FULL. */
const MIN_ROOM_PAGES = 16;

/**
 * Writes this node's heartbeat row: the database is ready only when it takes a write (a
 * read-only, full, locked or unreachable database fails here). Gives up after `timeoutMs`.
 * On SQLite it also needs room for new pages: the heartbeat is updated in place, which still
 * succeeds in a database that has none left.
 */
export async function probeWrite(handle: Pick<DatabaseHandle, 'db' | 'dialect'>, nodeId: string, at: Date, timeoutMs: number): Promise<WriteProbe> {
  const write = handle.db
    .insertInto('nodeHeartbeats')
    .values({ nodeId, beatAt: at.toISOString() })
    .onConflict((oc) => oc.column('nodeId').doUpdateSet({ beatAt: at.toISOString() }))
    .execute();
  try {
    await withinDeadline(write, timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
    const full = handle.dialect === 'sqlite' ? await sqliteFull(handle.db) : null;
    return full ? { writable: false, reason: full } : { writable: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { writable: false, reason: databaseUnavailableReason(error) ?? message };
  }
}

/**
 * Why a SQLite database has no room for new pages, or null when it has: its free pages plus
 * what the file may still grow by, under its page limit (max_page_count) and the free space of
 * the disk holding it.
 */
async function sqliteFull(db: Db): Promise<string | null> {
  const pragma = async (statement: string): Promise<Record<string, unknown>[]> =>
    (await sql.raw(`pragma ${statement}`).execute(db)).rows as Record<string, unknown>[];
  const first = async (name: string) => Number(Object.values((await pragma(name))[0] ?? {})[0]);
  const pages = await first('page_count');
  const maxPages = await first('max_page_count');
  const freePages = await first('freelist_count');
  const pageSize = await first('page_size');
  const file = String((await pragma('database_list')).find((row) => row.name === 'main')?.file ?? '');
  let diskBytesFree = Number.POSITIVE_INFINITY;
  try {
    if (file) {
      const disk = statfsSync(path.dirname(file));
      diskBytesFree = disk.bavail * disk.bsize;
    }
  } catch {
    // The disk's free space unknown: the page limit alone says.
  }
  return sqliteRoomVerdict({ pages, maxPages, freePages, pageSize, diskBytesFree, directory: path.dirname(file) });
}

/** The file's pages and limits, and the free bytes of the disk holding it (Infinity when unknown). */
export interface SqliteRoom {
  pages: number;
  maxPages: number;
  freePages: number;
  pageSize: number;
  diskBytesFree: number;
  directory: string;
}

/** Null when a SQLite database has room for new pages; otherwise what is full, for `/readyz`. */
export function sqliteRoomVerdict(room: SqliteRoom): string | null {
  const growth = room.maxPages - room.pages;
  const diskPages = Math.floor(room.diskBytesFree / room.pageSize);
  if (room.freePages + Math.min(growth, diskPages) >= MIN_ROOM_PAGES) return null;
  return diskPages < growth
    ? `the disk holding ${room.directory} is full (${Math.floor((diskPages * room.pageSize) / 1024)} KB free)`
    : `the database has reached its page limit (SQLite max_page_count ${room.maxPages}, ${room.freePages} free pages)`;
}
