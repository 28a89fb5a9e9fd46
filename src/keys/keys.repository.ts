import { type ExpressionBuilder, type SelectQueryBuilder, sql } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { ApiKeyRow, ApiKeyUpdate, Database, KeyEnvironment, NewApiKeyRow } from '../db/schema.js';
import type { KeyRowWithPeople } from './key-view.js';

/** Filters of the key list; `status` uses the displayed status (expired is derived). */
export interface KeyListFilter {
  q?: string;
  status?: 'active' | 'suspended' | 'revoked' | 'expired' | 'expiring';
  environment?: KeyEnvironment;
  ownerId?: string;
  /** Hex SHA-256 of a whole key: finds that key without the key itself ever being sent. */
  hash?: string;
  /** The key's last four characters, exactly. */
  last4?: string;
  /** Revoked keys (and rotated ones past their grace period): shown (the default), hidden, or alone. */
  revoked?: 'hide' | 'show' | 'only';
  sort?: 'createdAt' | 'name' | 'lastUsedAt' | 'expiresAt';
  order?: 'asc' | 'desc';
}

/** The columns of `apiKeys` its displayed status is derived from (`displayStatus`), for the repositories that join it. */
export const KEY_STATUS_COLUMNS = ['apiKeys.status', 'apiKeys.revokedAt', 'apiKeys.deletedAt', 'apiKeys.expiresAt', 'apiKeys.graceEndsAt'] as const;

/** How close to its expiry a key counts as "expiring soon". */
export const EXPIRING_SOON_MS = 14 * 24 * 60 * 60 * 1000;

type KeyQuery = SelectQueryBuilder<Database, 'apiKeys', object>;

function withPeople(db: DbOrTrx) {
  return db
    .selectFrom('apiKeys')
    .leftJoin('users as creator', 'creator.id', 'apiKeys.createdBy')
    .leftJoin('users as revoker', 'revoker.id', 'apiKeys.revokedBy')
    .selectAll('apiKeys')
    .select([
      'creator.email as creatorEmail',
      'creator.name as creatorName',
      'creator.status as creatorStatus',
      'revoker.email as revokerEmail',
      'revoker.name as revokerName',
      'revoker.status as revokerStatus',
    ]);
}

export async function findKeyView(db: DbOrTrx, orgId: string, id: string): Promise<KeyRowWithPeople | undefined> {
  return (await withPeople(db).where('apiKeys.orgId', '=', orgId).where('apiKeys.id', '=', id).where('apiKeys.deletedAt', 'is', null).executeTakeFirst()) as
    | KeyRowWithPeople
    | undefined;
}

export async function findKeyRow(db: DbOrTrx, orgId: string, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('apiKeys').selectAll().where('orgId', '=', orgId).where('id', '=', id).where('deletedAt', 'is', null).executeTakeFirst();
}

export async function insertKey(db: DbOrTrx, row: NewApiKeyRow): Promise<void> {
  await db.insertInto('apiKeys').values(row).execute();
}

export async function updateKey(db: DbOrTrx, id: string, patch: ApiKeyUpdate): Promise<void> {
  await db.updateTable('apiKeys').set(patch).where('id', '=', id).execute();
}

function applyFilter(query: KeyQuery, filter: KeyListFilter, now: string): KeyQuery {
  let q = query;
  if (filter.q) {
    // `%` and `_` in a search act as wildcards; harmless for a name search.
    const like = `%${filter.q.toLowerCase()}%`;
    q = q.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['apiKeys.name']), 'like', like),
        eb(eb.fn('lower', ['apiKeys.team']), 'like', like),
        eb(eb.fn('lower', ['apiKeys.start']), 'like', like),
        eb(eb.fn('lower', ['apiKeys.last4']), 'like', like),
      ]),
    );
  }
  if (filter.hash) q = q.where('apiKeys.hash', '=', filter.hash.toLowerCase());
  if (filter.last4) q = q.where('apiKeys.last4', '=', filter.last4);
  if (filter.environment) q = q.where('apiKeys.environment', '=', filter.environment);
  if (filter.ownerId) q = q.where('apiKeys.createdBy', '=', filter.ownerId);
  const notExpired = (eb: ExpressionBuilder<Database, 'apiKeys'>) => eb.or([eb('apiKeys.expiresAt', 'is', null), eb('apiKeys.expiresAt', '>', now)]);
  const notGraceEnded = (eb: ExpressionBuilder<Database, 'apiKeys'>) => eb.or([eb('apiKeys.graceEndsAt', 'is', null), eb('apiKeys.graceEndsAt', '>', now)]);
  // A key no longer usable because someone ended it: revoked, or the old key of a rotation whose grace has ended.
  const revoked = (eb: ExpressionBuilder<Database, 'apiKeys'>) => eb.or([eb('apiKeys.status', '=', 'revoked'), eb('apiKeys.graceEndsAt', '<=', now)]);
  // Spelled out rather than NOT(revoked): a key without a grace period has graceEndsAt NULL, and NOT(NULL) is not true.
  if (filter.revoked === 'hide') q = q.where('apiKeys.status', '!=', 'revoked').where(notGraceEnded);
  if (filter.revoked === 'only') q = q.where(revoked);
  switch (filter.status) {
    case 'revoked':
      q = q.where(revoked);
      break;
    case 'expired':
      q = q.where('apiKeys.status', '!=', 'revoked').where((eb) => eb.and([eb('apiKeys.expiresAt', '<=', now), notGraceEnded(eb)]));
      break;
    case 'active':
    case 'suspended':
      q = q.where('apiKeys.status', '=', filter.status).where(notExpired).where(notGraceEnded);
      break;
    case 'expiring': {
      const soon = new Date(Date.parse(now) + EXPIRING_SOON_MS).toISOString();
      q = q.where('apiKeys.status', '=', 'active').where('apiKeys.expiresAt', '>', now).where('apiKeys.expiresAt', '<=', soon).where(notGraceEnded);
      break;
    }
    default:
      break;
  }
  return q;
}

