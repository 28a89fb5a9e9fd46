/**
 * The only module that reads or writes the `keyUsageDaily` table: usage counted per key, day,
 * operation and outcome. It joins `api_keys` to read a key's name and state alongside its rows.
 */
import type { DbOrTrx } from '../db/database.js';
import { KEY_STATUS_COLUMNS } from '../keys/keys.repository.js';
import type { KeyUsageDailyTable } from '../db/schema.js';
import type { QuotaActionType } from '../plans/catalogue.js';

/** Adds counts to the day's rows (creating them), in batches; counts from several nodes add up. */
export async function addDailyCounts(db: DbOrTrx, rows: readonly KeyUsageDailyTable[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('keyUsageDaily')
    .values([...rows])
    .onConflict((oc) =>
      oc.columns(['keyId', 'day', 'operation', 'actionType', 'outcome']).doUpdateSet((eb) => ({
        count: eb('keyUsageDaily.count', '+', eb.ref('excluded.count')),
      })),
    )
    .execute();
}

/** Successful actions of one type of an organisation between two days (`toDay` exclusive). */
export async function successfulActions(db: DbOrTrx, orgId: string, actionType: QuotaActionType, fromDay: string, toDay: string): Promise<number> {
  const row = await db
    .selectFrom('keyUsageDaily')
    .select((eb) => eb.fn.sum<number>('count').as('used'))
    .where('orgId', '=', orgId)
    .where('actionType', '=', actionType)
    .where('outcome', '=', 'success')
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .executeTakeFirst();
  return Number(row?.used ?? 0);
}

/** Every usage row of an organisation between two days (`toDay` exclusive), all keys summed. */
export function organisationUsage(db: DbOrTrx, orgId: string, fromDay: string, toDay: string) {
  return db
    .selectFrom('keyUsageDaily')
    .select(['day', 'operation', 'actionType', 'outcome', (eb) => eb.fn.sum<number>('count').as('count')])
    .where('orgId', '=', orgId)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .groupBy(['day', 'operation', 'actionType', 'outcome'])
    .orderBy('day')
    .orderBy('operation')
    .execute();
}

/**
 * The keys of an organisation with the most requests between two days (`toDay` exclusive), most
 * first: every request (`calls`) and the refused ones (`refused`), with the key's name, last four
 * characters and state (deleted keys too: their calls were made).
 */
export async function usageByKey(db: DbOrTrx, orgId: string, fromDay: string, toDay: string, limit: number) {
  const rows = await db
    .selectFrom('keyUsageDaily')
    .innerJoin('apiKeys', (join) => join.onRef('apiKeys.id', '=', 'keyUsageDaily.keyId').onRef('apiKeys.orgId', '=', 'keyUsageDaily.orgId'))
    .select((eb) => [
      'keyUsageDaily.keyId',
      'apiKeys.name',
      'apiKeys.last4',
      ...KEY_STATUS_COLUMNS,
      eb.fn.sum<number>('keyUsageDaily.count').as('calls'),
      eb.fn.sum<number>(eb.case().when('keyUsageDaily.outcome', '=', 'rejected').then(eb.ref('keyUsageDaily.count')).else(0).end()).as('refused'),
    ])
    .where('keyUsageDaily.orgId', '=', orgId)
    .where('keyUsageDaily.day', '>=', fromDay)
    .where('keyUsageDaily.day', '<', toDay)
    .groupBy(['keyUsageDaily.keyId', 'apiKeys.name', 'apiKeys.last4', ...KEY_STATUS_COLUMNS])
    .orderBy('calls', 'desc')
    .orderBy('apiKeys.name')
    .orderBy('keyUsageDaily.keyId')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ ...row, calls: Number(row.calls), refused: Number(row.refused) }));
}

/** One key's rows between two days (both inclusive). */
export function keyUsage(db: DbOrTrx, orgId: string, keyId: string, fromDay: string, toDay: string) {
  return db
    .selectFrom('keyUsageDaily')
    .select(['day', 'operation', 'actionType', 'outcome', 'count'])
    .where('keyId', '=', keyId)
    .where('orgId', '=', orgId)
    .where('day', '>=', fromDay)
    .where('day', '<=', toDay)
    .orderBy('day')
    .orderBy('operation')
    .orderBy('outcome')
    .execute();
}

/** Successful actions per organisation and action type between two days (`toDay` exclusive), for the organisations given. */
export async function successfulActionsByOrg(db: DbOrTrx, orgIds: readonly string[], fromDay: string, toDay: string) {
  if (orgIds.length === 0) return [];
  const rows = await db
    .selectFrom('keyUsageDaily')
    .select((eb) => ['orgId', 'actionType', eb.fn.sum<number>('count').as('used')])
    .where('orgId', 'in', orgIds)
    .where('outcome', '=', 'success')
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .groupBy(['orgId', 'actionType'])
    .execute();
  return rows.map((row) => ({ orgId: row.orgId, actionType: row.actionType, used: Number(row.used) }));
}
