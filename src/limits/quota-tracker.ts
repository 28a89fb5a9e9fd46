import type { Db } from '../db/database.js';
import { currentPeriod, type BillingPeriod } from '../plans/period.js';

export type QuotaActionType = 'document' | 'utility';

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


/**
 * Monthly quotas per organisation and action type. Only successful actions use quota, yet
 * concurrent requests can never push usage past the limit: each accepted request reserves a
 * place, which its success commits and its failure releases. Counts start from the database
 * (successful actions this period) the first time a period is seen on this node.
 */
export class QuotaTracker {
  readonly #db: Db;
  readonly #counters = new Map<string, Counter>();
  readonly #loading = new Map<string, Promise<Counter>>();

  constructor(db: Db) {
    this.#db = db;
  }

  async reserve(
    org: { id: string; periodStart: string; periodEnd: string | null },
    actionType: QuotaActionType,
    limit: number | null,
    now: Date,
  ): Promise<QuotaDecision> {
    const period = currentPeriod(org, now);
    const key = `${org.id}|${period.start}|${actionType}`;
    const counter = this.#counters.get(key) ?? (await this.#load(key, org.id, actionType, period));
    if (limit !== null && counter.used + counter.reserved >= limit) {
      return { ok: false, used: counter.used, limit, period };
    }
    counter.reserved++;
    let settled = false;
    const settle = (success: boolean) => {
      if (settled) return;
      settled = true;
      counter.reserved--;
      if (success) counter.used++;
    };
    return { ok: true, reservation: { commit: () => settle(true), release: () => settle(false) }, used: counter.used, limit, period };
  }

  /** Successful actions this period as this node counts them (for tests and the usage API). */
  used(orgId: string, actionType: QuotaActionType, period: BillingPeriod): number | undefined {
    return this.#counters.get(`${orgId}|${period.start}|${actionType}`)?.used;
  }

  #load(key: string, orgId: string, actionType: QuotaActionType, period: BillingPeriod): Promise<Counter> {
    let pending = this.#loading.get(key);
    if (!pending) {
      pending = this.#db
        .selectFrom('keyUsageDaily')
        .select((eb) => eb.fn.sum<number>('count').as('used'))
        .where('orgId', '=', orgId)
        .where('actionType', '=', actionType)
        .where('outcome', '=', 'success')
        .where('day', '>=', period.start.slice(0, 10))
        .where('day', '<', period.end.slice(0, 10))
        .executeTakeFirst()
        .then((row) => {
          const counter = this.#counters.get(key) ?? { used: Number(row?.used ?? 0), reserved: 0 };
          this.#counters.set(key, counter);
          return counter;
        })
        .finally(() => this.#loading.delete(key));
      this.#loading.set(key, pending);
    }
    return pending;
  }
}
