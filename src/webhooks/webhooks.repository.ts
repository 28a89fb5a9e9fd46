import { sql } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { ExpressionBuilder, Insertable, Selectable, Updateable } from 'kysely';

export type EndpointRow = Selectable<Database['webhookEndpoints']>;
export type DeliveryRow = Selectable<Database['webhookDeliveries']>;

/** The only reader and writer of `webhook_endpoints` and `webhook_deliveries`. */
export async function insertEndpoint(db: DbOrTrx, row: Insertable<Database['webhookEndpoints']>): Promise<void> {
  await db.insertInto('webhookEndpoints').values(row).execute();
}

export function findEndpoint(db: DbOrTrx, orgId: string, id: string): Promise<EndpointRow | undefined> {
  return db.selectFrom('webhookEndpoints').selectAll().where('orgId', '=', orgId).where('id', '=', id).executeTakeFirst();
}

export function findEndpointById(db: DbOrTrx, id: string): Promise<EndpointRow | undefined> {
  return db.selectFrom('webhookEndpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A page of an organisation's endpoints of one kind, newest first, and how many there are. */
export async function listEndpoints(db: DbOrTrx, orgId: string, kind: EndpointRow['kind'], page: { limit: number; offset: number }) {
  const base = db.selectFrom('webhookEndpoints').where('orgId', '=', orgId).where('kind', '=', kind);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** How many endpoints of one kind an organisation has (only the enabled ones with `enabledOnly`). */
export async function countEndpoints(db: DbOrTrx, orgId: string, kind: EndpointRow['kind'], enabledOnly = false): Promise<number> {
  let query = db.selectFrom('webhookEndpoints').where('orgId', '=', orgId).where('kind', '=', kind);
  if (enabledOnly) query = query.where('status', '=', 'enabled');
  const count = await query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(count.n);
}

/** Endpoints of an organisation that take new deliveries. */
export function enabledEndpoints(db: DbOrTrx, orgId: string): Promise<EndpointRow[]> {
  return db.selectFrom('webhookEndpoints').selectAll().where('orgId', '=', orgId).where('status', '=', 'enabled').execute();
}

export async function updateEndpoint(db: DbOrTrx, orgId: string, id: string, patch: Updateable<Database['webhookEndpoints']>): Promise<boolean> {
  const result = await db.updateTable('webhookEndpoints').set(patch).where('orgId', '=', orgId).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteEndpoint(db: DbOrTrx, orgId: string, id: string): Promise<boolean> {
  await db.deleteFrom('webhookDeliveries').where('orgId', '=', orgId).where('endpointId', '=', id).execute();
  const result = await db.deleteFrom('webhookEndpoints').where('orgId', '=', orgId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Stops the trigger subscriptions made with a key (it was revoked or deleted); deliveries already queued still go. */
export async function stopTriggersOfKey(db: DbOrTrx, keyId: string, at: string): Promise<number> {
  const result = await db
    .updateTable('webhookEndpoints')
    .set({ status: 'disabled', disabledReason: 'key_revoked', updatedAt: at })
    .where('kind', '=', 'trigger')
    .where('keyId', '=', keyId)
    .where('status', '=', 'enabled')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Up to `max` trigger subscriptions stopped with their key before `before` and with no delivery
 * still pending, deleted with their delivery log. Returns how many.
 */
export async function deleteStoppedTriggers(db: DbOrTrx, before: string, max: number): Promise<number> {
  const ids = (
    await db
      .selectFrom('webhookEndpoints')
      .select('id')
      .where('kind', '=', 'trigger')
      .where('status', '=', 'disabled')
      .where('disabledReason', '=', 'key_revoked')
      .where('updatedAt', '<', before)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('webhookDeliveries')
              .select('webhookDeliveries.id')
              .whereRef('webhookDeliveries.endpointId', '=', 'webhookEndpoints.id')
              .where('webhookDeliveries.status', '=', 'pending'),
          ),
        ),
      )
      .limit(max)
      .execute()
  ).map((row) => row.id);
  if (ids.length === 0) return 0;
  await db.deleteFrom('webhookDeliveries').where('endpointId', 'in', ids).execute();
  await db.deleteFrom('webhookEndpoints').where('id', 'in', ids).execute();
  return ids.length;
}

export async function insertDeliveries(db: DbOrTrx, rows: Insertable<Database['webhookDeliveries']>[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('webhookDeliveries')
    .values(rows)
    .onConflict((oc) => oc.columns(['endpointId', 'eventId']).doNothing())
    .execute();
}

export async function listDeliveries(db: DbOrTrx, orgId: string, endpointId: string, page: { limit: number; offset: number }) {
  const base = db.selectFrom('webhookDeliveries').where('orgId', '=', orgId).where('endpointId', '=', endpointId);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
  ]);
  return { rows, total: Number(count?.n ?? 0) };
}

/**
 * Claims up to `limit` due deliveries for this node until `until`: one UPDATE whose conditions
 * are checked again on the row it changes, so two nodes never both claim a row (PostgreSQL also
 * skips rows another node is claiming right now).
 */
export async function claimDue(db: DbOrTrx, postgres: boolean, now: string, until: string, limit: number): Promise<DeliveryRow[]> {
  const due = (eb: ExpressionBuilder<Database, 'webhookDeliveries'>) =>
    eb.and([eb('status', '=', 'pending'), eb('nextAttemptAt', '<=', now), eb.or([eb('claimedUntil', 'is', null), eb('claimedUntil', '<', now)])]);
  return db
    .updateTable('webhookDeliveries')
    .set({ claimedUntil: until })
    .where((eb) =>
      eb.and([
        due(eb),
        eb(
          'id',
          'in',
          postgres
            ? eb.selectFrom('webhookDeliveries').select('id').where(due).orderBy('nextAttemptAt').limit(limit).forUpdate().skipLocked()
            : eb.selectFrom('webhookDeliveries').select('id').where(due).orderBy('nextAttemptAt').limit(limit),
        ),
      ]),
    )
    .returningAll()
    .execute();
}

export async function finishAttempt(db: DbOrTrx, id: string, patch: Updateable<Database['webhookDeliveries']> & { attemptLog: string }): Promise<void> {
  await db
    .updateTable('webhookDeliveries')
    .set({ ...patch, attempts: sql`attempts + 1`, claimedUntil: null })
    .where('id', '=', id)
    .execute();
}

/** Drops what an endpoint had queued (it answered 410 Gone). */
export async function failPending(db: DbOrTrx, endpointId: string, at: string): Promise<void> {
  await db
    .updateTable('webhookDeliveries')
    .set({ status: 'failed', nextAttemptAt: null, claimedUntil: null })
    .where('endpointId', '=', endpointId)
    .where('status', '=', 'pending')
    .where('createdAt', '<=', at)
    .execute();
}
