/** The only module that reads or writes the `organisations` and `subscriptions` tables. */
import type { DbOrTrx, Trx } from '../db/database.js';
import type { LeakResponse, SubscriptionRow, SubscriptionTable } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';

/** Creates an organisation and its subscription (status active, period from today). */
export async function createOrganisation(trx: Trx, deps: { clock: Clock; newId: IdGenerator }, name: string, plan: string): Promise<string> {
  const id = deps.newId('org');
  const now = deps.clock.now().toISOString();
  await trx.insertInto('organisations').values({ id, name, createdAt: now }).execute();
  await trx
    .insertInto('subscriptions')
    .values({ orgId: id, plan, status: 'active', periodStart: now, periodEnd: null, overrides: '{}', updatedAt: now })
    .execute();
  return id;
}

/** An organisation's name and subscription; undefined when there is none. */
export async function findSubscription(db: DbOrTrx, orgId: string): Promise<{ name: string; sub: SubscriptionRow } | undefined> {
  const row = await db
    .selectFrom('subscriptions')
    .innerJoin('organisations', 'organisations.id', 'subscriptions.orgId')
    .selectAll('subscriptions')
    .select('organisations.name')
    .where('subscriptions.orgId', '=', orgId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { name, ...sub } = row;
  return { name, sub };
}

export async function updateSubscription(db: DbOrTrx, orgId: string, patch: Partial<Omit<SubscriptionTable, 'orgId'>>): Promise<void> {
  await db.updateTable('subscriptions').set(patch).where('orgId', '=', orgId).execute();
}

/**
 * Locks the organisation's subscription row until commit (PostgreSQL's equivalent of
 * SELECT … FOR UPDATE, and valid SQL on SQLite, where BEGIN IMMEDIATE already serialises
 * writers), then reads its plan: work counted under it happens one transaction at a time.
 */
export async function lockSubscription(trx: Trx, orgId: string): Promise<Pick<SubscriptionRow, 'plan' | 'overrides'> | undefined> {
  await trx
    .updateTable('subscriptions')
    .set((eb) => ({ updatedAt: eb.ref('updatedAt') }))
    .where('orgId', '=', orgId)
    .execute();
  return trx.selectFrom('subscriptions').select(['plan', 'overrides']).where('orgId', '=', orgId).executeTakeFirst();
}

export async function organisationName(db: DbOrTrx, orgId: string): Promise<string> {
  const row = await db.selectFrom('organisations').select('name').where('id', '=', orgId).executeTakeFirstOrThrow();
  return row.name;
}

/**
 * Organisations with their plan, oldest first, after the one with id `afterId` (ids sort by
 * creation time): the operator's list, a page at a time, stable while organisations are added.
 */
export function organisationsPage(db: DbOrTrx, afterId: string | undefined, limit: number) {
  let query = db
    .selectFrom('organisations')
    .innerJoin('subscriptions', 'subscriptions.orgId', 'organisations.id')
    .select(['organisations.id', 'organisations.name', 'organisations.createdAt', 'subscriptions.plan']);
  if (afterId !== undefined) query = query.where('organisations.id', '>', afterId);
  return query.orderBy('organisations.id').limit(limit).execute();
}

/** Every subscription (the quota sweep reads them a page at a time). */
export function subscriptionsPage(db: DbOrTrx, afterOrgId: string, limit: number) {
  return db.selectFrom('subscriptions').selectAll().where('orgId', '>', afterOrgId).orderBy('orgId').limit(limit).execute();
}

/** What a leak report does to the organisation's live keys (CONTRACT §11): `revoke` (the default) or `notify`. */
export async function leakResponseOf(db: DbOrTrx, orgId: string): Promise<LeakResponse> {
  const row = await db.selectFrom('organisations').select('leakResponse').where('id', '=', orgId).executeTakeFirst();
  return row?.leakResponse === 'notify' ? 'notify' : 'revoke';
}

export async function setLeakResponse(db: DbOrTrx, orgId: string, leakResponse: LeakResponse): Promise<void> {
  await db.updateTable('organisations').set({ leakResponse }).where('id', '=', orgId).execute();
}
