import type { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../domain/actor.js';
import { createOrganisation } from '../auth/auth.service.js';
import { requirePermission } from '../domain/permissions.js';
import type { Db, DbOrTrx } from '../db/database.js';
import type { SubscriptionRow, SubscriptionStatus } from '../db/schema.js';
import { AppError, notFound } from '../errors/catalogue.js';
import { commitWithEvents, type EventBus } from '../events/event-bus.js';
import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import { invitationUrl, createInvitation } from '../members/members.service.js';
import { parseOverrides, type LimitOverrides, type PlanCatalogue, type PlanLimits } from '../plans/catalogue.js';

export const SUBSCRIPTION_STATUSES: readonly SubscriptionStatus[] = ['active', 'trialing', 'past_due', 'cancelled', 'suspended'];

export interface SubscriptionView {
  organisation: { id: string; name: string };
  plan: string;
  planName: string;
  status: SubscriptionStatus;
  periodStart: string;
  periodEnd: string | null;
  limits: PlanLimits;
  /** The limits that differ from the plan for this organisation (Enterprise contracts). */
  overrides: LimitOverrides;
  features: string[];
}

export interface SubscriptionChange {
  plan?: string;
  status?: SubscriptionStatus;
  overrides?: LimitOverrides;
}

export type OrgsService = ReturnType<typeof createOrgsService>;

/** An organisation's name and subscription; 404 when there is none. */
export async function loadSubscription(dbx: DbOrTrx, orgId: string): Promise<{ name: string; sub: SubscriptionRow }> {
  const row = await dbx
    .selectFrom('subscriptions')
    .innerJoin('organisations', 'organisations.id', 'subscriptions.orgId')
    .selectAll('subscriptions')
    .select('organisations.name')
    .where('subscriptions.orgId', '=', orgId)
    .executeTakeFirst();
  if (!row) throw notFound('The organisation');
  const { name, ...sub } = row;
  return { name, sub };
}

export function createOrgsService(deps: {
  db: Db;
  clock: Clock;
  newId: IdGenerator;
  events: EventBus;
  audit: AuditService;
  plans: PlanCatalogue;
  publicUrl: string;
}) {
  const { db, plans } = deps;

  function toView(orgId: string, name: string, sub: SubscriptionRow): SubscriptionView {
    const overrides = parseOverrides(sub.overrides);
    const plan = plans.limits(sub.plan, overrides);
    return {
      organisation: { id: orgId, name },
      plan: plan.id,
      planName: plan.name,
      status: sub.status,
      periodStart: sub.periodStart,
      periodEnd: sub.periodEnd,
      limits: {
        documentActionsPerMonth: plan.documentActionsPerMonth,
        utilityActionsPerMonth: plan.utilityActionsPerMonth,
        requestsPerMinute: plan.requestsPerMinute,
        maxKeys: plan.maxKeys,
      },
      overrides,
      features: plan.features,
    };
  }

  return {
    async subscription(actor: Actor): Promise<SubscriptionView> {
      requirePermission(actor, 'subscription.view');
      const { name, sub } = await loadSubscription(db, actor.orgId);
      return toView(actor.orgId, name, sub);
    },

    /** Changes plan, status or limit overrides; audited, and seen by the gateway on its next request. */
    async setSubscription(actor: Actor, change: SubscriptionChange): Promise<SubscriptionView> {
      requirePermission(actor, 'subscription.change');
      if (change.plan !== undefined && !plans.get(change.plan)) {
        throw new AppError('validation_failed', `Unknown plan "${change.plan}". Plans: ${plans.ids().join(', ')}.`, {
          extras: { errors: [{ path: '/plan', message: 'unknown plan' }] },
        });
      }
      return commitWithEvents(db, deps.events, async (trx, emit) => {
        const { name, sub } = await loadSubscription(trx, actor.orgId);
        const overrides = { ...parseOverrides(sub.overrides), ...change.overrides };
        const next = {
          plan: change.plan ?? sub.plan,
          status: change.status ?? sub.status,
          overrides: JSON.stringify(overrides),
          updatedAt: deps.clock.now().toISOString(),
        };
        await trx.updateTable('subscriptions').set(next).where('orgId', '=', actor.orgId).execute();
        await deps.audit.record(trx, actor, {
          eventType: 'subscription.changed',
          resourceType: 'subscription',
          resourceId: actor.orgId,
          action: 'update',
          details: {
            from: { plan: sub.plan, status: sub.status, overrides: parseOverrides(sub.overrides) },
            to: { plan: next.plan, status: next.status, overrides },
          },
        });
        const subscription = toView(actor.orgId, name, { ...sub, ...next });
        emit({ type: 'subscription.changed', organisationId: actor.orgId, data: { subscription } });
        return subscription;
      });
    },

    /** The operator's `org create`: an organisation and a 7-day Admin invitation link. */
    async createWithAdminInvitation(input: { name: string; adminEmail: string; plan: string }): Promise<{ orgId: string; url: string; expiresAt: string }> {
      if (!plans.get(input.plan)) throw new AppError('validation_failed', `Unknown plan "${input.plan}". Plans: ${plans.ids().join(', ')}.`);
      const email = input.adminEmail.trim().toLowerCase();
      if (await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()) {
        throw new AppError('conflict', `${email} already has a Build a Doc account.`);
      }
      return db.transaction().execute(async (trx) => {
        const orgId = await createOrganisation(trx, deps, input.name.trim(), input.plan);
        const { invitation, token } = await createInvitation(trx, deps, { orgId, email, role: 'admin', createdBy: null });
        const actor: Actor = { orgId, userId: null, email: null, role: 'operator', ip: null };
        await deps.audit.record(trx, actor, {
          eventType: 'org.created',
          resourceType: 'organisation',
          resourceId: orgId,
          action: 'create',
          details: { name: input.name.trim(), plan: input.plan },
        });
        await deps.audit.record(trx, actor, {
          eventType: 'user.invited',
          resourceType: 'invitation',
          resourceId: invitation.id,
          action: 'invite',
          details: { email, role: 'admin', expiresAt: invitation.expiresAt },
        });
        return { orgId, url: invitationUrl(deps.publicUrl, token), expiresAt: invitation.expiresAt };
      });
    },
  };
}
