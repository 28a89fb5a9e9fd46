import type { IssuedKey } from '../api/views.js';
import type { Actor } from '../domain/actor.js';
import { requirePermission } from '../domain/permissions.js';
import type { KeyEnvironment } from '../db/schema.js';
import { commitWithEvents } from '../events/event-bus.js';
import { DAY } from '../lib/clock.js';
import { displayStatus, type KeyView } from './key-view.js';
import { nameWarnings } from './key-names.js';
import { createKeyChanges, type KeyServiceDeps } from './key-changes.js';
import { createBulkActions } from './keys.bulk.js';
import { createRotationActions } from './keys.rotation.js';
import * as repo from './keys.repository.js';

export type { KeyServiceDeps } from './key-changes.js';

/** The expiry choices of CONTRACT §3 (days); `null` is never. */
export type ExpiryChoice = 30 | 60 | 90 | 365 | null;

export interface CreateKeyInput {
  name: string;
  expiresInDays?: ExpiryChoice;
  environment?: KeyEnvironment | null;
  team?: string | null;
}

export type KeyService = ReturnType<typeof createKeyService>;

/** The key actions: one key at a time here; several at once (keys.bulk) and rotation (keys.rotation) beside. */
export function createKeyService(deps: KeyServiceDeps) {
  const { db, clock, audit, events } = deps;
  const core = createKeyChanges(deps);
  const { toViews, view, assertUnderKeyLimit, issue, viewIn, change, steps, requireState } = core;

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
        // Only what differs is written and audited; a change to nothing is neither (nor announced).
        const changed = Object.fromEntries(Object.entries(patch).filter(([field, value]) => row[field as keyof typeof patch] !== value));
        if (Object.keys(changed).length === 0) return null;
        await repo.updateKey(trx, id, changed);
        const renamed = changed.name !== undefined;
        return {
          event: 'api_key.updated',
          eventType: renamed ? 'key.renamed' : 'key.updated',
          action: renamed ? 'rename' : 'update',
          details: { ...(renamed ? { from: row.name, to: changed.name } : {}), ...changed },
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

    ...createBulkActions(core),
    ...createRotationActions(core),
  };
}
