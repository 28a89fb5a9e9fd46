import type { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../domain/actor.js';
import type { AuditEventType } from '../domain/audit-events.js';
import { requireKeyManagement } from '../domain/permissions.js';
import type { Db, DbOrTrx, Trx } from '../db/database.js';
import type { ApiKeyRow, KeyEnvironment } from '../db/schema.js';
import { AppError, notFound } from '../errors/catalogue.js';
import type { KeyEventType } from '../events/domain-events.js';
import { commitWithEvents, type Emit, type EventBus } from '../events/event-bus.js';
import type { Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import type { IdGenerator } from '../lib/ids.js';
import { parseOverrides, type PlanCatalogue } from '../plans/catalogue.js';
import { generateApiKey, keyDisplayParts } from './key-format.js';
import { displayStatus, type KeyRowWithPeople, toKeyView, type KeyView } from './key-view.js';
import * as repo from './keys.repository.js';
import { lockSubscription } from '../orgs/orgs.repository.js';

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

export type KeyChangeEvent = Exclude<
  KeyEventType,
  'api_key.created' | 'api_key.rotated' | 'api_key.expired' | 'api_key.expiring' | 'api_key.exposed' | 'api_key.revoked_key_used'
>;

/** One change of a key: its event and audit entry, or `null` when it changed nothing (no entry, no event). */
export type ChangeStep = (
  trx: Trx,
  row: ApiKeyRow,
  now: string,
) => Promise<{ event: KeyChangeEvent; eventType: AuditEventType; action: string; details?: Record<string, unknown>; severity?: 'info' | 'warning' } | null>;

export type KeyChanges = ReturnType<typeof createKeyChanges>;

/**
 * What every key action shares (keys.service, keys.bulk, keys.rotation): the views, the
 * checks, issuing a secret, and one key's state change with its audit entry and event.
 */
export function createKeyChanges(deps: KeyServiceDeps) {
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

  /** One key's state change inside `trx`: load, check the actor may, change, audit, emit its event; answers the key afterwards. */
  async function changeIn(trx: Trx, emit: Emit, actor: Actor, id: string, apply: ChangeStep): Promise<KeyView> {
    const row = await loadForChange(trx, actor, id);
    const change = await apply(trx, row, clock.now().toISOString());
    if (!change) return viewIn(trx, actor.orgId, id);
    const { event, ...entry } = change;
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

  return { deps, toViews, view, loadForChange, assertUnderKeyLimit, issue, viewIn, changeIn, change, steps, requireState };
}

/** `2026-03-01` style dates for details written to people. */
export function formatDate(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : 'an unknown date';
}
