import type { IssuedKey } from '../api/views.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../domain/actor.js';
import { requireKeyManagement, requirePermission } from '../domain/permissions.js';
import type { Db, DbOrTrx, Trx } from '../db/database.js';
import type { ApiKeyRow, KeyEnvironment } from '../db/schema.js';
import { AppError, notFound } from '../errors/catalogue.js';
import type { KeyEventType } from '../events/domain-events.js';
import { commitWithEvents, type Emit, type EventBus } from '../events/event-bus.js';
import { DAY, HOUR, type Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import type { IdGenerator } from '../lib/ids.js';
import { parseOverrides, type PlanCatalogue } from '../plans/catalogue.js';
import { generateApiKey, keyDisplayParts } from './key-format.js';
import { displayStatus, type KeyRowWithPeople, toKeyView, type KeyView } from './key-view.js';
import { nameWarnings } from './key-names.js';
import * as repo from './keys.repository.js';
import { lockSubscription } from '../orgs/orgs.repository.js';

/** The expiry choices of CONTRACT §3 (days); `null` is never. */
export type ExpiryChoice = 30 | 60 | 90 | 365 | null;

export interface CreateKeyInput {
  name: string;
  expiresInDays?: ExpiryChoice;
  environment?: KeyEnvironment | null;
  team?: string | null;
}

export interface KeyServiceDeps {
  db: Db;
  clock: Clock;
  newId: IdGenerator;
  events: EventBus;
  audit: AuditService;
  plans: PlanCatalogue;
  /** How many flows called each key (the flows part counts them; absent: none). */
  flowCounts?: (db: DbOrTrx, keyIds: readonly string[]) => Promise<Map<string, number>>;
}

export type KeyService = ReturnType<typeof createKeyService>;

export function createKeyService(deps: KeyServiceDeps) {
  const { db, clock, audit, events } = deps;

  /** The keys as the API shows them, with their flow counts. */
  async function toViews(trx: DbOrTrx, rows: KeyRowWithPeople[]): Promise<KeyView[]> {
    const counts = deps.flowCounts
      ? await deps.flowCounts(
          trx,
          rows.map((row) => row.id),
        )
      : new Map<string, number>();
    const now = clock.now();
    return rows.map((row) => toKeyView({ ...row, flowCount: counts.get(row.id) ?? 0 }, now));
  }

  async function view(orgId: string, id: string): Promise<KeyView> {
    const row = await repo.findKeyView(db, orgId, id);
    if (!row) throw notFound('The API key');
    return (await toViews(db, [row]))[0]!;
  }

  async function loadForChange(trx: Trx, actor: Actor, id: string): Promise<KeyRowWithPeople> {
    const row = await repo.findKeyView(trx, actor.orgId, id);
    if (!row) throw notFound('The API key');
    requireKeyManagement(actor, row);
    return row;
  }

  async function assertUnderKeyLimit(trx: Trx, orgId: string, allowance: number): Promise<void> {
    // Two concurrent creates count one after the other and cannot pass the limit.
    const sub = await lockSubscription(trx, orgId);
    const plan = deps.plans.limits(sub?.plan ?? 'free', parseOverrides(sub?.overrides ?? '{}'));
    if (plan.maxKeys === null) return;
    const live = await repo.countLiveKeys(trx, orgId, clock.now());
    if (live >= plan.maxKeys + allowance) {
      throw new AppError(
        'key_limit_reached',
        `Your ${plan.name} plan allows ${plan.maxKeys} live API keys and your organisation has ${live}. Revoke a key you no longer use, or change to a larger plan.`,
        { extras: { limit: plan.maxKeys, plan: plan.id } },
      );
    }
  }

  async function issue(
    trx: Trx,
    actor: Actor,
    fields: { name: string; environment: KeyEnvironment | null; team: string | null; expiresAt: string | null; replacesKeyId: string | null },
  ): Promise<{ id: string; secret: string }> {
    const secret = generateApiKey();
    const id = deps.newId('key');
    await repo.insertKey(trx, {
      id,
      orgId: actor.orgId,
      name: fields.name,
      hash: sha256Hex(secret),
      ...keyDisplayParts(secret),
      status: 'active',
      environment: fields.environment,
      team: fields.team,
      createdAt: clock.now().toISOString(),
      createdBy: actor.userId,
      expiresAt: fields.expiresAt,
      lastUsedAt: null,
      suspendedAt: null,
      revokedAt: null,
      revokedBy: null,
      deletedAt: null,
      replacesKeyId: fields.replacesKeyId,
      replacedByKeyId: null,
      graceEndsAt: null,
      expiryRecordedAt: null,
    });
    return { id, secret };
  }

  /** The key as the API shows it inside `trx`; a key deleted in `trx` as it was, marked revoked. */
  async function viewIn(trx: Trx, orgId: string, id: string, deleted?: KeyRowWithPeople): Promise<KeyView> {
    const row = await repo.findKeyView(trx, orgId, id);
    const now = clock.now();
    if (row || !deleted) return (await toViews(trx, [row ?? (deleted as KeyRowWithPeople)]))[0]!;
    return toKeyView({ ...deleted, status: 'revoked', revokedAt: deleted.revokedAt ?? now.toISOString(), deletedAt: now.toISOString() }, now);
  }

  type KeyChangeEvent = Exclude<
    KeyEventType,
    'api_key.created' | 'api_key.rotated' | 'api_key.expired' | 'api_key.expiring' | 'api_key.exposed' | 'api_key.revoked_key_used'
  >;

  type ChangeStep = (
    trx: Trx,
    row: ApiKeyRow,
    now: string,
  ) => Promise<{ event: KeyChangeEvent; eventType: string; action: string; details?: Record<string, unknown>; severity?: 'info' | 'warning' }>;

  /** One key's state change inside `trx`: load, check the actor may, change, audit, emit its event; answers the key afterwards. */
  async function changeIn(trx: Trx, emit: Emit, actor: Actor, id: string, apply: ChangeStep): Promise<KeyView> {
    const row = await loadForChange(trx, actor, id);
    const { event, ...entry } = await apply(trx, row, clock.now().toISOString());
    await audit.record(trx, actor, { resourceType: 'api_key', resourceId: id, ...entry, details: { name: row.name, ...entry.details } });
    const key = await viewIn(trx, actor.orgId, id, row);
    emit({ type: event, organisationId: actor.orgId, data: { key } });
    return key;
  }

  /** Runs a state change on one key in its own transaction. */
  function change(actor: Actor, id: string, apply: ChangeStep): Promise<KeyView> {
    return commitWithEvents(db, events, (trx, emit) => changeIn(trx, emit, actor, id, apply));
  }

  const steps = {
    suspend: (async (trx, row, now) => {
      requireState(row, ['active'], 'suspended');
      await repo.updateKey(trx, row.id, { status: 'suspended', suspendedAt: now });
      return { event: 'api_key.suspended', eventType: 'key.suspended', action: 'suspend', severity: 'warning' };
    }) as ChangeStep,
    revoke:
      (actor: Actor, details?: Record<string, unknown>): ChangeStep =>
      async (trx, row, now) => {
        requireState(row, ['active', 'suspended', 'expired'], 'revoked again');
        await repo.updateKey(trx, row.id, { status: 'revoked', revokedAt: now, revokedBy: actor.userId });
        return { event: 'api_key.revoked', eventType: 'key.revoked', action: 'revoke', severity: 'warning', details };
      },
  };

  function requireState(row: ApiKeyRow, allowed: Array<'active' | 'suspended' | 'expired'>, verb: string): void {
    const status = displayStatus(row, clock.now());
    if (status === 'revoked') {
      throw new AppError('conflict', `This API key was revoked on ${formatDate(row.revokedAt ?? row.graceEndsAt)}; a revoked key cannot be ${verb}.`);
    }
    if (!allowed.includes(status)) {
      const why = status === 'expired' ? `expired on ${formatDate(row.expiresAt)}` : `is ${status}`;
      throw new AppError('conflict', `This API key ${why}, so it cannot be ${verb}.`);
    }
  }

  return {
    async list(actor: Actor, filter: repo.KeyListFilter, page: { limit: number; offset: number }) {
      requirePermission(actor, 'keys.view');
      const { rows, total } = await repo.listKeys(db, actor.orgId, filter, page, clock.now());
      return { items: await toViews(db, rows), total };
    },

    async get(actor: Actor, id: string): Promise<KeyView> {
      requirePermission(actor, 'keys.view');
      return view(actor.orgId, id);
    },

    async create(actor: Actor, input: CreateKeyInput): Promise<IssuedKey> {
      requirePermission(actor, 'keys.create');
      const now = clock.now();
      const issued = await commitWithEvents(db, events, async (trx, emit) => {
        await assertUnderKeyLimit(trx, actor.orgId, 0);
        const expiresAt = input.expiresInDays ? new Date(now.getTime() + input.expiresInDays * DAY).toISOString() : null;
        const result = await issue(trx, actor, {
          name: input.name,
          environment: input.environment ?? null,
          team: input.team ?? null,
          expiresAt,
          replacesKeyId: null,
        });
        await audit.record(trx, actor, {
          eventType: 'key.created',
          resourceType: 'api_key',
          resourceId: result.id,
          action: 'create',
          details: { name: input.name, environment: input.environment ?? null, team: input.team ?? null, expiresAt },
        });
        emit({ type: 'api_key.created', organisationId: actor.orgId, data: { key: await viewIn(trx, actor.orgId, result.id) } });
        return result;
      });
      const warnings = nameWarnings(input.name, await repo.liveKeysNamed(db, actor.orgId, input.name, issued.id, now));
      return { key: await view(actor.orgId, issued.id), secret: issued.secret, warnings };
    },

    /** Renames or re-files a key; `expiresInDays` gives a key without one an expiry (or another). */
    async update(actor: Actor, id: string, input: { name?: string; environment?: KeyEnvironment | null; team?: string | null; expiresInDays?: ExpiryChoice }) {
      const { expiresInDays, ...fields } = input;
      const patch = {
        ...fields,
        ...(expiresInDays !== undefined ? { expiresAt: expiresInDays ? new Date(clock.nowMs() + expiresInDays * DAY).toISOString() : null } : {}),
      };
      const key = await change(actor, id, async (trx, row) => {
        requireState(row, expiresInDays !== undefined ? ['active', 'suspended'] : ['active', 'suspended', 'expired'], 'changed');
        await repo.updateKey(trx, id, patch);
        const renamed = patch.name !== undefined && patch.name !== row.name;
        return {
          event: 'api_key.updated',
          eventType: renamed ? 'key.renamed' : 'key.updated',
          action: renamed ? 'rename' : 'update',
          details: { ...(renamed ? { from: row.name, to: patch.name } : {}), ...patch },
        };
      });
      const warnings = patch.name ? nameWarnings(patch.name, await repo.liveKeysNamed(db, actor.orgId, patch.name, id, clock.now())) : [];
      return { key, warnings };
    },

    suspend: (actor: Actor, id: string) => change(actor, id, steps.suspend),

    resume: (actor: Actor, id: string) =>
      change(actor, id, async (trx, row) => {
        requireState(row, ['suspended'], 'resumed');
        await repo.updateKey(trx, id, { status: 'active', suspendedAt: null });
        return { event: 'api_key.resumed', eventType: 'key.resumed', action: 'resume' };
      }),

    revoke: (actor: Actor, id: string) => change(actor, id, steps.revoke(actor)),

    /**
     * Revokes or suspends several keys at once, all or nothing: one unknown or foreign key (404),
     * one the actor may not change (403) or one in the wrong state (409) and none changes.
     * Each key gets its own audit entry and event.
     */
    bulk(actor: Actor, action: 'revoke' | 'suspend', ids: readonly string[]): Promise<KeyView[]> {
      requirePermission(actor, 'keys.manage');
      return commitWithEvents(db, events, async (trx, emit) => {
        const keys: KeyView[] = [];
        for (const id of new Set(ids)) {
          keys.push(await changeIn(trx, emit, actor, id, action === 'revoke' ? steps.revoke(actor, { bulk: true }) : steps.suspend));
        }
        return keys;
      });
    },

    /**
     * Revokes a rotated key whose flows have moved (or whose grace ended), for the rotation's
     * revokeWhenDrained; the operator acts. False when it was revoked already (another node, a person).
     */
    async revokeDrained(orgId: string, id: string, reason: 'drained' | 'grace_ended'): Promise<boolean> {
      const operator: Actor = { orgId, userId: null, email: null, role: 'operator', ip: null };
      return commitWithEvents(db, events, async (trx, emit) => {
        const row = await repo.findKeyView(trx, orgId, id);
        if (!row || !(await repo.revokeUnlessRevoked(trx, id, clock.now().toISOString()))) return false;
        await audit.record(trx, operator, {
          eventType: 'key.revoked',
          resourceType: 'api_key',
          resourceId: id,
          action: 'revoke',
          severity: 'warning',
          details: { name: row.name, reason, successorId: row.replacedByKeyId },
        });
        emit({ type: 'api_key.revoked', organisationId: orgId, data: { key: await viewIn(trx, orgId, id, row) } });
        return true;
      });
    },

    /**
     * Hands every key one person created to another (both already checked to be of the
     * organisation by the caller): one audit entry and one `api_key.updated` event per key.
     */
    transferOwnership(actor: Actor, from: { id: string; email: string }, to: { id: string; email: string }): Promise<KeyView[]> {
      requirePermission(actor, 'keys.transfer');
      return commitWithEvents(db, events, async (trx, emit) => {
        const keys = await repo.keysCreatedBy(trx, actor.orgId, from.id);
        await repo.setKeyOwner(
          trx,
          actor.orgId,
          keys.map((key) => key.id),
          to.id,
        );
        const views: KeyView[] = [];
        for (const key of keys) {
          await audit.record(trx, actor, {
            eventType: 'key.transferred',
            resourceType: 'api_key',
            resourceId: key.id,
            action: 'transfer',
            details: { name: key.name, fromUserId: from.id, fromEmail: from.email, toUserId: to.id, toEmail: to.email },
          });
          const view = await viewIn(trx, actor.orgId, key.id);
          emit({ type: 'api_key.updated', organisationId: actor.orgId, data: { key: view } });
          views.push(view);
        }
        return views;
      });
    },

    /** Turns a rotation's self-revocation on or off (on the old key). */
    setRevokeWhenDrained: (actor: Actor, id: string, on: boolean) =>
      change(actor, id, async (trx, row) => {
        if (!row.replacedByKeyId) throw new AppError('conflict', 'This API key was not rotated, so there is nothing to drain.');
        requireState(row, ['active', 'suspended', 'expired'], 'changed');
        await repo.updateKey(trx, row.id, { revokeWhenDrained: on ? 1 : 0 });
        return { event: 'api_key.updated', eventType: 'key.updated', action: 'update', details: { revokeWhenDrained: on } };
      }),

    /** Deleting revokes first (if needed), then hides the key; both are final. */
    async delete(actor: Actor, id: string): Promise<void> {
      await change(actor, id, async (trx, row, now) => {
        const wasRevoked = displayStatus(row, clock.now()) === 'revoked';
        await repo.updateKey(trx, id, {
          status: 'revoked',
          revokedAt: row.revokedAt ?? now,
          revokedBy: row.revokedBy ?? actor.userId,
          deletedAt: now,
        });
        return { event: 'api_key.deleted', eventType: 'key.deleted', action: 'delete', severity: 'warning', details: { revokedNow: !wasRevoked } };
      });
    },

    /**
     * Issues a successor with the same name, environment, team and lifetime, linked both ways.
     * Without `graceHours` the old key stays active until someone revokes it; with it, the old
     * key stops working when the grace period ends.
     */
    async rotate(actor: Actor, id: string, input: { graceHours?: number; revokeWhenDrained?: boolean }): Promise<IssuedKey> {
      const now = clock.now();
      const issued = await commitWithEvents(db, events, async (trx, emit) => {
        const row = await loadForChange(trx, actor, id);
        requireState(row, ['active', 'suspended'], 'rotated');
        if (row.replacedByKeyId) {
          throw new AppError('conflict', `This API key was already rotated; its successor is ${row.replacedByKeyId}. Rotate the successor instead.`);
        }
        await assertUnderKeyLimit(trx, actor.orgId, 1);
        const lifetime = row.expiresAt ? Date.parse(row.expiresAt) - Date.parse(row.createdAt) : null;
        const result = await issue(trx, actor, {
          name: row.name,
          environment: row.environment,
          team: row.team,
          expiresAt: lifetime ? new Date(now.getTime() + lifetime).toISOString() : null,
          replacesKeyId: id,
        });
        const graceEndsAt = input.graceHours !== undefined ? new Date(now.getTime() + input.graceHours * HOUR).toISOString() : null;
        const revokeWhenDrained = input.revokeWhenDrained ?? false;
        await repo.updateKey(trx, id, { replacedByKeyId: result.id, graceEndsAt, revokeWhenDrained: revokeWhenDrained ? 1 : 0 });
        await audit.record(trx, actor, {
          eventType: 'key.rotated',
          resourceType: 'api_key',
          resourceId: id,
          action: 'rotate',
          details: { name: row.name, successorId: result.id, graceEndsAt, revokeWhenDrained },
        });
        const [key, successor] = [await viewIn(trx, actor.orgId, id), await viewIn(trx, actor.orgId, result.id)];
        emit({ type: 'api_key.rotated', organisationId: actor.orgId, data: { key, successor } });
        return result;
      });
      return { key: await view(actor.orgId, issued.id), secret: issued.secret, warnings: [] };
    },
  };
}

/** `2026-03-01` style dates for details written to people. */
export function formatDate(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : 'an unknown date';
}
