import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WEBHOOK_EVENT_TYPES, type WebhookDeliveryView, type WebhookEndpointView, type WebhookEventType, type WebhookWithSecret } from '../api/views.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Db, Trx } from '../db/database.js';
import type { Actor } from '../domain/actor.js';
import type { WebhookAuditAction } from '../domain/audit-events.js';
import { requirePermission } from '../domain/permissions.js';
import { AppError } from '../errors/catalogue.js';
import type { DomainEvent } from '../events/domain-events.js';
import type { Clock } from '../lib/clock.js';
import { DAY } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import { lockSubscription } from '../orgs/orgs.repository.js';
import type { SecretBox } from './secret-box.js';
import { checkWebhookUrl } from './url-guard.js';
import * as repo from './webhooks.repository.js';
import type { DeliveryRow, EndpointRow } from './webhooks.repository.js';

/** How long deliveries are also signed with the previous secret after a rotation. */
export const PREVIOUS_SECRET_MS = DAY;
/**
 * Webhook endpoints an organisation may have, enabled or not (a paused one can be turned on
 * again): every event is sent to each of them.
 */
export const WEBHOOK_ENDPOINTS_PER_ORG_MAX = 20;
/**
 * Live Power Automate trigger subscriptions an organisation may hold: every event is sent to each
 * of them too. Those stopped with their key's revocation no longer count.
 */
export const TRIGGER_SUBSCRIPTIONS_PER_ORG_MAX = 100;
/** How long a trigger subscription stopped with its key is kept (its deliveries stay visible), then deleted. */
export const STOPPED_TRIGGERS_KEPT_MS = 30 * DAY;
const PRUNE_BATCH = 500;
const URL_MAX = 2000;

export interface WebhookServiceDeps {
  db: Db;
  clock: Clock;
  newId: IdGenerator;
  audit: AuditService;
  box: SecretBox;
  allowPrivate: boolean;
}

/** `whsec_` + base64 of 32 random bytes (Standard Webhooks). */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function toEndpointView(row: EndpointRow, now: Date): WebhookEndpointView {
  const rotating = row.previousSecretUntil && row.previousSecretUntil > now.toISOString() ? row.previousSecretUntil : null;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: JSON.parse(row.eventTypes) as WebhookEventType[],
    enabled: row.status === 'enabled',
    disabledReason: row.disabledReason,
    secretRotatedUntil: rotating,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toDeliveryView(row: DeliveryRow): WebhookDeliveryView {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    status: row.status,
    attempts: Number(row.attempts),
    lastStatusCode: row.lastStatusCode === null ? null : Number(row.lastStatusCode),
    nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt : null,
    createdAt: row.createdAt,
    deliveredAt: row.deliveredAt,
    attemptLog: JSON.parse(row.attemptLog),
  };
}

/**
 * The signature headers of one attempt (Standard Webhooks 1.0, through the `standardwebhooks`
 * package): `webhook-id`, `webhook-timestamp`, and `webhook-signature` with one `v1,` entry per
 * secret in force (two during the day after a rotation).
 */
