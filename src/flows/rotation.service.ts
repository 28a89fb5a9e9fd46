import type { RotationFlowView, RotationView } from '../api/views.js';
import type { Db } from '../db/database.js';
import type { ApiKeyRow } from '../db/schema.js';
import type { Actor } from '../domain/actor.js';
import { requirePermission } from '../domain/permissions.js';
import { notFound } from '../errors/catalogue.js';
import { displayStatus } from '../keys/key-view.js';
import { findKeyRow, keysToDrain } from '../keys/keys.repository.js';
import type { KeyService } from '../keys/keys.service.js';
import { DAY, MINUTE, type Clock } from '../lib/clock.js';
import { sightingsOnKeys } from './flows.repository.js';
import { flowDetailsUrl } from './flows.service.js';

/** Flows seen on the old key this long before now must have moved before it is safe to revoke. */
const FLOW_WINDOW_MS = 30 * DAY;
/** And the old key must have been quiet this long. */
const QUIET_MS = 15 * MINUTE;

export type RotationService = ReturnType<typeof createRotationService>;

/**
 * The rotation assistant (CONTRACT §10): which flows have moved from the old key to its
 * successor, whether the old key can go, and the once-per-cluster job that revokes it when the
 * rotation asked for that. Every time rule reads the clock, never the database's now().
 */
export function createRotationService(deps: { db: Db; clock: Clock; keys: KeyService }) {
  const { db, clock } = deps;

  /** The state of the rotation from `old` to `successor`, as of `now`. */
  async function stateOf(orgId: string, old: ApiKeyRow, successor: ApiKeyRow, now: Date): Promise<RotationView> {
    const since = new Date(now.getTime() - FLOW_WINDOW_MS).toISOString();
    const sightings = await sightingsOnKeys(db, orgId, [old.id, successor.id]);
    const flows = new Map<string, RotationFlowView>();
    for (const s of sightings) {
      const flow = flows.get(s.flowId) ?? {
        flowId: s.flowId,
        label: s.label,
        workflowName: s.workflowName,
        detailsUrl: flowDetailsUrl(s.environmentId, s.workflowName),
        lastSeenOnOld: null,
        lastSeenOnNew: null,
        moved: false,
      };
      if (s.keyId === old.id) flow.lastSeenOnOld = s.lastSeenAt;
      else {
        flow.lastSeenOnNew = s.lastSeenAt;
        flow.moved = true;
      }
      flows.set(s.flowId, flow);
    }
    // The checklist: the flows that used the old key lately, and any that already moved from it.
    const checklist = [...flows.values()].filter((f) => (f.lastSeenOnOld !== null && f.lastSeenOnOld >= since) || (f.moved && f.lastSeenOnOld !== null));
    const lastCallOnOld = [old.lastUsedAt, ...checklist.map((f) => f.lastSeenOnOld)].reduce<string | null>(
      (latest, at) => (at && (!latest || at > latest) ? at : latest),
      null,
    );
    const quiet = lastCallOnOld === null || Date.parse(lastCallOnOld) <= now.getTime() - QUIET_MS;
    const everyFlowMoved = checklist.every((f) => f.moved || (f.lastSeenOnOld ?? '') < since);
    return {
      predecessorId: old.id,
      predecessorName: old.name,
      predecessorLast4: old.last4,
      predecessorStatus: displayStatus(old, now),
      successorId: successor.id,
      successorName: successor.name,
      successorLast4: successor.last4,
      rotatedAt: successor.createdAt,
      graceEndsAt: old.graceEndsAt,
      revokeWhenDrained: Number(old.revokeWhenDrained) === 1,
      oldKeyLastUsedAt: lastCallOnOld,
      flows: checklist,
      safeToRevoke: everyFlowMoved && quiet,
    };
  }

  /** The old and new key of the rotation `keyId` takes part in (as the old key first). */
  async function pairOf(orgId: string, keyId: string): Promise<{ old: ApiKeyRow; successor: ApiKeyRow }> {
    const key = await findKeyRow(db, orgId, keyId);
    if (key?.replacedByKeyId) {
      const successor = await findKeyRow(db, orgId, key.replacedByKeyId);
      if (successor) return { old: key, successor };
    }
    if (key?.replacesKeyId) {
      const old = await findKeyRow(db, orgId, key.replacesKeyId);
      if (old) return { old, successor: key };
    }
    if (!key) throw notFound('The API key');
    throw notFound('A rotation of this API key');
  }

  return {
    /** The rotation of a key, read from either the old or the new key. */
    async status(actor: Actor, keyId: string): Promise<RotationView> {
      requirePermission(actor, 'keys.view');
      const { old, successor } = await pairOf(actor.orgId, keyId);
      return stateOf(actor.orgId, old, successor, clock.now());
    },

    /** Lets the old key revoke itself once drained, or stops it (from either key). */
    async setRevokeWhenDrained(actor: Actor, keyId: string, on: boolean): Promise<RotationView> {
      const { old } = await pairOf(actor.orgId, keyId);
      await deps.keys.setRevokeWhenDrained(actor, old.id, on);
      return this.status(actor, keyId);
    },

    /**
     * The job (once per cluster, every minute): revokes each old key that asked for it once it is
     * safe to, or when its grace ends. The revocation itself is conditional, so a key is revoked
     * once even if two nodes ran this at the same time.
     */
    async revokeDrainedKeys(): Promise<number> {
      let revoked = 0;
      for (const { id, orgId } of await keysToDrain(db, 500)) {
        const now = clock.now();
        const old = await findKeyRow(db, orgId, id);
        const successor = old?.replacedByKeyId ? await findKeyRow(db, orgId, old.replacedByKeyId) : undefined;
        if (!old || !successor) continue;
        const graceEnded = old.graceEndsAt !== null && old.graceEndsAt <= now.toISOString();
        const { safeToRevoke } = await stateOf(orgId, old, successor, now);
        if (!safeToRevoke && !graceEnded) continue;
        if (await deps.keys.revokeDrained(orgId, id, safeToRevoke ? 'drained' : 'grace_ended')) revoked++;
      }
      return revoked;
    },
  };
}
