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
import { forgetHeld, type HeldPlaces, type HolderSettlement, type LeaseResult, type RedisLink } from './redis-link.js';

/** How long a shared count read from Redis answers `remaining` before it is read again. */
const SHARED_COUNT_FRESH_MS = 1000;
/** How often a node says to Redis that it is alive, with what it used of its places (its heartbeat). */
const REPORT_EVERY_MS = 1000;
/** A use is said within this long (with others of the meantime): a node killed loses at most this much of them from the count. */
const USE_SAID_WITHIN_MS = 50;

type OrgPeriod = { id: string; periodStart: string; periodEnd: string | null };

interface Lease extends HeldPlaces {
  /** Places used that the shared count does not hold yet (used while Redis was lost), added when it returns. */
  offline: number;
  /** Places handed to requests whose outcome is not known yet (not in the database's count). */
  pending: number;
  /** Of `pending`, those from the shared count (not granted alone). */
  pendingShared: number;
  /** Shared places used by successful actions since the node last said so to Redis (its heartbeat). */
  used: number;
  /** Shared places the node stopped trusting (no word from Redis for half REDIS_HOLDER_TTL_MS), to give back. */
  fenced: number;
  /** Places are held at this key in this node's name (a lease gave some, and they were not given back for it since). */
  holds: boolean;
  /** Bumped when the places held are void (Redis lost its counts, or gave them back for this node): a request's place from before settles apart. */
  generation: number;
  /** The limit the places were taken under: a lower one (the plan changed) voids them. */
  limit: number;
  fetching?: Promise<void>;
}

