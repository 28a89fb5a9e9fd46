import { sql } from 'kysely';
import type { Db, Trx } from '../db/database.js';
import type { KeyFlowTable, KeyUsageDailyTable } from '../db/schema.js';
import { DAY } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import { addDailyCounts } from './usage.repository.js';

export type ActionType = KeyUsageDailyTable['actionType'];
export type Outcome = KeyUsageDailyTable['outcome'];

/** What the connector's headers tell about the calling flow or app. */
export interface FlowInfo {
  workflowName: string | null;
  workflowId: string | null;
  runId: string | null;
  location: string | null;
  clientEnvironmentId: string | null;
  userAgent: string | null;
}

export interface UsageEvent {
  keyId: string;
  orgId: string;
  /** Epoch milliseconds. */
  at: number;
  operation: string;
  actionType: ActionType;
  outcome: Outcome;
  /** Accepted requests move the key's `lastUsedAt`; refused ones only count. */
  accepted: boolean;
  flow: FlowInfo | null;
}

/** A day's count as buffered: `day` is the UTC day number (epoch ms / DAY), formatted at flush. */
type CountRow = Omit<KeyUsageDailyTable, 'day'> & { day: number };

/** A flow as buffered: times in epoch ms, formatted at flush; its row id is the digest of its map key. */
type FlowRow = Omit<KeyFlowTable, 'id' | 'label' | 'firstSeenAt' | 'lastSeenAt'> & { firstSeenAt: number; lastSeenAt: number; accepted: boolean };

/** Flows seen only in refused calls, buffered per flush at most: they update known flows and make none. */
const MAX_REFUSED_FLOWS = 10_000;

/** The identity of a flow: its workflow id, else its name, else the Power Apps environment, else the client. */
export function flowIdentity(flow: FlowInfo): string | null {
  if (flow.workflowId) return `wf:${flow.workflowId}`;
  if (flow.workflowName) return `wf:${flow.workflowName}`;
  if (flow.clientEnvironmentId) return `env:${flow.clientEnvironmentId}`;
  if (flow.userAgent) return `ua:${flow.userAgent}`;
  return null;
}

/** The buffer's key of a flow: its API key and identity. */
function flowKey(keyId: string, identity: string): string {
  return `${keyId}\n${identity}`;
}

/** The row id: a digest of the flow key, stable so every node computes the same id without reading. */
function flowId(key: string): string {
  return `flw_${sha256Hex(key).slice(0, 24)}`;
}

/** ISO time of epoch ms, as the tables store it. */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Collects usage in memory and writes it in one transaction per flush, so recording never
 * adds a database write to the request path. A failed flush keeps its counts for the next
 * (a database outage loses nothing): they merge back into the same entries, so memory grows
 * with distinct (key, day, operation, outcome) and flows (capped per key), not with requests.
 * Times stay epoch ms until the flush: recording compares numbers and formats no dates.
 */
export class UsageBuffer {
  readonly #db: Db;
  #counts = new Map<string, CountRow>();
  /** Per key, the row of #counts its last call was counted on (always a row of the current #counts). */
  #hot = new Map<string, CountRow>();
  #flows = new Map<string, FlowRow>();
  #lastUsed = new Map<string, number>();
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  onError: (error: unknown) => void = () => {};

  readonly #flowsPerKeyMax: number;

  /** `flowsPerKeyMax` (FLOWS_PER_KEY_MAX): flows remembered per key; calls of further flows count under the key only. */
  constructor(db: Db, options: { flowsPerKeyMax?: number } = {}) {
    this.#db = db;
    this.#flowsPerKeyMax = options.flowsPerKeyMax ?? 500;
  }

  record(event: UsageEvent): void {
    const at = event.at;
    const day = Math.floor(at / DAY);
    // A key's calls mostly land on the row its last call did: found by the key id alone, no key string built.
    const hot = this.#hot.get(event.keyId);
    if (hot && hot.day === day && hot.operation === event.operation && hot.outcome === event.outcome && hot.actionType === event.actionType) hot.count++;
    else {
      const countKey = `${event.keyId}|${day}|${event.operation}|${event.actionType}|${event.outcome}`;
      let counted = this.#counts.get(countKey);
      if (counted) counted.count++;
      else {
        counted = {
          keyId: event.keyId,
          orgId: event.orgId,
          day,
          operation: event.operation,
          actionType: event.actionType,
          outcome: event.outcome,
          count: 1,
        };
        this.#counts.set(countKey, counted);
      }
      this.#hot.set(event.keyId, counted);
    }

