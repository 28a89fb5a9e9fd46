import type { Actor } from '../domain/actor.js';
import { requirePermission } from '../domain/permissions.js';
import { commitWithEvents } from '../events/event-bus.js';
import type { KeyChanges } from './key-changes.js';
import type { KeyView } from './key-view.js';
import * as repo from './keys.repository.js';

/** Actions on several keys at once: bulk revoke or suspend, and handing a person's keys to another. */
export function createBulkActions(core: KeyChanges) {
  const { db, audit, events } = core.deps;
  const { changeIn, steps, viewIn } = core;

  return {
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
  };
}