/**
 * Monthly quotas shared by every node through Redis, without a round trip per request: a node
 * leases places in blocks and serves requests from its lease; a place given back (the action
 * failed) returns to the lease; unused places return to Redis on close. The places are held in
 * the node's name; it says every second that it is alive, and within USE_SAID_WITHIN_MS what it
 * used of them. A node that stops without closing (killed, crashed, cut off) falls silent, and
 * after REDIS_HOLDER_TTL_MS another node gives its unused places back to the count. A node that
 * has not reached Redis for half that time stops using the places it holds (it gives them back
 * when it can), so none is used twice. Redis lost: the node admits at most its share (what was
 * left / expected nodes) and adds what it used when Redis returns. Redis back empty (it lost
 * every count): the count starts again from the database's, plus the actions still running on
 * each node; only successes not yet flushed (one USAGE_FLUSH_MS) can be missed.
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

  /** Until when (performance.now()) the places held may be used: half the holder TTL after Redis last answered a lease or heartbeat. */
  #trustedUntil = Number.POSITIVE_INFINITY;
  readonly #report: NodeJS.Timeout;
  #reporting: Promise<void> | undefined;
  /** A heartbeat due soon, to say uses made since the last one. */
  #soon: NodeJS.Timeout | undefined;
  #closed = false;

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
        lease.pendingShared = 0;
        lease.used = 0;
        lease.fenced = 0;
        lease.holds = false;
        lease.generation++;
      }
      this.#shared.clear();
    });
    this.#report = setInterval(() => void this.#heartbeat(), Math.min(REPORT_EVERY_MS, Math.max(50, Math.floor(link.holderTtlMs / 6))));
    this.#report.unref();
  }

  /** Redis answered a lease or heartbeat sent at `sentAt`: the places held may be used for half the holder TTL from then. */
  #heard(sentAt: number): void {
    this.#trustedUntil = sentAt + this.#link.holderTtlMs / 2;
  }

  /** No word from Redis for half the holder TTL: another node may soon give this node's places back, so it stops using them. */
  #fenceIfUnheard(): void {
    if (performance.now() < this.#trustedUntil) return;
    this.#trustedUntil = Number.POSITIVE_INFINITY;
    for (const lease of this.#leases.values()) this.#giveBack(lease);
  }

  /**
   * Stops using the places `lease` holds from the shared count and gives them back with the next
   * heartbeat or lease (settled with what was used: never twice, even if another node gave them
   * back meanwhile, and not lost if Redis cannot be reached right now). Its local places stay.
   */
  #giveBack(lease: Lease): void {
    lease.fenced += lease.places - lease.local;
    lease.places = lease.local;
    lease.exhausted = false;
  }

  /** Uses are said within USE_SAID_WITHIN_MS, many in one heartbeat: no round trip per request. */
  #sayUsesSoon(): void {
    if (this.#soon || this.#closed) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      // One heartbeat at a time: uses made while one is on its way are said by the next.
      if (this.#reporting) void this.#reporting.then(() => this.#sayUsesSoon());
      else void this.#heartbeat();
    }, USE_SAID_WITHIN_MS);
    this.#soon.unref();
  }

  /** Says this node is alive and what it used of its places; gives back the places of nodes that stopped without closing. */
  #heartbeat(options: { last?: boolean } = {}): Promise<void> {
    // Every node beats while Redis answers, holding places or not: any of them may give back those of a stopped node.
    if (this.#reporting || (this.#closed && !options.last) || !this.#link.healthy) return this.#reporting ?? Promise.resolve();
    // Not heard from Redis for too long: the places held may have been given back meanwhile. They
    // are said as fenced, so the answer tells which were; the answer must not renew trust in them.
    this.#fenceIfUnheard();
    const sent = new Map<string, HolderSettlement & { generation: number }>();
    for (const [key, lease] of this.#leases) {
      if (!lease.holds || (lease.used === 0 && lease.fenced === 0)) continue;
      sent.set(key, { holds: true, used: lease.used, fenced: lease.fenced, generation: lease.generation });
      lease.used = 0;
      lease.fenced = 0;
    }
    const sentAt = performance.now();
    this.#reporting = this.#link
      .report(sent)
      .then(
        (result) => {
          if (result === 'again') return; // Redis lost its counts: the holders were told, nothing held is owed
          this.#heard(sentAt);
          if (result.returned > 0) this.#link.log('info', `gave back ${result.returned} quota places held by a node that stopped without closing`);
          for (const key of result.lostHere) {
            const lease = this.#leases.get(key);
            if (lease) this.#placesReturned(lease);
          }
        },
        () => {
          // Not said: said with the next heartbeat or lease (unless the places were voided meanwhile).
          for (const [key, settlement] of sent) {
            const lease = this.#leases.get(key);
            if (!lease || lease.generation !== settlement.generation) continue;
            lease.used += settlement.used;
            lease.fenced += settlement.fenced;
          }
        },
      )
      .finally(() => {
        this.#reporting = undefined;
      });
    return this.#reporting;
  }

  /**
   * Another node gave this node's places back (it was silent past REDIS_HOLDER_TTL_MS, and its
   * uses it had said were counted anew): the places it still holds are void, and the uses it has
   * not said yet and the actions still running on them count as admitted alone (added with the next lease).
   */
  #placesReturned(lease: Lease): void {
    lease.holds = false;
    // Uses not said yet and actions still running: not in the count any more than the places were.
    lease.offline += lease.used + lease.pendingShared;
    lease.used = 0;
    lease.pendingShared = 0;
    lease.places = lease.local;
    lease.total = 0;
    lease.fenced = 0;
    lease.generation++;
  }

  /** The Redis key of an organisation's shared count per period and action type. */
  readonly #keys = new PeriodKeys((orgId, periodStart, actionType) => `${this.#link.prefix}quota:${orgId}:${periodStart}:${actionType}`);

  reserve(org: OrgPeriod, actionType: QuotaActionType, limit: number | null, nowMs: number): QuotaDecision | Promise<QuotaDecision> {
    if (limit === null) return this.#unlimited.reserve(org, actionType, limit, nowMs);
    const period = currentPeriod(org, nowMs);
    const key = this.#keys.key(org.id, period, actionType);
    this.#fenceIfUnheard();
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
    } else lease.pendingShared++;
    const generation = lease.generation;
    let settled = false;
    const settle = (success: boolean) => {
      if (settled) return;
      settled = true;
      lease.pending--;
      if (generation !== lease.generation) {
        // Its place was voided meanwhile and counted as admitted alone (offline): a failure takes that back.
        if (!success) lease.offline--;
        return;
      }
      if (!local) lease.pendingShared--;
      if (success) {
        if (!local) {
          lease.used++;
          this.#sayUsesSoon();
        }
        return;
      }
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
      lease = {
        places: 0,
        total: 0,
        offline: 0,
        local: 0,
        pending: 0,
        pendingShared: 0,
        used: 0,
        fenced: 0,
        holds: false,
        generation: 0,
        limit,
        exhausted: false,
      };
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
      // What the node did with its places here since it last said: said by the lease itself (a
      // heartbeat meanwhile says only what comes after; not said, it is said again).
      const holder = { holds: lease.holds, used: lease.used, fenced: lease.fenced };
      lease.used = 0;
      lease.fenced = 0;
      const generation = lease.generation;
      const unsaid = () => {
        if (lease.generation !== generation) return;
        lease.used += holder.used;
        lease.fenced += holder.fenced;
      };
      const sentAt = performance.now();
      let result: LeaseResult;
      try {
        result = await this.#link.lease(key, { seed, limit, maxBlock: this.#maxBlock, divisor: 4 * this.#nodes, ttlSeconds, unreported, holder });
      } catch (error) {
        unsaid();
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
        unsaid();
        seed = await loadPeriodUsage(this.#db, orgId, actionType, period);
        continue;
      }
      if (result === 'again') {
        unsaid();
        continue; // Redis's epoch was new to this node: the lease is as it says now
      }
      this.#link.markUp();
      this.#heard(sentAt);
      if (result.returned) this.#placesReturned(lease);
      // Back: what was used alone is in the shared count now; unused local places are dropped.
      lease.offline -= unreported;
      lease.places -= lease.local;
      lease.local = 0;
      const { taken, total } = result;
      const before = total - taken;
      lease.places += taken;
      if (taken > 0) lease.holds = true;
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
    if (lease && limit < lease.limit) this.#giveBackUnderNewLimits(lease);
    return lease;
  }

  /**
   * The places `lease` holds from the shared count were taken under other limits: they go back
   * (#giveBack), and how many are left is then the count's to say (while Redis is lost, the last
   * count known stays). Answers whether there were any.
   */
  #giveBackUnderNewLimits(lease: Lease): boolean {
    if (lease.places <= lease.local) return false;
    this.#giveBack(lease);
    if (this.#link.healthy) lease.total = 0;
    return true;
  }

  /** The organisation's plan changed: the places this node holds go back, and the next request leases under the new limits. */
  release(orgId: string): void {
    const prefix = `${this.#link.prefix}quota:${orgId}:`;
    let gaveBack = false;
    for (const [key, lease] of this.#leases) if (key.startsWith(prefix) && this.#giveBackUnderNewLimits(lease)) gaveBack = true;
    if (gaveBack) this.#sayUsesSoon();
    for (const key of this.#shared.keys()) if (key.startsWith(prefix)) this.#shared.delete(key);
  }

  /** Gives unused places back to the shared budget, says what was used, and holds nothing in this node's name any more. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#report);
    clearTimeout(this.#soon);
    await this.#reporting;
    for (const lease of this.#leases.values()) this.#giveBack(lease);
    if (!this.#link.healthy || this.#leases.size === 0) return;
    await this.#heartbeat({ last: true });
    // Not said (the last heartbeat failed): the names stay, and another node gives the places back after REDIS_HOLDER_TTL_MS.
    for (const lease of this.#leases.values()) if (lease.used > 0 || lease.fenced > 0) return;
    // What was used is in the count (taken with the blocks), the rest given back: only the names go.
    await this.#link.leave().catch(() => undefined);
  }
}