export async function listKeys(
  db: DbOrTrx,
  orgId: string,
  filter: KeyListFilter,
  page: { limit: number; offset: number },
  now: Date,
): Promise<{ rows: KeyRowWithPeople[]; total: number }> {
  const at = now.toISOString();
  const base = db.selectFrom('apiKeys').where('apiKeys.orgId', '=', orgId).where('apiKeys.deletedAt', 'is', null);
  const count = await applyFilter(base, filter, at)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  const sort = filter.sort ?? 'createdAt';
  const order = filter.order ?? (sort === 'name' ? 'asc' : 'desc');
  let query = withPeople(db).where('apiKeys.orgId', '=', orgId).where('apiKeys.deletedAt', 'is', null) as unknown as KeyQuery;
  query = applyFilter(query, filter, at);
  const rows = (await query
    .orderBy(sort === 'name' ? (eb) => eb.fn('lower', ['apiKeys.name']) : `apiKeys.${sort}`, order)
    .orderBy('apiKeys.id', order)
    .limit(page.limit)
    .offset(page.offset)
    .execute()) as unknown as KeyRowWithPeople[];
  return { rows, total: Number(count.n) };
}

/**
 * A live key: active or suspended, not deleted, not expired and not past the grace period of a
 * rotation. The one definition, used by the key limit, the member views and the name warning.
 */
export function liveKey(now: Date) {
  const at = now.toISOString();
  return (eb: ExpressionBuilder<Database, 'apiKeys'>) =>
    eb.and([
      eb('apiKeys.deletedAt', 'is', null),
      eb('apiKeys.status', 'in', ['active', 'suspended']),
      eb.or([eb('apiKeys.expiresAt', 'is', null), eb('apiKeys.expiresAt', '>', at)]),
      eb.or([eb('apiKeys.graceEndsAt', 'is', null), eb('apiKeys.graceEndsAt', '>', at)]),
    ]);
}

/** Live keys of an organisation. */
export async function countLiveKeys(db: DbOrTrx, orgId: string, now: Date): Promise<number> {
  const row = await db
    .selectFrom('apiKeys')
    .where('apiKeys.orgId', '=', orgId)
    .where(liveKey(now))
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Live keys each of these people created, by user id (absent: none). */
export async function liveKeyCountsByCreator(db: DbOrTrx, orgId: string, userIds: readonly string[], now: Date): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('apiKeys')
    .where('apiKeys.orgId', '=', orgId)
    .where('apiKeys.createdBy', 'in', userIds)
    .where(liveKey(now))
    .select((eb) => ['apiKeys.createdBy', eb.fn.countAll().as('n')])
    .groupBy('apiKeys.createdBy')
    .execute();
  return new Map(rows.map((row) => [row.createdBy ?? '', Number(row.n)]));
}

