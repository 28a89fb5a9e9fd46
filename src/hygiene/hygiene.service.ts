import type { HygieneFindingView, HygieneKind, HygieneView } from '../api/views.js';
import type { Db } from '../db/database.js';
import type { Actor } from '../domain/actor.js';
import { requirePermission } from '../domain/permissions.js';
import { recentMarks } from '../events/event-marks.js';
import { sightingsOnKeys } from '../flows/flows.repository.js';
import { displayStatus, type KeyRowWithPeople, toKeyView } from '../keys/key-view.js';
import { allKeyViews, EXPIRING_SOON_MS } from '../keys/keys.repository.js';
import { DAY, type Clock } from '../lib/clock.js';

/** Each finding of CONTRACT §10: how it reads, how serious it is, and the action that fixes it. */
const FINDINGS: Record<HygieneKind, Pick<HygieneFindingView, 'title' | 'severity' | 'action'>> = {
  revoked_still_called: { title: 'Revoked or expired keys still called in the last 7 days', severity: 'error', action: 'replace' },
  expiring: { title: 'Keys expiring within 14 days', severity: 'warning', action: 'rotate' },
  owner_deactivated: { title: 'Keys owned by a deactivated person', severity: 'warning', action: 'reassign_owner' },
  never_used: { title: 'Keys older than 7 days that were never used', severity: 'info', action: 'revoke' },
  idle: { title: 'Keys with no call for 90 days', severity: 'info', action: 'revoke' },
  old: { title: 'Keys older than a year without an expiry', severity: 'info', action: 'set_expiry' },
};

export type HygieneService = ReturnType<typeof createHygieneService>;

/** The organisation's key hygiene: which keys need attention, and why. Every rule reads the clock. */
export function createHygieneService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  /** The kinds a live key falls under. */
  function liveKinds(row: KeyRowWithPeople, now: number): HygieneKind[] {
    const kinds: HygieneKind[] = [];
    const created = Date.parse(row.createdAt);
    const lastUsed = row.lastUsedAt ? Date.parse(row.lastUsedAt) : null;
    if (lastUsed === null && created < now - 7 * DAY) kinds.push('never_used');
    if (lastUsed !== null && lastUsed < now - 90 * DAY) kinds.push('idle');
    if (row.expiresAt && Date.parse(row.expiresAt) <= now + EXPIRING_SOON_MS) kinds.push('expiring');
    if (!row.expiresAt && created < now - 365 * DAY) kinds.push('old');
    if (row.creatorStatus === 'deactivated') kinds.push('owner_deactivated');
    return kinds;
  }

  return {
    async findings(actor: Actor): Promise<HygieneView> {
      requirePermission(actor, 'keys.view');
      const now = clock.now();
      const rows = await allKeyViews(db, actor.orgId);
      const dead = rows.filter((row) => ['revoked', 'expired'].includes(displayStatus(row, now)));
      const weekAgo = new Date(now.getTime() - 7 * DAY);
      // A dead key was still called: a refused call announced (revoked_key_used), or a flow seen on it after it stopped working.
      const announced = await recentMarks(db, actor.orgId, 'api_key.revoked_key_used', weekAgo);
      const sightings = await sightingsOnKeys(
        db,
        actor.orgId,
        dead.map((row) => row.id),
        weekAgo.toISOString(),
      );
      const byKind = new Map<HygieneKind, HygieneFindingView['keys']>();
      const add = (kind: HygieneKind, row: KeyRowWithPeople, flows: HygieneFindingView['keys'][number]['flows'] = []) => {
        const view = toKeyView(row, now);
        const list = byKind.get(kind) ?? [];
        list.push({
          id: view.id,
          name: view.name,
          status: view.status,
          createdAt: view.createdAt,
          lastUsedAt: view.lastUsedAt,
          expiresAt: view.expiresAt,
          createdBy: view.createdBy,
          flows,
        });
        byKind.set(kind, list);
      };
      for (const row of rows) {
        const status = displayStatus(row, now);
        if (status === 'active' || status === 'suspended') {
          for (const kind of liveKinds(row, now.getTime())) add(kind, row);
          continue;
        }
        const deadSince = [row.revokedAt, row.graceEndsAt, row.expiresAt].filter((at): at is string => at !== null && at <= now.toISOString()).sort()[0] ?? '';
        const flows = sightings
          .filter((s) => s.keyId === row.id && s.lastSeenAt >= deadSince)
          .map((s) => ({ flowId: s.flowId, label: s.label, workflowName: s.workflowName, lastSeenAt: s.lastSeenAt }));
        if (flows.length > 0 || announced.has(row.id)) add('revoked_still_called', row, flows);
      }
      const findings = (Object.keys(FINDINGS) as HygieneKind[])
        .filter((kind) => byKind.has(kind))
        .map((kind) => ({ kind, ...FINDINGS[kind], keys: byKind.get(kind)! }));
      return { findings };
    },
  };
}