export function signDelivery(secrets: readonly string[], eventId: string, at: Date, body: string): Record<string, string> {
  const signature = secrets.map((secret) => new Webhook(secret).sign(eventId, at, body)).join(' ');
  return { 'webhook-id': eventId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
}

export function createWebhookService(deps: WebhookServiceDeps) {
  const { db, clock, newId, audit, box } = deps;

  async function validUrl(raw: string): Promise<string> {
    if (raw.length > URL_MAX) throw invalid('url', `is longer than ${URL_MAX} characters`);
    const check = await checkWebhookUrl(raw, { allowPrivate: deps.allowPrivate });
    if (!check.ok) throw invalid('url', check.reason);
    return check.url.toString();
  }

  function invalid(path: string, message: string): AppError {
    return new AppError('validation_failed', `The webhook ${path} ${message}.`, { extras: { errors: [{ path: `/${path}`, message }] } });
  }

  function eventTypes(list: readonly string[]): WebhookEventType[] {
    const unique = [...new Set(list)];
    if (unique.length === 0) throw invalid('eventTypes', 'must name at least one event type');
    for (const t of unique) if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t)) throw invalid('eventTypes', `names an unknown event type (${t})`);
    return unique as WebhookEventType[];
  }

  /** What an organisation may hold of each kind, and the refusal's advice. */
  const LIMITS: Record<EndpointRow['kind'], { max: number; liveOnly: boolean; refusal: (held: number) => string }> = {
    webhook: {
      max: WEBHOOK_ENDPOINTS_PER_ORG_MAX,
      liveOnly: false,
      refusal: (held) =>
        `An organisation can have ${WEBHOOK_ENDPOINTS_PER_ORG_MAX} webhook endpoints and yours has ${held}. Delete an endpoint you no longer use, or send several event types to one endpoint, then add this one.`,
    },
    trigger: {
      max: TRIGGER_SUBSCRIPTIONS_PER_ORG_MAX,
      liveOnly: true,
      refusal: (held) =>
        `An organisation can hold ${TRIGGER_SUBSCRIPTIONS_PER_ORG_MAX} live trigger subscriptions and yours holds ${held}. Turn off or delete the flows that no longer need a Build a Doc trigger (Power Automate then deletes their subscriptions), then save this flow again.`,
    },
  };

  /** Refuses one more endpoint of `kind` over the organisation's limit, counted after locking its subscription row. */
  async function assertUnderLimit(trx: Trx, orgId: string, kind: EndpointRow['kind']): Promise<void> {
    const limit = LIMITS[kind];
    // Two concurrent creates count one after the other and cannot pass the limit.
    await lockSubscription(trx, orgId);
    const held = await repo.countEndpoints(trx, orgId, kind, limit.liveOnly);
    if (held >= limit.max) throw new AppError('quota_exceeded', limit.refusal(held), { extras: { limit: limit.max, used: held } });
  }

  async function owned(actor: Actor, id: string): Promise<EndpointRow> {
    requirePermission(actor, 'webhooks.manage');
    const row = await repo.findEndpoint(db, actor.orgId, id);
    if (row?.kind !== 'webhook') throw new AppError('not_found', 'No such webhook endpoint in your organisation.');
    return row;
  }

  function auditIn(trx: Trx, actor: Actor, action: WebhookAuditAction, row: Pick<EndpointRow, 'id' | 'url'>, details: Record<string, unknown> = {}) {
    return audit.record(trx, actor, {
      eventType: `webhook.${action}`,
      resourceType: 'webhook',
      resourceId: row.id,
      action,
      details: { url: row.url, ...details },
    });
  }

  /** The secrets deliveries are signed with now: the current one, and the previous one for a day after a rotation. */
  function secretsOf(row: EndpointRow, now: Date): string[] {
    const secrets = [box.open(row.secretEnc)];
    if (row.previousSecretEnc && row.previousSecretUntil && row.previousSecretUntil > now.toISOString()) secrets.push(box.open(row.previousSecretEnc));
    return secrets;
  }

  function pendingDelivery(endpoint: EndpointRow, event: { id: string; type: string }, payload: string, now: string) {
    return {
      id: newId('whd'),
      endpointId: endpoint.id,
      orgId: endpoint.orgId,
      eventId: event.id,
      eventType: event.type,
      payload,
      status: 'pending' as const,
      attemptLog: '[]',
      nextAttemptAt: now,
      createdAt: now,
    };
  }

  return {
    secretsOf,

    /** The receiver answered 410 Gone: the endpoint is disabled and what it had queued is dropped. */
    async disableGone(endpoint: EndpointRow, at: Date): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await repo.updateEndpoint(trx, endpoint.orgId, endpoint.id, { status: 'disabled', disabledReason: 'gone', updatedAt: at.toISOString() });
        await repo.failPending(trx, endpoint.id, at.toISOString());
        await audit.record(
          trx,
          { orgId: endpoint.orgId, userId: null, email: null, role: 'operator', ip: null },
          {
            eventType: 'webhook.disabled',
            resourceType: 'webhook',
            resourceId: endpoint.id,
            action: 'disable',
            details: { url: endpoint.url, reason: 'gone' },
            severity: 'warning',
          },
        );
      });
    },

    async list(actor: Actor, page: { limit: number; offset: number }): Promise<{ items: WebhookEndpointView[]; total: number }> {
      requirePermission(actor, 'webhooks.manage');
      const { rows, total } = await repo.listEndpoints(db, actor.orgId, 'webhook', page);
      const now = clock.now();
      return { items: rows.map((row) => toEndpointView(row, now)), total };
    },

    async get(actor: Actor, id: string): Promise<WebhookEndpointView> {
      return toEndpointView(await owned(actor, id), clock.now());
    },

    async create(actor: Actor, input: { url: string; eventTypes: string[]; description?: string }): Promise<WebhookWithSecret> {
      requirePermission(actor, 'webhooks.manage');
      const url = await validUrl(input.url);
      const types = eventTypes(input.eventTypes);
      const secret = newSecret();
      const now = clock.now().toISOString();
      const row = {
        id: newId('whe'),
        orgId: actor.orgId,
        kind: 'webhook' as const,
        url,
        description: input.description?.trim() || null,
        eventTypes: JSON.stringify(types),
        secretEnc: box.seal(secret),
        previousSecretEnc: null,
        previousSecretUntil: null,
        status: 'enabled' as const,
        disabledReason: null,
        keyId: null,
        createdBy: actor.userId,
        createdAt: now,
        updatedAt: now,
      };
      await db.transaction().execute(async (trx) => {
        await assertUnderLimit(trx, actor.orgId, 'webhook');
        await repo.insertEndpoint(trx, row);
        await auditIn(trx, actor, 'created', row, { eventTypes: types });
      });
      return { endpoint: toEndpointView(row, clock.now()), secret };
    },

    /** Changes what differs from the endpoint as it is; a change to nothing writes nothing and is not audited. */
    async update(actor: Actor, id: string, patch: { url?: string; eventTypes?: string[]; description?: string | null; enabled?: boolean }) {
      const row = await owned(actor, id);
      const changes: Parameters<typeof repo.updateEndpoint>[3] = {};
      /** The request's fields that change something. */
      const changed: string[] = [];
      const change = (field: string, same: boolean, update: typeof changes) => {
        if (same) return;
        Object.assign(changes, update);
        changed.push(field);
      };
      if (patch.url !== undefined) {
        const url = await validUrl(patch.url);
        change('url', url === row.url, { url });
      }
      if (patch.eventTypes !== undefined) {
        const types = eventTypes(patch.eventTypes);
        // The same types in another order are the same subscription.
        const held = new Set(JSON.parse(row.eventTypes) as string[]);
        change('eventTypes', types.length === held.size && types.every((type) => held.has(type)), { eventTypes: JSON.stringify(types) });
      }
      if (patch.description !== undefined) {
        const description = patch.description?.trim() || null;
        change('description', description === row.description, { description });
      }
      if (patch.enabled !== undefined) {
        const status = patch.enabled ? 'enabled' : 'disabled';
        const disabledReason = patch.enabled ? null : 'paused';
        change('enabled', status === row.status && disabledReason === row.disabledReason, { status, disabledReason });
      }
      if (changed.length === 0) return toEndpointView(row, clock.now());
      changes.updatedAt = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await repo.updateEndpoint(trx, actor.orgId, id, changes);
        await auditIn(trx, actor, 'updated', row, { changed });
      });
      return toEndpointView({ ...row, ...changes } as EndpointRow, clock.now());
    },

    async remove(actor: Actor, id: string): Promise<void> {
      const row = await owned(actor, id);
      await db.transaction().execute(async (trx) => {
        await repo.deleteEndpoint(trx, actor.orgId, id);
        await auditIn(trx, actor, 'deleted', row);
      });
    },

    /** A new secret; the old one keeps signing too for a day, so receivers can switch without losing a delivery. */
    async rotateSecret(actor: Actor, id: string): Promise<WebhookWithSecret> {
      const row = await owned(actor, id);
      const now = clock.now();
      const secret = newSecret();
      const changes = {
        secretEnc: box.seal(secret),
        previousSecretEnc: row.secretEnc,
        previousSecretUntil: new Date(now.getTime() + PREVIOUS_SECRET_MS).toISOString(),
        updatedAt: now.toISOString(),
      };
      await db.transaction().execute(async (trx) => {
        await repo.updateEndpoint(trx, actor.orgId, id, changes);
        await auditIn(trx, actor, 'secret_rotated', row, { previousValidUntil: changes.previousSecretUntil });
      });
      return { endpoint: toEndpointView({ ...row, ...changes }, now), secret };
    },

    /** Queues a `webhook.test` event for this endpoint only (the delivery worker sends it like any other). */
    async sendTest(actor: Actor, id: string): Promise<WebhookDeliveryView> {
      const row = await owned(actor, id);
      const now = clock.now().toISOString();
      const event = { id: newId('evt'), type: 'webhook.test', timestamp: now, organisationId: actor.orgId, data: { endpoint: { id: row.id, url: row.url } } };
      const delivery = pendingDelivery(row, event, JSON.stringify(event), now);
      await repo.insertDeliveries(db, [delivery]);
      return toDeliveryView({ ...delivery, attempts: 0, claimedUntil: null, lastStatusCode: null, deliveredAt: null });
    },

    async deliveries(actor: Actor, id: string, page: { limit: number; offset: number }) {
      await owned(actor, id);
      const { rows, total } = await repo.listDeliveries(db, actor.orgId, id, page);
      return { items: rows.map(toDeliveryView), total, ...page };
    },

    /** A Power Automate trigger subscription, made with an API key of the organisation (CONTRACT §11). */
    async subscribeTrigger(key: { id: string; orgId: string }, types: readonly WebhookEventType[], callbackUrl: string): Promise<string> {
      const url = await validUrl(callbackUrl);
      const now = clock.now().toISOString();
      const id = newId('whs');
      await db.transaction().execute(async (trx) => {
        await assertUnderLimit(trx, key.orgId, 'trigger');
        await repo.insertEndpoint(trx, {
          id,
          orgId: key.orgId,
          kind: 'trigger',
          url,
          description: null,
          eventTypes: JSON.stringify(types),
          secretEnc: box.seal(newSecret()),
          status: 'enabled',
          keyId: key.id,
          createdAt: now,
          updatedAt: now,
        });
      });
      return id;
    },

    /**
     * Deletes the trigger subscriptions stopped with their key over STOPPED_TRIGGERS_KEPT_MS ago,
     * with their delivery log, a batch per transaction (the sweep runs it once across nodes).
     */
    async pruneStoppedTriggers(): Promise<number> {
      const before = new Date(clock.now().getTime() - STOPPED_TRIGGERS_KEPT_MS).toISOString();
      let pruned = 0;
      for (;;) {
        const batch = await db.transaction().execute((trx) => repo.deleteStoppedTriggers(trx, before, PRUNE_BATCH));
        pruned += batch;
        if (batch < PRUNE_BATCH) return pruned;
      }
    },

    async unsubscribeTrigger(key: { orgId: string }, id: string): Promise<void> {
      const row = await repo.findEndpoint(db, key.orgId, id);
      if (row?.kind !== 'trigger') throw new AppError('not_found', 'No such trigger subscription in your organisation.');
      await repo.deleteEndpoint(db, key.orgId, id);
    },

    /**
     * Inside the transaction that records events: one delivery per event and endpoint that asked
     * for it, so a delivery exists exactly when its event commits. A revoked or deleted key's
     * trigger subscriptions get that event first and then stop. Answers the ids of the events that
     * got at least one delivery (their node's worker sends them once they commit).
     */
    async fanOut(trx: Trx, events: readonly DomainEvent[]): Promise<string[]> {
      const queued = new Set<string>();
      const byOrg = new Map<string, DomainEvent[]>();
      for (const event of events) {
        if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event.type)) continue;
        byOrg.set(event.organisationId, [...(byOrg.get(event.organisationId) ?? []), event]);
      }
      for (const [orgId, list] of byOrg) {
        const endpoints = await repo.enabledEndpoints(trx, orgId);
        const rows = endpoints.flatMap((endpoint) => {
          const wanted = JSON.parse(endpoint.eventTypes) as string[];
          return list.filter((e) => wanted.includes(e.type)).map((e) => pendingDelivery(endpoint, e, JSON.stringify(e), e.timestamp));
        });
        await repo.insertDeliveries(trx, rows);
        for (const row of rows) queued.add(row.eventId);
        for (const event of list) {
          if (event.type === 'api_key.revoked' || event.type === 'api_key.deleted') await repo.stopTriggersOfKey(trx, event.data.key.id, event.timestamp);
        }
      }
      return [...queued];
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
