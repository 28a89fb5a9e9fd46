import type { Db } from '../db/database.js';
import { currentPeriod, type BillingPeriod } from '../plans/period.js';
import {
  loadPeriodUsage,
  PeriodKeys,
  QuotaTracker,
  THRESHOLDS,
  type QuotaActionType,
  type QuotaDecision,
  type Quotas,
  type QuotaThreshold,
} from './quota-tracker.js';
import { forgetHeld, type HeldPlaces, type LeaseResult, type RedisLink } from './redis-link.js';

/** How long a shared count read from Redis answers `remaining` before it is read again. */
const SHARED_COUNT_FRESH_MS = 1000;

type OrgPeriod = { id: string; periodStart: string; periodEnd: string | null };

interface Lease extends HeldPlaces {
  /** Places used that the shared count does not hold yet (used while Redis was lost), added when it returns. */
  offline: number;
  /** Places handed to requests whose outcome is not known yet (not in the database's count). */
  pending: number;
  /** The limit the places were taken under: a lower one (the plan changed) voids them. */
  limit: number;
  fetching?: Promise<void>;
}

/**
 * Monthly quotas shared by every node through Redis, without a round trip per request: a node
 * leases places in blocks and serves requests from its lease; a place given back (the action
 * failed) returns to the lease; unused places return to Redis on close. Redis lost: the node
 * admits at most its share (what was left / expected nodes) and adds what it used when Redis returns.
 * Redis back empty (it lost every count): the count starts again from the database's, plus the
 * actions still running on each node; only successes not yet flushed (one USAGE_FLUSH_MS) can be missed.
 */
export class RedisQuotas implements Quotas {
  readonly #db: Db;
  readonly #link: RedisLink;
  readonly #nodes: number;
  readonly #maxBlock: number;
  readonly #leases = new Map<string, Lease>();
  /** The shared count as Redis last said it, for periods this node holds no lease of. */
  readonly #shared = new Map<string, { total: number; atMs: number; fetching?: Promise<void> }>();
  /** Unlimited quotas need no sharing. */
  readonly #unlimited: QuotaTracker;
  onThreshold: (event: QuotaThreshold) => void = () => {};

  constructor(db: Db, link: RedisLink, options: { expectedNodes?: number; maxBlock?: number } = {}) {
    this.#db = db;
    this.#link = link;
    this.#nodes = Math.max(1, options.expectedNodes ?? 2);
    this.#maxBlock = options.maxBlock ?? 100;
    this.#unlimited = new QuotaTracker(db);
    link.onCountsLost(() => {
      // The places held were counted in the lost counts only. What was used is in the database
      // (read as the new seed), except actions still running: those are reported with the next lease.
      for (const lease of this.#leases.values()) {
        forgetHeld(lease);
        lease.offline = lease.pending;
      }
      this.#shared.clear();
    });
  }

  /** The Redis key of an organisation's shared count per period and action type. */
  readonly #keys = new PeriodKeys((orgId, periodStart, actionType) => `${this.#link.prefix}quota:${orgId}:${periodStart}:${actionType}`);

  reserve(org: OrgPeriod, actionType: QuotaActionType, limit: number | null, nowMs: number): QuotaDecision | Promise<QuotaDecision> {
    if (limit === null) return this.#unlimited.reserve(org, actionType, limit, nowMs);
    const period = currentPeriod(org, nowMs);
    const key = this.#keys.key(org.id, period, actionType);
    const lease = this.#held(key, limit);
    // Fast path: a place from the lease, no round trip (unless Redis is back and local places must be reconciled).
    if (lease && lease.places > 0 && !(lease.local > 0 && this.#link.healthy)) return this.#admit(lease, limit, period);
    return this.#refill(key, org.id, actionType, period, limit, nowMs).then((filled) => {
      if (filled.places > 0) return this.#admit(filled, limit, period);
      // Another waiter took the fetched places: fetch again unless the shared budget is spent.
      if (filled.exhausted) return { ok: false as const, used: filled.total, limit, period };
      return this.reserve(org, actionType, limit, nowMs);
    });
  }

