/** The only module that reads or writes the `sessions` and `knownDevices` tables. */
import type { DbOrTrx } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { Insertable } from 'kysely';

export async function insertSession(db: DbOrTrx, row: Insertable<Database['sessions']>): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

/** The session with this token hash and its person (joined to read the user with the session). */
export function findSessionWithUser(db: DbOrTrx, tokenHash: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.userId')
    .selectAll('users')
    .select(['sessions.id as sessionId', 'sessions.expiresAt', 'sessions.lastSeenAt', 'sessions.createdAt as sessionCreatedAt'])
    .where('sessions.tokenHash', '=', tokenHash)
    .executeTakeFirst();
}

export async function extendSession(db: DbOrTrx, id: string, lastSeenAt: string, expiresAt: string): Promise<void> {
  await db.updateTable('sessions').set({ lastSeenAt, expiresAt }).where('id', '=', id).execute();
}

export async function deleteSessionByTokenHash(db: DbOrTrx, tokenHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('tokenHash', '=', tokenHash).execute();
}

/** Ends every session of a person. */
export async function deleteSessionsOfUser(db: DbOrTrx, userId: string): Promise<void> {
  await db.deleteFrom('sessions').where('userId', '=', userId).execute();
}

/** The person a device cookie (by hash) was issued to. */
export async function knownDeviceOwner(db: DbOrTrx, tokenHash: string): Promise<string | undefined> {
  return (await db.selectFrom('knownDevices').select('userId').where('tokenHash', '=', tokenHash).executeTakeFirst())?.userId;
}

export async function touchKnownDevice(db: DbOrTrx, tokenHash: string, now: string): Promise<void> {
  await db.updateTable('knownDevices').set({ lastUsedAt: now }).where('tokenHash', '=', tokenHash).execute();
}

export async function insertKnownDevice(db: DbOrTrx, row: Database['knownDevices']): Promise<void> {
  await db.insertInto('knownDevices').values(row).execute();
}