    if (event.accepted) {
      const previous = this.#lastUsed.get(event.keyId);
      if (previous === undefined || previous < at) this.#lastUsed.set(event.keyId, at);
    }
    // Only accepted calls make a flow: refused ones (a bad or revoked key, limits) would let
    // anyone grow the table with made-up workflow names. A refused call of a flow that exists
    // still counts on it (a flow calling a dead key is what the portal warns about).
    const identity = event.flow && flowIdentity(event.flow);
    if (event.flow && identity) {
      // The row id (a digest of this key) is computed once per flush, not per request.
      const key = flowKey(event.keyId, identity);
      const seen = this.#flows.get(key);
      if (seen) {
        seen.calls++;
        seen.accepted ||= event.accepted;
        if (at >= seen.lastSeenAt) {
          seen.lastSeenAt = at;
          seen.lastOutcome = event.outcome;
          seen.lastRunId = event.flow.runId ?? seen.lastRunId;
          seen.location = event.flow.location ?? seen.location;
          seen.userAgent = event.flow.userAgent ?? seen.userAgent;
          seen.workflowName = event.flow.workflowName ?? seen.workflowName;
        }
      } else if (event.accepted || this.#flows.size < MAX_REFUSED_FLOWS) {
        this.#flows.set(key, {
          accepted: event.accepted,
          keyId: event.keyId,
          orgId: event.orgId,
          workflowName: event.flow.workflowName,
          workflowId: event.flow.workflowId,
          lastRunId: event.flow.runId,
          location: event.flow.location,
          clientEnvironmentId: event.flow.clientEnvironmentId,
          userAgent: event.flow.userAgent,
          firstSeenAt: at,
          lastSeenAt: at,
          calls: 1,
          lastOutcome: event.outcome,
        });
      }
    }
  }

  get pending(): number {
    return this.#counts.size + this.#flows.size + this.#lastUsed.size;
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.flush().catch((error) => this.onError(error)), intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and writes everything still buffered. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Writes what is buffered; concurrent calls wait for the running flush and then flush again. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing.catch(() => {});
    if (this.pending === 0) return;
    this.#flushing = this.#write().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #write(): Promise<void> {
    const counts = this.#counts;
    const flows = this.#flows;
    const lastUsed = this.#lastUsed;
    this.#counts = new Map();
    this.#hot = new Map();
    this.#flows = new Map();
    this.#lastUsed = new Map();
    try {
      await this.#db.transaction().execute(async (trx) => {
        for (const batch of chunks(
          [...counts.values()].map((row) => ({ ...row, day: iso(row.day * DAY).slice(0, 10) })),
          200,
        )) {
          await addDailyCounts(trx, batch);
        }
        const all = [...flows].map(([key, { accepted, ...row }]) => ({
          accepted,
          row: { ...row, id: flowId(key), firstSeenAt: iso(row.firstSeenAt), lastSeenAt: iso(row.lastSeenAt) },
        }));
        const flowRows = await this.#withinFlowCap(
          trx,
          all.filter((f) => f.accepted).map((f) => f.row),
        );
        // Refused calls only: counted on flows that exist, never making one.
        for (const batch of chunks(
          all.filter((f) => !f.accepted).map((f) => f.row),
          200,
        )) {
          const rows = sql.join(batch.map((r) => sql`(${r.id}, cast(${r.calls} as integer), ${r.lastSeenAt}, ${r.lastOutcome}, ${r.lastRunId})`));
          const newer = sql`v.column3 >= key_flows.last_seen_at`;
          await sql`update key_flows set calls = key_flows.calls + v.column2,
              last_seen_at = case when ${newer} then v.column3 else key_flows.last_seen_at end,
              last_outcome = case when ${newer} then v.column4 else key_flows.last_outcome end,
              last_run_id = case when ${newer} then coalesce(v.column5, key_flows.last_run_id) else key_flows.last_run_id end
            from (values ${rows}) as v where key_flows.id = v.column1`.execute(trx);
        }
        for (const batch of chunks(flowRows, 100)) {
          const newer = sql`excluded.last_seen_at >= key_flows.last_seen_at`;
          await trx
            .insertInto('keyFlows')
            .values(batch)
            .onConflict((oc) =>
              oc.column('id').doUpdateSet((eb) => ({
                calls: eb('keyFlows.calls', '+', eb.ref('excluded.calls')),
                firstSeenAt: sql`case when excluded.first_seen_at < key_flows.first_seen_at then excluded.first_seen_at else key_flows.first_seen_at end`,
                lastSeenAt: sql`case when ${newer} then excluded.last_seen_at else key_flows.last_seen_at end`,
                lastOutcome: sql`case when ${newer} then excluded.last_outcome else key_flows.last_outcome end`,
                lastRunId: sql`case when ${newer} then coalesce(excluded.last_run_id, key_flows.last_run_id) else key_flows.last_run_id end`,
                location: sql`coalesce(excluded.location, key_flows.location)`,
                userAgent: sql`coalesce(excluded.user_agent, key_flows.user_agent)`,
                workflowName: sql`coalesce(excluded.workflow_name, key_flows.workflow_name)`,
              })),
            )
            .execute();
        }
        // One statement per 500 keys: a per-key UPDATE would hold the event loop for ~0.1 ms a key.
        for (const batch of chunks([...lastUsed], 500)) {
          const rows = sql.join(batch.map(([keyId, at]) => sql`(${keyId}, ${iso(at)})`));
          await sql`update api_keys set last_used_at = v.column2 from (values ${rows}) as v
            where api_keys.id = v.column1 and (api_keys.last_used_at is null or api_keys.last_used_at < v.column2)`.execute(trx);
        }
      });
    } catch (error) {
      this.#restore(counts, flows, lastUsed);
      throw error;
    }
  }

  /** Puts unwritten counts back so the next flush carries them; nothing is lost. */
  /** Rows of flows already known, and new ones while their key has fewer than FLOWS_PER_KEY_MAX. */
  async #withinFlowCap<T extends { id: string; keyId: string }>(trx: Trx, rows: T[]): Promise<T[]> {
    if (rows.length === 0) return rows;
    const known = new Set<string>();
    for (const batch of chunks(rows, 500)) {
      const found = await trx
        .selectFrom('keyFlows')
        .select('id')
        .where(
          'id',
          'in',
          batch.map((row) => row.id),
        )
        .execute();
      for (const { id } of found) known.add(id);
    }
    const fresh = rows.filter((row) => !known.has(row.id));
    if (fresh.length === 0) return rows;
    const keyIds = [...new Set(fresh.map((row) => row.keyId))];
    const counts = new Map<string, number>();
    for (const batch of chunks(keyIds, 500)) {
      const found = await trx
        .selectFrom('keyFlows')
        .select((eb) => ['keyId', eb.fn.countAll<number>().as('n')])
        .where('keyId', 'in', batch)
        .groupBy('keyId')
        .execute();
      for (const { keyId, n } of found) counts.set(keyId, Number(n));
    }
    return rows.filter((row) => {
      if (known.has(row.id)) return true;
      const n = counts.get(row.keyId) ?? 0;
      if (n >= this.#flowsPerKeyMax) return false;
      counts.set(row.keyId, n + 1);
      return true;
    });
  }

  #restore(counts: Map<string, CountRow>, flows: Map<string, FlowRow>, lastUsed: Map<string, number>): void {
    for (const [key, row] of counts) {
      const now = this.#counts.get(key);
      if (now) now.count += row.count;
      else this.#counts.set(key, row);
    }
    for (const [id, row] of flows) {
      const now = this.#flows.get(id);
      if (!now) this.#flows.set(id, row);
      else {
        now.calls += row.calls;
        now.accepted ||= row.accepted;
        if (row.firstSeenAt < now.firstSeenAt) now.firstSeenAt = row.firstSeenAt;
      }
    }
    for (const [keyId, at] of lastUsed) {
      const now = this.#lastUsed.get(keyId);
      if (now === undefined || now < at) this.#lastUsed.set(keyId, at);
    }
  }
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