  #admit(lease: Lease, limit: number, period: BillingPeriod): QuotaDecision {
    lease.places--;
    lease.pending++;
    // Places granted while Redis was lost are not in the shared count: they are added when it returns.
    const local = lease.local > 0;
    if (local) {
      lease.local--;
      lease.offline++;
    }
    let settled = false;
    const settle = (success: boolean) => {
      if (settled) return;
      settled = true;
      lease.pending--;
      if (success) return;
      lease.places++;
      if (local) {
        lease.local++;
        lease.offline--;
      }
    };
    return {
      ok: true,
      reservation: { commit: () => settle(true), release: () => settle(false) },
      used: Math.max(0, lease.total - lease.places - 1),
      limit,
      period,
    };
  }

  /** Fetches a new block (one fetch at a time per key); on a Redis failure, grants the local share. */
  #refill(key: string, orgId: string, actionType: QuotaActionType, period: BillingPeriod, limit: number, nowMs: number): Promise<Lease> {
    let lease = this.#leases.get(key);
    if (!lease) {
      lease = { places: 0, total: 0, offline: 0, local: 0, pending: 0, limit, exhausted: false };
      this.#leases.set(key, lease);
    }
    const current = lease;
    if (!current.fetching) {
      current.fetching = this.#fetch(key, current, orgId, actionType, period, limit, nowMs).finally(() => {
        current.fetching = undefined;
      });
    }
    return current.fetching.then(() => current);
  }

  async #fetch(key: string, lease: Lease, orgId: string, actionType: QuotaActionType, period: BillingPeriod, limit: number, nowMs: number): Promise<void> {
    const ttlSeconds = Math.max(60, Math.ceil((Date.parse(period.end) - nowMs) / 1000) + 7 * 86_400);
    // The database's count, read only when Redis has none for the period (the first lease of the
    // period on any node, or Redis lost its counts), so the count starts from what was used until now.
    let seed: number | null = null;
    for (let attempt = 0; attempt < 4; attempt++) {
      const unreported = lease.offline;
      let result: LeaseResult;
      try {
        result = await this.#link.lease(key, { seed, limit, maxBlock: this.#maxBlock, divisor: 4 * this.#nodes, ttlSeconds, unreported });
      } catch (error) {
        this.#link.markDown(error);
        // Conservative local share: what was left when last known, split between the nodes.
        const known = lease.total > 0 ? lease.total : await loadPeriodUsage(this.#db, orgId, actionType, period);
        const share = Math.floor(Math.max(0, limit - known) / this.#nodes);
        const granted = Math.max(0, share - lease.offline);
        lease.places += granted;
        lease.local += granted;
        lease.total = known + granted;
        lease.limit = limit;
        lease.exhausted = granted === 0;
        return;
      }
      if (result === 'seed') {
        seed = await loadPeriodUsage(this.#db, orgId, actionType, period);
        continue;
      }
      if (result === 'again') continue; // Redis's epoch was new to this node: the lease is as it says now
      this.#link.markUp();
      // Back: what was used alone is in the shared count now; unused local places are dropped.
      lease.offline -= unreported;
      lease.places -= lease.local;
      lease.local = 0;
      const { taken, total } = result;
      const before = total - taken;
      lease.places += taken;
      lease.total = total;
      lease.limit = limit;
      lease.exhausted = taken === 0;
      for (const threshold of THRESHOLDS) {
        const at = Math.ceil((limit * threshold) / 100);
        if (before < at && total >= at) this.onThreshold({ orgId, actionType, threshold, used: at, limit, period });
      }
      return;
    }
    throw new Error("Redis's epoch or count changed on every lease");
  }

  /**
   * Places left this period for every node together. From the lease when this node holds one;
   * otherwise from the shared count as Redis said it at most a second ago (refreshed one read at
   * a time, the last value answering meanwhile), so asking costs no round trip per request.
   */
  remaining(org: OrgPeriod, actionType: QuotaActionType, limit: number | null, nowMs: number): number | null | Promise<number | null> {
    if (limit === null) return null;
    const period = currentPeriod(org, nowMs);
    const key = this.#keys.key(org.id, period, actionType);
    const left = (total: number, places: number) => Math.max(0, limit - total) + places;
    const lease = this.#held(key, limit);
    // A lease that knows the count (not one emptied because Redis lost its counts) answers from memory.
    if (lease && lease.total > 0 && this.#link.healthy) return left(lease.total, lease.places);
    const places = lease?.places ?? 0;
    let shared = this.#shared.get(key);
    if (!shared) {
      shared = { total: lease?.total ?? 0, atMs: Number.NEGATIVE_INFINITY };
      this.#shared.set(key, shared);
    }
    const known = shared;
    if (nowMs - known.atMs < SHARED_COUNT_FRESH_MS) return left(known.total, places);
    const hadValue = Number.isFinite(known.atMs);
    known.fetching ??= this.#link
      .count(key)
      .then(async (value) => {
        known.total = value === null ? await loadPeriodUsage(this.#db, org.id, actionType, period) : Number(value);
        known.atMs = nowMs;
      })
      .catch(() => {
        // Redis lost: what this node last knew, asked again a second later.
        known.total = Math.max(known.total, lease?.total ?? 0);
        known.atMs = nowMs;
      })
      .finally(() => {
        known.fetching = undefined;
      });
    if (hadValue) return left(known.total, places);
    return known.fetching.then(() => left(known.total, lease?.places ?? 0));
  }

  /**
   * The lease of `key`, after giving back the places it holds if they were taken under a higher
   * limit than `limit` (the plan changed): how many are left is then the shared count's to say.
   */
  #held(key: string, limit: number): Lease | undefined {
    const lease = this.#leases.get(key);
    if (lease && lease.places > 0 && limit < lease.limit) void this.#link.giveBack(key, lease);
    return lease;
  }

  /** The organisation's plan changed: the places this node holds go back, and the next request leases under the new limits. */
  release(orgId: string): void {
    const prefix = `${this.#link.prefix}quota:${orgId}:`;
    for (const [key, lease] of this.#leases) if (key.startsWith(prefix) && lease.places > 0) void this.#link.giveBack(key, lease);
    for (const key of this.#shared.keys()) if (key.startsWith(prefix)) this.#shared.delete(key);
  }

  /** Gives unused places back to the shared budget. */
  async close(): Promise<void> {
    await Promise.all([...this.#leases].map(([key, lease]) => this.#link.giveBack(key, lease)));
  }
}
