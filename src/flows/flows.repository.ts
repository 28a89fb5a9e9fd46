/**
 * The only module that reads or writes `flows` (the organisation's inventory of flows) and
 * `flow_keys` (the keys each flow has called). It joins `api_keys` to read a key's name and
 * state alongside its own rows.
 */
import { type ExpressionBuilder, sql } from 'kysely';
import type { DbOrTrx, Trx } from '../db/database.js';
import type { Database, FlowKeyTable, FlowTable } from '../db/schema.js';
import { sha256Hex } from '../lib/hash.js';
import { chunks } from '../lib/chunks.js';
import { inTurns } from '../lib/turns.js';
import { EXPIRING_SOON_MS, KEY_STATUS_COLUMNS, liveKey } from '../keys/keys.repository.js';

/** The id of a flow: its organisation, environment and workflow name digested, the same on every node. */
export function flowIdOf(orgId: string, environmentId: string | null, workflowName: string): string {
  return `flw_${sha256Hex(`${orgId}\n${environmentId ?? ''}\n${workflowName}`).slice(0, 24)}`;
}

/** What one flush saw of one flow through one key. */
export interface FlowActivity extends Omit<FlowTable, 'id' | 'label'> {
  keyId: string;
  /** Whether any of these calls was accepted: only accepted calls make a new flow. */
  accepted: boolean;
}

/** Filters of the flow list. */
export interface FlowListFilter {
  keyId?: string;
  environmentId?: string;
  /** Only flows whose latest key is revoked, expired or expiring within 14 days (they need the new key). */
  onRevokedOrExpiring?: boolean;
}

/** Activities worked through between two turns of the event loop while a flush is written. */
const SLICE = 250;

/** Oldest first, compared as text (the times are ISO strings of one form; a collation is slower). */
const oldestFirst = (x: FlowActivity, y: FlowActivity) => (x.lastSeenAt < y.lastSeenAt ? -1 : x.lastSeenAt > y.lastSeenAt ? 1 : 0);

/** One row per flow, whichever keys it came through: their calls add up, and the latest call decides its details. */
function flowRow(id: string, through: FlowActivity[]): Omit<FlowTable, 'label'> {
  if (through.length > 1) through.sort(oldestFirst);
  const first = through[0]!;
  const flow: Omit<FlowTable, 'label'> = {
    id,
    orgId: first.orgId,
    workflowName: first.workflowName,
    environmentId: first.environmentId,
    workflowId: first.workflowId,
    location: first.location,
    userAgent: first.userAgent,
    firstSeenAt: first.firstSeenAt,
    lastSeenAt: first.lastSeenAt,
    calls: first.calls,
    lastOutcome: first.lastOutcome,
    lastRunId: first.lastRunId,
  };
  for (let i = 1; i < through.length; i++) {
    const a = through[i]!;
    flow.calls += a.calls;
    if (a.firstSeenAt < flow.firstSeenAt) flow.firstSeenAt = a.firstSeenAt;
    flow.lastSeenAt = a.lastSeenAt;
    flow.lastOutcome = a.lastOutcome;
    flow.lastRunId = a.lastRunId ?? flow.lastRunId;
    flow.workflowId = a.workflowId ?? flow.workflowId;
    flow.location = a.location ?? flow.location;
    flow.userAgent = a.userAgent ?? flow.userAgent;
  }
  return flow;
}

/**
 * Writes a flush's flow activity: flows and their keys are upserted (counts add up across
 * nodes). A flow seen only in refused calls is never created (anyone could make up workflow
 * names for a dead key), only counted when it exists; a key makes at most `perKeyMax` flows.
 * The rows are worked out a slice at a time with turns of the event loop between, as the
 * statements run: worked out in one piece, 10,000 flows held every request for 30-60 ms.
 */
