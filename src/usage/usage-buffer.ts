import type { Db } from '../db/database.js';
import type { KeyUsageDailyTable } from '../db/schema.js';
import { type FlowActivity, writeFlowActivity } from '../flows/flows.repository.js';
import { advanceLastUsed } from '../keys/keys.repository.js';
import { type Clock, DAY, MINUTE, systemClock } from '../lib/clock.js';
import { chunks } from '../lib/chunks.js';
import { inTurns } from '../lib/turns.js';
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
  /** The key was rotated: its `lastUsedAt` is written at the next flush, however recently it was written. */
  replacedKey?: boolean;
  flow: FlowInfo | null;
}

/** A day's count as buffered: `day` is the UTC day number (epoch ms / DAY), formatted at flush. */
type CountRow = Omit<KeyUsageDailyTable, 'day'> & { day: number };

/** A flow's calls through one key as buffered: times in epoch ms, formatted at flush. */
type FlowRow = Omit<FlowActivity, 'firstSeenAt' | 'lastSeenAt'> & { firstSeenAt: number; lastSeenAt: number };

/** Usage held in memory that could not be written, as `UsageBuffer.unwritten()` gives it. */
export interface UnwrittenUsage {
  counts: CountRow[];
  flows: FlowRow[];
  lastUsed: Array<[keyId: string, atMs: number]>;
}

/** Rows per statement when writing: each statement and its building run without a turn of the event loop. */
const BATCH = 200;

/**
 * How often at most a key's `lastUsedAt` is written (per node): a key's first call since is written
 * at the next flush, later ones once this long has passed. Writing it every second rewrote the row
 * of every key in use every second (on PostgreSQL a new row version each time).
 */
export const LAST_USED_EVERY_MS = MINUTE;

/** Flows seen only in refused calls, buffered per flush at most: they update known flows and make none. */
const MAX_REFUSED_FLOWS = 10_000;

/** The buffer's key of a flow through a key: the key, the environment and the workflow name. */
function flowRowKey(keyId: string, environmentId: string | null, workflowName: string): string {
  return `${keyId}\n${environmentId ?? ''}\n${workflowName}`;
}

