import type { FlowKeyView, FlowView, KeyFlowView } from '../api/views.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import type { Actor } from '../domain/actor.js';
import { requirePermission } from '../domain/permissions.js';
import { notFound } from '../errors/catalogue.js';
import { displayStatus } from '../keys/key-view.js';
import { EXPIRING_SOON_MS, findKeyRow } from '../keys/keys.repository.js';
import type { Clock } from '../lib/clock.js';
import * as repo from './flows.repository.js';

/** Where Power Automate shows a flow; only when its environment is known. */
export function flowDetailsUrl(environmentId: string | null, workflowName: string): string | null {
  if (!environmentId) return null;
  return `https://make.powerautomate.com/environments/${encodeURIComponent(environmentId)}/flows/${encodeURIComponent(workflowName)}/details`;
}

type FlowRow = NonNullable<Awaited<ReturnType<typeof repo.findFlow>>>;
type FlowKeyRow = Awaited<ReturnType<typeof repo.keysOfFlows>>[number];

export type FlowsService = ReturnType<typeof createFlowsService>;

export function createFlowsService(deps: { db: Db; clock: Clock; audit: AuditService }) {
  const { db, clock } = deps;

  function toFlowView(row: FlowRow, links: FlowKeyRow[], now: Date): FlowView {
    const keys: FlowKeyView[] = links.map((link) => ({
      keyId: link.keyId,
      name: link.name,
      last4: link.last4,
      status: displayStatus(link, now),
      expiresAt: link.expiresAt,
      replacedByKeyId: link.replacedByKeyId,
      graceEndsAt: link.graceEndsAt,
      firstSeenAt: link.firstSeenAt,
      lastSeenAt: link.lastSeenAt,
      calls: Number(link.calls),
    }));
    // The key of its latest call (links come most recent first).
    const latest = keys[0];
    const soon = new Date(now.getTime() + EXPIRING_SOON_MS).toISOString();
    const onRevokedOrExpiring =
      latest !== undefined && (latest.status === 'revoked' || latest.status === 'expired' || (latest.expiresAt !== null && latest.expiresAt <= soon));
    return {
      id: row.id,
      label: row.label,
      workflowName: row.workflowName,
      environmentId: row.environmentId,
      workflowId: row.workflowId,
      location: row.location,
      userAgent: row.userAgent,
      firstSeenAt: row.firstSeenAt,
      lastSeenAt: row.lastSeenAt,
      calls: Number(row.calls),
      lastOutcome: row.lastOutcome,
      lastRunId: row.lastRunId,
      detailsUrl: flowDetailsUrl(row.environmentId, row.workflowName),
      onRevokedOrExpiring,
      keys,
    };
  }

  async function views(orgId: string, rows: FlowRow[]): Promise<FlowView[]> {
    const links = await repo.keysOfFlows(
      db,
      orgId,
      rows.map((r) => r.id),
    );
    const now = clock.now();
    return rows.map((row) =>
      toFlowView(
        row,
        links.filter((l) => l.flowId === row.id),
        now,
      ),
    );
  }

  async function keyOf(actor: Actor, keyId: string) {
    const key = await findKeyRow(db, actor.orgId, keyId);
    if (!key) throw notFound('The API key');
    return key;
  }

  return {
    /** The organisation's flows, most recently seen first. */
    async list(actor: Actor, filter: repo.FlowListFilter, page: { limit: number; offset: number }): Promise<{ items: FlowView[]; total: number }> {
      requirePermission(actor, 'keys.view');
      if (filter.keyId) await keyOf(actor, filter.keyId);
      const { rows, total } = await repo.listFlows(db, actor.orgId, filter, page, clock.now());
      return { items: await views(actor.orgId, rows), total };
    },

    async get(actor: Actor, id: string): Promise<FlowView> {
      requirePermission(actor, 'keys.view');
      const row = await repo.findFlow(db, actor.orgId, id);
      if (!row) throw notFound('The flow');
      return (await views(actor.orgId, [row]))[0]!;
    },

    /** A friendly name for a flow (Power Automate only sends its GUID); it stays across rotations. */
    async label(actor: Actor, id: string, label: string | null): Promise<FlowView> {
      requirePermission(actor, 'flows.label');
      await db.transaction().execute(async (trx) => {
        const before = await repo.findFlow(trx, actor.orgId, id);
        if (!before) throw notFound('The flow');
        // The label it already has: nothing to write or audit.
        if (before.label === label) return;
        if (!(await repo.setFlowLabel(trx, actor.orgId, id, label))) throw notFound('The flow');
        await deps.audit.record(trx, actor, {
          eventType: 'flow.labelled',
          resourceType: 'flow',
          resourceId: id,
          action: 'label',
          details: { workflowName: before.workflowName, from: before.label, to: label },
        });
      });
      return this.get(actor, id);
    },

    /** The flows that called one key, with their calls through it. */
    async ofKey(actor: Actor, keyId: string, page: { limit: number; offset: number }): Promise<{ items: KeyFlowView[]; total: number }> {
      requirePermission(actor, 'keys.view');
      const key = await keyOf(actor, keyId);
      const now = clock.now();
      const dead = displayStatus(key, now) !== 'active';
      const deadSince = key.revokedAt ?? key.suspendedAt ?? key.graceEndsAt ?? key.expiresAt;
      // A key makes at most FLOWS_PER_KEY_MAX flows, so its page is cut from all of them.
      const sightings = await repo.sightingsOnKeys(db, actor.orgId, [keyId]);
      const items = sightings.slice(page.offset, page.offset + page.limit).map(
        (s): KeyFlowView => ({
          id: s.flowId,
          label: s.label,
          workflowName: s.workflowName,
          workflowId: s.workflowId,
          lastRunId: s.lastRunId,
          location: s.location,
          clientEnvironmentId: s.environmentId,
          userAgent: s.userAgent,
          firstSeenAt: s.firstSeenAt,
          lastSeenAt: s.lastSeenAt,
          calls: Number(s.calls),
          lastOutcome: s.lastOutcome,
          callingDeadKey: dead && (s.lastOutcome === 'rejected' || (deadSince !== null && s.lastSeenAt >= deadSince)),
          detailsUrl: flowDetailsUrl(s.environmentId, s.workflowName),
        }),
      );
      return { items, total: sightings.length };
    },
  };
}
