import type { Db } from '../db/database.js';
import type { DomainEvent } from '../events/domain-events.js';
import type { EventBus } from '../events/event-bus.js';
import type { CachedKey, CachedOrg } from '../operations/caller.js';
import type { Clock } from '../lib/clock.js';
import { findKeyByHash } from '../keys/keys.repository.js';
import { findSubscription } from '../orgs/orgs.repository.js';
import type { PlanCatalogue } from '../plans/catalogue.js';

export type { CachedKey, CachedOrg } from '../operations/caller.js';

interface Entry<T> {
  value: T;
  loadedAt: number;
}

export interface KeyCacheOptions {
  /** Entries are re-read after this long even without a change event (a safety net, not the mechanism). */
  ttlMs: number;
  maxKeys: number;
  /** Unknown hashes remembered, so a flood of made-up keys cannot reach the database. */
  maxNegative: number;
}

const DEFAULTS: KeyCacheOptions = { ttlMs: 5 * 60_000, maxKeys: 500_000, maxNegative: 50_000 };

/**
 * The gateway's in-process view of keys (by hash) and organisations. It reads the database
 * only on a miss; domain events tell it what to forget, so a revoke, suspend or delete
 * made on any node applies to the very next request.
 */
export class KeyCache {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #plans: PlanCatalogue;
  readonly #options: KeyCacheOptions;
  readonly #byHash = new Map<string, Entry<CachedKey>>();
  readonly #hashById = new Map<string, string>();
  readonly #negative = new Map<string, number>();
  readonly #orgs = new Map<string, Entry<CachedOrg>>();
  readonly #loading = new Map<string, Promise<CachedKey | null>>();
  readonly #orgLoading = new Map<string, Promise<CachedOrg | null>>();
  /** Bumped on every invalidation, so a load that raced a change is not cached. */
  #generation = 0;

  constructor(db: Db, clock: Clock, plans: PlanCatalogue, events: Pick<EventBus, 'subscribe'>, options: Partial<KeyCacheOptions> = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#plans = plans;
    this.#options = { ...DEFAULTS, ...options };
    events.subscribe({ event: (event) => this.apply(event), reset: () => this.clear() });
  }

  /** Forgets what an event makes stale, so the next request on this node reads the key or plan afresh. */
  apply(event: DomainEvent): void {
    switch (event.type) {
      case 'api_key.created':
        // A new key's hash may sit among the unknown ones.
        this.#generation++;
        this.#negative.clear();
        return;
      case 'api_key.rotated':
        this.#forgetKey(event.data.key.id);
        this.#forgetKey(event.data.successor.id);
        return;
      case 'api_key.revoked':
        this.#endKey(event.data.key.id, { deleted: false, revokedAt: event.data.key.revokedAt });
        return;
      case 'api_key.deleted':
        this.#endKey(event.data.key.id, { deleted: true, revokedAt: event.data.key.revokedAt });
        return;
      case 'api_key.exposed':
        if (event.data.key.status === 'revoked') this.#endKey(event.data.key.id, { deleted: false, revokedAt: event.data.key.revokedAt });
        else this.#forgetKey(event.data.key.id);
        return;
      case 'api_key.updated':
      case 'api_key.suspended':
      case 'api_key.resumed':
      case 'api_key.expired':
        this.#forgetKey(event.data.key.id);
        return;
      case 'subscription.changed':
      case 'organisation.created':
        this.#generation++;
        this.#orgs.delete(event.organisationId);
        return;
      default:
        return;
    }
  }

  /** Forgets everything: the node could not be sure it saw every change. */
  clear(): void {
    this.#generation++;
    this.#byHash.clear();
    this.#hashById.clear();
    this.#negative.clear();
    this.#orgs.clear();
  }

