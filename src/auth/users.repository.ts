/** The only module that reads or writes the `users` table. */
import type { DbOrTrx } from '../db/database.js';
import type { Role, UserRow } from '../db/schema.js';

export async function insertUser(db: DbOrTrx, row: UserRow): Promise<void> {
  await db.insertInto('users').values(row).execute();
}

/** The person with this (normalised) email address, in any organisation. */
export function findUserByEmail(db: DbOrTrx, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

/** Whether anyone, in any organisation, has this (normalised) email address. */
export async function emailTaken(db: DbOrTrx, email: string): Promise<boolean> {
  return (await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()) !== undefined;
}

/** One person of an organisation (another organisation's id finds nothing). */
export function findUserInOrg(db: DbOrTrx, orgId: string, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('orgId', '=', orgId).where('id', '=', id).executeTakeFirst();
}

export async function userName(db: DbOrTrx, id: string): Promise<string | undefined> {
  return (await db.selectFrom('users').select('name').where('id', '=', id).executeTakeFirst())?.name;
}

/** How many active people each of these organisations has (organisations with none are absent). */
export async function activeMemberCounts(db: DbOrTrx, orgIds: readonly string[]): Promise<Map<string, number>> {
  if (orgIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .where('orgId', 'in', orgIds)
    .where('status', '=', 'active')
    .groupBy('orgId')
    .select((eb) => ['orgId', eb.fn.countAll().as('n')])
    .execute();
  return new Map(rows.map((row) => [row.orgId, Number(row.n)]));
}

export async function countActiveAdmins(db: DbOrTrx, orgId: string): Promise<number> {
  const row = await db
    .selectFrom('users')
    .where('orgId', '=', orgId)
    .where('role', '=', 'admin')
    .where('status', '=', 'active')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** An organisation's people in the order they joined, and how many there are. */
export async function listUsers(db: DbOrTrx, orgId: string, page: { limit: number; offset: number }): Promise<{ rows: UserRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    db.selectFrom('users').selectAll().where('orgId', '=', orgId).orderBy('createdAt').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    db
      .selectFrom('users')
      .where('orgId', '=', orgId)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function setRole(db: DbOrTrx, id: string, role: Role): Promise<void> {
  await db.updateTable('users').set({ role }).where('id', '=', id).execute();
}

export async function deactivateUser(db: DbOrTrx, id: string, now: string): Promise<void> {
  await db.updateTable('users').set({ status: 'deactivated', deactivatedAt: now }).where('id', '=', id).execute();
}

/** The active Admins of an organisation (who hear of its keys' expiries, exposures and quotas). */
export function activeAdmins(db: DbOrTrx, orgId: string): Promise<Array<Pick<UserRow, 'id' | 'email' | 'name'>>> {
  return db.selectFrom('users').select(['id', 'email', 'name']).where('orgId', '=', orgId).where('role', '=', 'admin').where('status', '=', 'active').execute();
}