/** Other live keys with the same name (case-insensitive), for the portal's warning. */
export async function liveKeysNamed(db: DbOrTrx, orgId: string, name: string, exceptId: string | null, now: Date): Promise<number> {
  let query = db
    .selectFrom('apiKeys')
    .where('apiKeys.orgId', '=', orgId)
    .where(liveKey(now))
    .where((eb) => eb(eb.fn('lower', ['apiKeys.name']), '=', name.toLowerCase()));
  if (exceptId) query = query.where('apiKeys.id', '!=', exceptId);
  const row = await query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** What the gateway's key cache keeps of the key with this hash (deleted keys included). */
export function findKeyByHash(db: DbOrTrx, hash: string) {
  return db
    .selectFrom('apiKeys')
    .select(['id', 'orgId', 'name', 'status', 'deletedAt', 'revokedAt', 'expiresAt', 'graceEndsAt', 'replacedByKeyId'])
    .where('hash', '=', hash)
    .executeTakeFirst();
}

/** The organisation of a key that is not deleted (the operator's CLI knows only the key id). */
export async function findKeyOrgId(db: DbOrTrx, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('apiKeys').select('orgId').where('id', '=', id).where('deletedAt', 'is', null).executeTakeFirst();
  return row?.orgId;
}

/** Keys past their expiry whose "key expired" event is not written yet (at most `limit`). */
export function expiredUnrecorded(db: DbOrTrx, now: string, limit: number) {
  return db
    .selectFrom('apiKeys')
    .select(['id', 'orgId', 'name', 'expiresAt'])
    .where('expiresAt', '<=', now)
    .where('expiryRecordedAt', 'is', null)
    .where('status', '!=', 'revoked')
    .where('deletedAt', 'is', null)
    .limit(limit)
    .execute();
}

/** Marks a key's expiry as recorded; false when another node did it first. */
export async function claimExpiryRecord(db: DbOrTrx, id: string, now: string): Promise<boolean> {
  const claimed = await db.updateTable('apiKeys').set({ expiryRecordedAt: now }).where('id', '=', id).where('expiryRecordedAt', 'is', null).executeTakeFirst();
  return Number(claimed.numUpdatedRows) === 1;
}

/** Keys still working (active or suspended, not deleted, not past grace) that expire after `now` and by `until`. */
export function keysExpiringBetween(db: DbOrTrx, now: string, until: string, limit: number) {
  return db
    .selectFrom('apiKeys')
    .select(['id', 'orgId', 'expiresAt'])
    .where('expiresAt', '>', now)
    .where('expiresAt', '<=', until)
    .where('status', 'in', ['active', 'suspended'])
    .where('deletedAt', 'is', null)
    .orderBy('expiresAt')
    .limit(limit)
    .execute();
}

/** Every key of an organisation that is not deleted, with its people (the hygiene review reads them all). */
export async function allKeyViews(db: DbOrTrx, orgId: string): Promise<KeyRowWithPeople[]> {
  return (await withPeople(db)
    .where('apiKeys.orgId', '=', orgId)
    .where('apiKeys.deletedAt', 'is', null)
    .orderBy('apiKeys.createdAt')
    .execute()) as KeyRowWithPeople[];
}

/**
 * Moves keys' `lastUsedAt` forward to the given ISO times (never back: a late flush of older usage
 * leaves a newer time). One statement for the whole batch: a per-key UPDATE costs ~0.1 ms a key.
 */
export async function advanceLastUsed(db: DbOrTrx, batch: ReadonlyArray<readonly [keyId: string, at: string]>): Promise<void> {
  if (batch.length === 0) return;
  const rows = sql.join(batch.map(([keyId, at]) => sql`(${keyId}, ${at})`));
  await sql`update api_keys set last_used_at = v.column2 from (values ${rows}) as v
    where api_keys.id = v.column1 and (api_keys.last_used_at is null or api_keys.last_used_at < v.column2)`.execute(db);
}

/** Revokes a key unless it is revoked already; true for the one caller that changed it (two nodes racing revoke it once). */
export async function revokeUnlessRevoked(db: DbOrTrx, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('apiKeys')
    .set({ status: 'revoked', revokedAt: now, revokedBy: null })
    .where('id', '=', id)
    .where('status', '!=', 'revoked')
    .where('deletedAt', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Rotated keys waiting to be revoked once their flows have moved (at most `limit`). */
export function keysToDrain(db: DbOrTrx, limit: number) {
  return db
    .selectFrom('apiKeys')
    .select(['id', 'orgId'])
    .where('revokeWhenDrained', '=', 1)
    .where('status', 'in', ['active', 'suspended'])
    .where('deletedAt', 'is', null)
    .where('replacedByKeyId', 'is not', null)
    .limit(limit)
    .execute();
}

/** The keys (not deleted) one person created. */
export function keysCreatedBy(db: DbOrTrx, orgId: string, userId: string) {
  return db
    .selectFrom('apiKeys')
    .select(['id', 'name'])
    .where('orgId', '=', orgId)
    .where('createdBy', '=', userId)
    .where('deletedAt', 'is', null)
    .orderBy('createdAt')
    .execute();
}

/** Hands these keys to another owner. */
export async function setKeyOwner(db: DbOrTrx, orgId: string, ids: readonly string[], ownerId: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('apiKeys')
    .set({ createdBy: ownerId })
    .where('orgId', '=', orgId)
    .where('id', 'in', [...ids])
    .execute();
}