  /**
   * A revoked or deleted key is refused from the event itself, with no database read: the next
   * request on this node is refused at once, however busy the database is. Only these endings
   * are applied in place, because they are final (events may arrive out of order from the log,
   * and no later event makes such a key work again); other changes are forgotten and re-read.
   */
  #endKey(id: string, end: { deleted: boolean; revokedAt: string | null }): void {
    const hash = this.#hashById.get(id);
    const hit = hash === undefined ? undefined : this.#byHash.get(hash);
    if (hash === undefined || !hit) {
      this.#forgetKey(id);
      return;
    }
    // A load that began before this event must not put the working key back.
    this.#generation++;
    const { value } = hit;
    this.#byHash.set(hash, {
      value: { ...value, status: 'revoked', deleted: value.deleted || end.deleted, revokedAt: value.revokedAt ?? end.revokedAt },
      loadedAt: this.#clock.nowMs(),
    });
  }

  #forgetKey(id: string): void {
    this.#generation++;
    const hash = this.#hashById.get(id);
    if (hash) {
      this.#byHash.delete(hash);
      this.#hashById.delete(id);
    } else {
      // A key we never saw: its hash may sit among the unknown ones.
      this.#negative.clear();
    }
  }

  /** A fresh cached key with this hash, without reading anything; undefined on a miss. `nowMs`: the caller's clock reading, when it has one. */
  peek(hash: string, nowMs = this.#clock.nowMs()): CachedKey | undefined {
    const hit = this.#byHash.get(hash);
    return hit && nowMs - hit.loadedAt < this.#options.ttlMs ? hit.value : undefined;
  }

  /** The key with this hash, `null` when no key has it. */
  key(hash: string): CachedKey | null | Promise<CachedKey | null> {
    const now = this.#clock.nowMs();
    const hit = this.#byHash.get(hash);
    if (hit && now - hit.loadedAt < this.#options.ttlMs) return hit.value;
    const miss = this.#negative.get(hash);
    if (miss !== undefined && now - miss < this.#options.ttlMs) return null;
    let pending = this.#loading.get(hash);
    if (!pending) {
      pending = this.#loadKey(hash).finally(() => this.#loading.delete(hash));
      this.#loading.set(hash, pending);
    }
    return pending;
  }

  /** The organisation with this id, `null` when there is none. `nowMs`: the caller's clock reading, when it has one. */
  org(orgId: string, nowMs = this.#clock.nowMs()): CachedOrg | null | Promise<CachedOrg | null> {
    const hit = this.#orgs.get(orgId);
    if (hit && nowMs - hit.loadedAt < this.#options.ttlMs) return hit.value;
    let pending = this.#orgLoading.get(orgId);
    if (!pending) {
      pending = this.#loadOrg(orgId).finally(() => this.#orgLoading.delete(orgId));
      this.#orgLoading.set(orgId, pending);
    }
    return pending;
  }

  get size(): { keys: number; negative: number; orgs: number } {
    return { keys: this.#byHash.size, negative: this.#negative.size, orgs: this.#orgs.size };
  }

  async #loadKey(hash: string): Promise<CachedKey | null> {
    const generation = this.#generation;
    const row = await findKeyByHash(this.#db, hash);
    const loadedAt = this.#clock.nowMs();
    if (!row) {
      if (generation === this.#generation) {
        if (this.#negative.size >= this.#options.maxNegative) this.#negative.delete(this.#negative.keys().next().value!);
        this.#negative.set(hash, loadedAt);
      }
      return null;
    }
    const value: CachedKey = {
      id: row.id,
      orgId: row.orgId,
      name: row.name,
      status: row.status,
      deleted: row.deletedAt !== null,
      revokedAt: row.revokedAt,
      expiresAt: row.expiresAt,
      expiresAtMs: row.expiresAt ? Date.parse(row.expiresAt) : null,
      graceEndsAt: row.graceEndsAt,
      graceEndsAtMs: row.graceEndsAt ? Date.parse(row.graceEndsAt) : null,
      replaced: row.replacedByKeyId !== null,
    };
    if (generation === this.#generation) {
      if (this.#byHash.size >= this.#options.maxKeys) {
        const oldest = this.#byHash.keys().next().value!;
        this.#hashById.delete(this.#byHash.get(oldest)!.value.id);
        this.#byHash.delete(oldest);
      }
      this.#byHash.set(hash, { value, loadedAt });
      this.#hashById.set(value.id, hash);
    }
    return value;
  }

  async #loadOrg(orgId: string): Promise<CachedOrg | null> {
    const generation = this.#generation;
    const found = await findSubscription(this.#db, orgId);
    if (!found) return null;
    const { name, sub } = found;
    const value: CachedOrg = {
      id: orgId,
      name,
      status: sub.status,
      plan: this.#plans.ofSubscription(sub),
      periodStart: sub.periodStart,
      periodEnd: sub.periodEnd,
    };
    if (generation === this.#generation) this.#orgs.set(orgId, { value, loadedAt: this.#clock.nowMs() });
    return value;
  }
}