/** The buffer's key of a day's count. */
function countKey(row: Pick<CountRow, 'keyId' | 'day' | 'operation' | 'actionType' | 'outcome'>): string {
  return `${row.keyId}|${row.day}|${row.operation}|${row.actionType}|${row.outcome}`;
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
  /** Per key, the row of #flows its last flow call was counted on: a flow's next call finds it without building its key. */
  #hotFlows = new Map<string, FlowRow>();
  #lastUsed = new Map<string, number>();
  /** Per key, when (clock ms) this node last wrote its `lastUsedAt`, for the keys written within LAST_USED_EVERY_MS. */
  #lastUsedWritten = new Map<string, number>();
  /** Rotated keys called since the last flush: their `lastUsedAt` is due at once. */
  #lastUsedNow = new Set<string>();
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  onError: (error: unknown) => void = () => {};

  readonly #flowsPerKeyMax: number;
  readonly #clock: Pick<Clock, 'nowMs'>;
  readonly #lastUsedEveryMs: number;

  /**
   * `flowsPerKeyMax` (FLOWS_PER_KEY_MAX): flows remembered per key; calls of further flows count
   * under the key only. `clock` decides when a key's `lastUsedAt` is due again (`lastUsedEveryMs`).
   */
  constructor(db: Db, options: { flowsPerKeyMax?: number; clock?: Pick<Clock, 'nowMs'>; lastUsedEveryMs?: number } = {}) {
    this.#db = db;
    this.#flowsPerKeyMax = options.flowsPerKeyMax ?? 500;
    this.#clock = options.clock ?? systemClock;
    this.#lastUsedEveryMs = options.lastUsedEveryMs ?? LAST_USED_EVERY_MS;
  }

  record(event: UsageEvent): void {
    const at = event.at;
    const day = Math.floor(at / DAY);
    // A key's calls mostly land on the row its last call did: found by the key id alone, no key string built.
    const hot = this.#hot.get(event.keyId);
    if (hot && hot.day === day && hot.operation === event.operation && hot.outcome === event.outcome && hot.actionType === event.actionType) hot.count++;
    else {
      const key = countKey({ keyId: event.keyId, day, operation: event.operation, actionType: event.actionType, outcome: event.outcome });
      let counted = this.#counts.get(key);
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
        this.#counts.set(key, counted);
      }
      this.#hot.set(event.keyId, counted);
    }

    if (event.accepted) {
      const previous = this.#lastUsed.get(event.keyId);
      if (previous === undefined || previous < at) this.#lastUsed.set(event.keyId, at);
      if (event.replacedKey) this.#lastUsedNow.add(event.keyId);
    }
    // Only a call carrying `x-ms-workflow-name` is a flow's (CONTRACT §10); the portal's connection
    // test, scripts and Power Apps count as the key's direct calls.
    const flow = event.flow;
    if (flow?.workflowName) this.#recordFlow(event, flow, flow.workflowName);
  }

  /**
   * Only accepted calls make a flow: refused ones (a bad or revoked key, limits) would let anyone
   * grow the table with made-up workflow names. A refused call of a flow that exists still counts
   * on it (a flow calling a dead key is what the portal warns about).
   */
  #recordFlow(event: UsageEvent, flow: FlowInfo, workflowName: string): void {
    const at = event.at;
    let seen = this.#hotFlows.get(event.keyId);
    if (seen === undefined || seen.workflowName !== workflowName || seen.environmentId !== flow.clientEnvironmentId) {
      const key = flowRowKey(event.keyId, flow.clientEnvironmentId, workflowName);
      seen = this.#flows.get(key);
      if (seen === undefined) {
        if (!event.accepted && this.#flows.size >= MAX_REFUSED_FLOWS) return;
        const row: FlowRow = {
          accepted: event.accepted,
          keyId: event.keyId,
          orgId: event.orgId,
          workflowName,
          environmentId: flow.clientEnvironmentId,
          workflowId: flow.workflowId,
          lastRunId: flow.runId,
          location: flow.location,
          userAgent: flow.userAgent,
          firstSeenAt: at,
          lastSeenAt: at,
          calls: 1,
          lastOutcome: event.outcome,
        };
        this.#flows.set(key, row);
        this.#hotFlows.set(event.keyId, row);
        return;
      }
      this.#hotFlows.set(event.keyId, seen);
    }
    seen.calls++;
    seen.accepted ||= event.accepted;
    if (at >= seen.lastSeenAt) {
      seen.lastSeenAt = at;
      seen.lastOutcome = event.outcome;
      seen.lastRunId = flow.runId ?? seen.lastRunId;
      seen.location = flow.location ?? seen.location;
      seen.userAgent = flow.userAgent ?? seen.userAgent;
      seen.workflowId = flow.workflowId ?? seen.workflowId;
    }
  }

  get pending(): number {
    return this.#counts.size + this.#flows.size + this.#lastUsed.size;
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.flush().catch((error) => this.onError(error)), intervalMs);
    this.#timer.unref();
  }

  /**
   * Stops the timer and writes everything still buffered. While the database cannot be written,
   * tries again (every `retryEveryMs`) for `retryForMs`; then rejects with everything still held.
   */
  async stop(options: { retryForMs?: number; retryEveryMs?: number; onRetry?: (error: unknown) => void } = {}): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const until = Date.now() + (options.retryForMs ?? 0);
    for (;;) {
      try {
        await this.flush({ all: true });
        return;
      } catch (error) {
        if (Date.now() >= until) throw error;
        options.onRetry?.(error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(options.retryEveryMs ?? 500, Math.max(0, until - Date.now()))));
      }
    }
  }

  /** What is buffered and not written yet, as plain data (times in epoch ms; no secret is among it). */
  unwritten(): UnwrittenUsage {
    return { counts: [...this.#counts.values()], flows: [...this.#flows.values()], lastUsed: [...this.#lastUsed] };
  }

  /** Takes back usage that an earlier process could not write (`unwritten()`); the next flush writes it. */
  add(usage: UnwrittenUsage): void {
    this.#restore(
      new Map(usage.counts.map((row) => [countKey(row), { ...row }])),
      new Map(usage.flows.map((row) => [flowRowKey(row.keyId, row.environmentId, row.workflowName), { ...row }])),
      new Map(usage.lastUsed),
    );
  }

  /**
   * Writes what is buffered; concurrent calls wait for the running flush and then flush again.
   * `all`: also the `lastUsedAt` times not due yet (at shutdown).
   */
  async flush(options: { all?: boolean } = {}): Promise<void> {
    while (this.#flushing) await this.#flushing.catch(() => {});
    if (this.pending === 0) return;
    this.#flushing = this.#write(options.all === true).finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #write(all: boolean): Promise<void> {
    const counts = this.#counts;
    const flows = this.#flows;
    const now = this.#clock.nowMs();
    const lastUsed = this.#dueLastUsed(now, all);
    this.#counts = new Map();
    this.#hot = new Map();
    this.#flows = new Map();
    this.#hotFlows = new Map();
    if (counts.size === 0 && flows.size === 0 && lastUsed.size === 0) return;
    try {
      await this.#db.transaction().execute(async (trx) => {
        // Batches made one at a time: the database driver lets the event loop turn between
        // statements, and a batch's rows are formatted just before they are written.
        for (const batch of chunks([...counts.values()], BATCH)) {
          await addDailyCounts(
            trx,
            batch.map((row) => ({ ...row, day: iso(row.day * DAY).slice(0, 10) })),
          );
        }
        const flowRows = [...flows.values()];
        const activity: FlowActivity[] = [];
        await inTurns(flowRows.length, BATCH, (i) => {
          const row = flowRows[i]!;
          activity.push({ ...row, firstSeenAt: iso(row.firstSeenAt), lastSeenAt: iso(row.lastSeenAt) });
        });
        await writeFlowActivity(trx, activity, this.#flowsPerKeyMax);
        for (const batch of chunks([...lastUsed], BATCH)) {
          await advanceLastUsed(
            trx,
            batch.map(([keyId, at]) => [keyId, iso(at)] as const),
          );
        }
      });
    } catch (error) {
      this.#restore(counts, flows, lastUsed);
      // They were due: the next flush writes them, however recently an earlier one did.
      for (const keyId of lastUsed.keys()) this.#lastUsedNow.add(keyId);
      throw error;
    }
    for (const keyId of lastUsed.keys()) this.#lastUsedWritten.set(keyId, now);
  }

  /**
   * Takes the `lastUsedAt` times to write now out of the buffer: a key's first since it was last
   * written more than `lastUsedEveryMs` ago, a rotated key's always (the rotation tells whether
   * the old key had no call for 15 minutes), or every one when `all`. The others stay buffered
   * (the latest kept), so a key's last call is written at most `lastUsedEveryMs` and a flush later.
   * Keys written longer ago than that are forgotten: their next call is due at once.
   */
  #dueLastUsed(now: number, all: boolean): Map<string, number> {
    // A clock set back (now < at) ends the wait too, rather than holding the times until it catches up.
    for (const [keyId, at] of this.#lastUsedWritten) if (now - at >= this.#lastUsedEveryMs || now < at) this.#lastUsedWritten.delete(keyId);
    const atOnce = this.#lastUsedNow;
    this.#lastUsedNow = new Set();
    if (all || this.#lastUsedWritten.size === 0) {
      const due = this.#lastUsed;
      this.#lastUsed = new Map();
      return due;
    }
    const due = new Map<string, number>();
    for (const [keyId, at] of this.#lastUsed) {
      if (this.#lastUsedWritten.has(keyId) && !atOnce.has(keyId)) continue;
      due.set(keyId, at);
      this.#lastUsed.delete(keyId);
    }
    return due;
  }

  /** Puts unwritten counts back so the next flush carries them; nothing is lost. */
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