export async function writeFlowActivity(trx: Trx, activity: readonly FlowActivity[], perKeyMax: number): Promise<void> {
  if (activity.length === 0) return;
  const flowIds: string[] = [];
  await inTurns(activity.length, SLICE, (i) => {
    const a = activity[i]!;
    flowIds.push(flowIdOf(a.orgId, a.environmentId, a.workflowName));
  });
  const allowed = new Set<string>();
  for (const batch of chunks([...new Set(flowIds)], 500)) {
    for (const { id } of await trx.selectFrom('flows').select('id').where('id', 'in', batch).execute()) allowed.add(id);
  }
  const freshKeys = new Set<string>();
  activity.forEach((a, i) => {
    if (a.accepted && !allowed.has(flowIds[i]!)) freshKeys.add(a.keyId);
  });
  const perKey = await flowCountsByKey(trx, [...freshKeys]);
  activity.forEach((a, i) => {
    const flowId = flowIds[i]!;
    if (allowed.has(flowId) || !a.accepted) return;
    const n = perKey.get(a.keyId) ?? 0;
    if (n >= perKeyMax) return;
    perKey.set(a.keyId, n + 1);
    allowed.add(flowId);
  });
  // Per flow written, what each of its keys saw (indexes into `activity`).
  const byFlow = new Map<string, number[]>();
  await inTurns(activity.length, SLICE, (i) => {
    const flowId = flowIds[i]!;
    if (!allowed.has(flowId)) return;
    const through = byFlow.get(flowId);
    if (through) through.push(i);
    else byFlow.set(flowId, [i]);
  });
  const kept = [...byFlow.values()];
  const flows: Array<Omit<FlowTable, 'label'>> = [];
  await inTurns(kept.length, SLICE, (k) => {
    const through = kept[k]!;
    flows.push(
      flowRow(
        flowIds[through[0]!]!,
        through.map((i) => activity[i]!),
      ),
    );
  });

  for (const batch of chunks(flows, 100)) {
    const newer = sql`excluded.last_seen_at >= flows.last_seen_at`;
    await trx
      .insertInto('flows')
      .values(batch)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          calls: eb('flows.calls', '+', eb.ref('excluded.calls')),
          firstSeenAt: sql`case when excluded.first_seen_at < flows.first_seen_at then excluded.first_seen_at else flows.first_seen_at end`,
          lastSeenAt: sql`case when ${newer} then excluded.last_seen_at else flows.last_seen_at end`,
          lastOutcome: sql`case when ${newer} then excluded.last_outcome else flows.last_outcome end`,
          lastRunId: sql`case when ${newer} then coalesce(excluded.last_run_id, flows.last_run_id) else flows.last_run_id end`,
          workflowId: sql`coalesce(excluded.workflow_id, flows.workflow_id)`,
          location: sql`coalesce(excluded.location, flows.location)`,
          userAgent: sql`coalesce(excluded.user_agent, flows.user_agent)`,
        })),
      )
      .execute();
  }
  for (const batch of chunks(kept.flat(), 100)) {
    const newer = sql`excluded.last_seen_at >= flow_keys.last_seen_at`;
    await trx
      .insertInto('flowKeys')
      .values(
        batch.map((i): FlowKeyTable => {
          const a = activity[i]!;
          return {
            flowId: flowIds[i]!,
            keyId: a.keyId,
            orgId: a.orgId,
            firstSeenAt: a.firstSeenAt,
            lastSeenAt: a.lastSeenAt,
            calls: a.calls,
            lastOutcome: a.lastOutcome,
          };
        }),
      )
      .onConflict((oc) =>
        oc.columns(['flowId', 'keyId']).doUpdateSet((eb) => ({
          calls: eb('flowKeys.calls', '+', eb.ref('excluded.calls')),
          firstSeenAt: sql`case when excluded.first_seen_at < flow_keys.first_seen_at then excluded.first_seen_at else flow_keys.first_seen_at end`,
          lastSeenAt: sql`case when ${newer} then excluded.last_seen_at else flow_keys.last_seen_at end`,
          lastOutcome: sql`case when ${newer} then excluded.last_outcome else flow_keys.last_outcome end`,
        })),
      )
      .execute();
  }
}

/** How many flows have called each of these keys (absent: none). */
export async function flowCountsByKey(db: DbOrTrx, keyIds: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const batch of chunks([...new Set(keyIds)], 500)) {
    const rows = await db
      .selectFrom('flowKeys')
      .select((eb) => ['keyId', eb.fn.countAll<number>().as('n')])
      .where('keyId', 'in', batch)
      .groupBy('keyId')
      .execute();
    for (const { keyId, n } of rows) counts.set(keyId, Number(n));
  }
  return counts;
}

type FlowKeyEb = ExpressionBuilder<Database, 'flowKeys' | 'apiKeys'>;

/** A key a flow should no longer rely on: not live (revoked, expired, past grace, deleted), or expiring within 14 days. */
function unhealthyKey(now: Date) {
  const soon = new Date(now.getTime() + EXPIRING_SOON_MS).toISOString();
  const live = liveKey(now);
  return (eb: FlowKeyEb) =>
    eb.or([
      eb.not(live(eb as unknown as ExpressionBuilder<Database, 'apiKeys'>)),
      eb.and([eb('apiKeys.expiresAt', 'is not', null), eb('apiKeys.expiresAt', '<=', soon)]),
    ]);
}

