import type { IssuedKey } from '../api/views.js';
import type { Actor } from '../domain/actor.js';
import { AppError } from '../errors/catalogue.js';
import { commitWithEvents } from '../events/event-bus.js';
import { HOUR } from '../lib/clock.js';
import type { KeyChanges } from './key-changes.js';
import * as repo from './keys.repository.js';

/** Rotation on the key side: issuing the successor, the old key's self-revocation, and revoking it once drained. */
export function createRotationActions(core: KeyChanges) {
  const { db, clock, audit, events } = core.deps;
  const { view, loadForChange, assertUnderKeyLimit, issue, viewIn, change, requireState } = core;

  return {
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

    /** Turns a rotation's self-revocation on or off (on the old key). */
    setRevokeWhenDrained: (actor: Actor, id: string, on: boolean) =>
      change(actor, id, async (trx, row) => {
        if (!row.replacedByKeyId) throw new AppError('conflict', 'This API key was not rotated, so there is nothing to drain.');
        requireState(row, ['active', 'suspended', 'expired'], 'changed');
        if (Boolean(row.revokeWhenDrained) === on) return null;
        await repo.updateKey(trx, row.id, { revokeWhenDrained: on ? 1 : 0 });
        return { event: 'api_key.updated', eventType: 'key.updated', action: 'update', details: { revokeWhenDrained: on } };
      }),

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
