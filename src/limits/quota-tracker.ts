import type { Db } from '../db/database.js';
import type { QuotaActionType } from '../plans/catalogue.js';
import { currentPeriod, type BillingPeriod } from '../plans/period.js';
import { successfulActions } from '../usage/usage.repository.js';

export { monthlyLimit, type QuotaActionType } from '../plans/catalogue.js';

/** A place in the quota held for one request until its outcome is known. */
export interface Reservation {
  /** The action succeeded: the place becomes used. */
  commit(): void;
  /** The action failed: the place is given back. Calling either twice does nothing. */
  release(): void;
}

export type QuotaDecision =
  | { ok: true; reservation: Reservation; used: number; limit: number | null; period: BillingPeriod }
  | { ok: false; used: number; limit: number; period: BillingPeriod };

interface Counter {
  used: number;
  reserved: number;
}

/** Usage crossed 80 % or 100 % of a quota: recorded for the notifications to come. */
export interface QuotaThreshold {
  orgId: string;
  actionType: QuotaActionType;
  threshold: 80 | 100;
  used: number;
  limit: number;
  period: BillingPeriod;
}

export const THRESHOLDS = [80, 100] as const;

type OrgPeriod = { id: string; periodStart: string; periodEnd: string | null };

/** Monthly quotas: this node's own counts (`QuotaTracker`) or shared by every node through Redis. */
export interface Quotas {
  onThreshold: (event: QuotaThreshold) => void;
  /** `nowMs`: epoch ms (the gateway's request time). */
  reserve(org: OrgPeriod, actionType: QuotaActionType, limit: number | null, nowMs: number): QuotaDecision | Promise<QuotaDecision>;
  remaining(org: OrgPeriod, actionType: QuotaActionType, limit: number | null, nowMs: number): number | null | Promise<number | null>;
  /** The organisation's plan changed: drop what this node holds for it (a shared tracker's leased places). */
  release?(orgId: string): void;
  close?(): Promise<void>;
}

/** Successful actions of one type this period, as the database has them. */
export function loadPeriodUsage(db: Db, orgId: string, actionType: QuotaActionType, period: BillingPeriod): Promise<number> {
  return successfulActions(db, orgId, actionType, period.start.slice(0, 10), period.end.slice(0, 10));
}

/**
 * Per organisation, the map keys of its current period's counters, one per action type: a
 * request finds its counter without building a string (a new period makes new keys).
 */
export class PeriodKeys {
  readonly #recent = new Map<string, { start: string; document: string; utility: string }>();
  readonly #make: (orgId: string, periodStart: string, actionType: QuotaActionType) => string;

  constructor(make: (orgId: string, periodStart: string, actionType: QuotaActionType) => string) {
    this.#make = make;
  }

  key(orgId: string, period: BillingPeriod, actionType: QuotaActionType): string {
    let keys = this.#recent.get(orgId);
    if (keys === undefined || keys.start !== period.start) {
      keys = { start: period.start, document: this.#make(orgId, period.start, 'document'), utility: this.#make(orgId, period.start, 'utility') };
      this.#recent.set(orgId, keys);
    }
    return keys[actionType];
  }
}

/**
 * Monthly quotas per organisation and action type. Only successful actions use quota, yet
 * concurrent requests can never push usage past the limit: each accepted request reserves a
 * place, which its success commits and its failure releases. Counts start from the database
 * (successful actions this period) the first time a period is seen on this node.
 */
export class QuotaTracker implements Quotas {
  readonly #db: Db;
  readonly #counters = new Map<string, Counter>();
  readonly #loading = new Map<string, Promise<Counter>>();
  /** One counter per organisation, period and action type. */
  readonly #keys = new PeriodKeys((orgId, periodStart, actionType) => `${orgId}|${periodStart}|${actionType}`);

  /** Called (after the answer, off the request path) when a commit crosses a threshold. */
  onThreshold: (event: QuotaThreshold) => void = () => {};

  constructor(db: Db) {
    this.#db = db;
  }

  /** Synchronous once this period's count is loaded; a promise only the first time. */
  reserve(
    org: { id: string; periodStart: string; periodEnd: string | null },
    actionType: QuotaActionType,
    limit: number | null,
    nowMs: number,
  ): QuotaDecision | Promise<QuotaDecision> {
    const period = currentPeriod(org, nowMs);
    const key = this.#keys.key(org.id, period, actionType);
    const counter = this.#counters.get(key);
    const context = { orgId: org.id, actionType, period };
    if (counter) return this.#decide(counter, limit, context);
    return this.#load(key, org.id, actionType, period).then((loaded) => this.#decide(loaded, limit, context));
  }

  #decide(counter: Counter, limit: number | null, context: { orgId: string; actionType: QuotaActionType; period: BillingPeriod }): QuotaDecision {
    const { period } = context;
    if (limit !== null && counter.used + counter.reserved >= limit) {
      return { ok: false, used: counter.used, limit, period };
    }
    counter.reserved++;
    let settled = false;
    const settle = (success: boolean) => {
      if (settled) return;
      settled = true;
      counter.reserved--;
      if (!success) return;
      counter.used++;
      if (limit === null) return;
      for (const threshold of THRESHOLDS) {
        if (counter.used === Math.ceil((limit * threshold) / 100)) {
          this.onThreshold({ ...context, threshold, used: counter.used, limit });
        }
      }
    };
    return { ok: true, reservation: { commit: () => settle(true), release: () => settle(false) }, used: counter.used, limit, period };
  }

  /** Places left this period (`null`: unlimited), counting requests in flight as taken. */
  remaining(
    org: { id: string; periodStart: string; periodEnd: string | null },
    actionType: QuotaActionType,
    limit: number | null,
    nowMs: number,
  ): number | null | Promise<number | null> {
    if (limit === null) return null;
    const period = currentPeriod(org, nowMs);
    const key = this.#keys.key(org.id, period, actionType);
    const left = (counter: Counter) => Math.max(0, limit - counter.used - counter.reserved);
    const counter = this.#counters.get(key);
    return counter ? left(counter) : this.#load(key, org.id, actionType, period).then(left);
  }

  #load(key: string, orgId: string, actionType: QuotaActionType, period: BillingPeriod): Promise<Counter> {
    let pending = this.#loading.get(key);
    if (!pending) {
      pending = loadPeriodUsage(this.#db, orgId, actionType, period)
        .then((used) => {
          const counter = this.#counters.get(key) ?? { used, reserved: 0 };
          this.#counters.set(key, counter);
          return counter;
        })
        .finally(() => this.#loading.delete(key));
      this.#loading.set(key, pending);
    }
    return pending;
  }
}