function filtered(db: DbOrTrx, orgId: string, filter: FlowListFilter, now: Date) {
  let query = db.selectFrom('flows').where('flows.orgId', '=', orgId);
  if (filter.environmentId) query = query.where('flows.environmentId', '=', filter.environmentId);
  if (filter.keyId) {
    const keyId = filter.keyId;
    query = query.where((eb) =>
      eb.exists(eb.selectFrom('flowKeys').select('flowKeys.flowId').whereRef('flowKeys.flowId', '=', 'flows.id').where('flowKeys.keyId', '=', keyId)),
    );
  }
  if (filter.onRevokedOrExpiring) {
    const unhealthy = unhealthyKey(now);
    // A flow whose most recent call went through a key it should no longer use.
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('flowKeys')
          .innerJoin('apiKeys', 'apiKeys.id', 'flowKeys.keyId')
          .select('flowKeys.flowId')
          .whereRef('flowKeys.flowId', '=', 'flows.id')
          .whereRef('flowKeys.lastSeenAt', '=', 'flows.lastSeenAt')
          .where(unhealthy),
      ),
    );
  }
  return query;
}

/** A page of the organisation's flows, most recently seen first. */
export async function listFlows(db: DbOrTrx, orgId: string, filter: FlowListFilter, page: { limit: number; offset: number }, now: Date) {
  const [rows, count] = await Promise.all([
    filtered(db, orgId, filter, now).selectAll('flows').orderBy('flows.lastSeenAt', 'desc').orderBy('flows.id').limit(page.limit).offset(page.offset).execute(),
    filtered(db, orgId, filter, now)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** The flows of an organisation last seen at `from` or later and before `to`, most calls (since first seen) first. */
export function flowsSeenBetween(db: DbOrTrx, orgId: string, from: string, to: string, limit: number) {
  return db
    .selectFrom('flows')
    .select(['id', 'label', 'workflowName', 'calls', 'lastSeenAt'])
    .where('orgId', '=', orgId)
    .where('lastSeenAt', '>=', from)
    .where('lastSeenAt', '<', to)
    .orderBy('calls', 'desc')
    .orderBy('lastSeenAt', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}

export function findFlow(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('flows').selectAll().where('orgId', '=', orgId).where('id', '=', id).executeTakeFirst();
}

/** Sets a flow's label; false when the organisation has no such flow. */
export async function setFlowLabel(db: DbOrTrx, orgId: string, id: string, label: string | null): Promise<boolean> {
  const result = await db.updateTable('flows').set({ label }).where('orgId', '=', orgId).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The keys these flows have called, with each key's name, last four characters, state and successor, most recent first. */
export function keysOfFlows(db: DbOrTrx, orgId: string, flowIds: readonly string[]) {
  if (flowIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('flowKeys')
    .innerJoin('apiKeys', 'apiKeys.id', 'flowKeys.keyId')
    .select([
      'flowKeys.flowId',
      'flowKeys.keyId',
      'flowKeys.firstSeenAt',
      'flowKeys.lastSeenAt',
      'flowKeys.calls',
      'flowKeys.lastOutcome',
      'apiKeys.name',
      'apiKeys.last4',
      'apiKeys.replacedByKeyId',
      ...KEY_STATUS_COLUMNS,
      'apiKeys.suspendedAt',
    ])
    .where('flowKeys.orgId', '=', orgId)
    .where('flowKeys.flowId', 'in', [...flowIds])
    .orderBy('flowKeys.lastSeenAt', 'desc')
    .execute();
}

/** Every flow that called one of these keys (at `since` or later, when given), with the key and the flow's label. */
export function sightingsOnKeys(db: DbOrTrx, orgId: string, keyIds: readonly string[], since?: string) {
  if (keyIds.length === 0) return Promise.resolve([]);
  let query = db
    .selectFrom('flowKeys')
    .innerJoin('flows', 'flows.id', 'flowKeys.flowId')
    .select([
      'flowKeys.flowId',
      'flowKeys.keyId',
      'flowKeys.firstSeenAt',
      'flowKeys.lastSeenAt',
      'flowKeys.calls',
      'flowKeys.lastOutcome',
      'flows.label',
      'flows.workflowName',
      'flows.environmentId',
      'flows.workflowId',
      'flows.lastRunId',
      'flows.location',
      'flows.userAgent',
    ])
    .where('flowKeys.orgId', '=', orgId)
    .where('flowKeys.keyId', 'in', [...keyIds]);
  if (since) query = query.where('flowKeys.lastSeenAt', '>=', since);
  return query.orderBy('flowKeys.lastSeenAt', 'desc').orderBy('flowKeys.flowId').execute();
}
