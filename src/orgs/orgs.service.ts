import type { OrganisationSettingsView, SubscriptionView } from '../api/views.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../domain/actor.js';
import { requirePermission } from '../domain/permissions.js';
import type { Db, DbOrTrx } from '../db/database.js';
import type { SubscriptionRow, SubscriptionStatus } from '../db/schema.js';
import { AppError, notFound } from '../errors/catalogue.js';
import { commitWithEvents, type EventBus } from '../events/event-bus.js';
import type { Clock } from '../lib/clock.js';
import { findSubscription, leakResponseOf, organisationsPage, setLeakResponse, updateSubscription } from './orgs.repository.js';
import { parseOverrides, type LimitOverrides, type PlanCatalogue } from '../plans/catalogue.js';
import { currentPeriod } from '../plans/period.js';

export const SUBSCRIPTION_STATUSES: readonly SubscriptionStatus[] = ['active', 'trialing', 'past_due', 'cancelled', 'suspended'];

export interface SubscriptionChange {
  plan?: string;
  status?: SubscriptionStatus;
  overrides?: LimitOverrides;
}

export type OrgsService = ReturnType<typeof createOrgsService>;

/** An organisation as the operator's list shows it. */
export interface OrganisationListItem {
  id: string;
  name: string;
  plan: string;
  /** Active people (deactivated ones do not count). */
  members: number;
  createdAt: string;
}

/** An organisation's name and subscription; 404 when there is none. */
export async function loadSubscription(dbx: DbOrTrx, orgId: string): Promise<{ name: string; sub: SubscriptionRow }> {
  const found = await findSubscription(dbx, orgId);
  if (!found) throw notFound('The organisation');
  return found;
}

export function createOrgsService(deps: {
  db: Db;
  clock: Clock;
  events: EventBus;
  audit: AuditService;
  plans: PlanCatalogue;
  /** Whether Admins may change the plan themselves (SELF_SERVICE_PLANS). */
  selfServicePlans: boolean;
  /** How many active people each organisation has (the users' part counts them; absent: none). */
  memberCounts?: (db: DbOrTrx, orgIds: readonly string[]) => Promise<Map<string, number>>;
}) {
  const { db, plans } = deps;

  function toView(orgId: string, name: string, sub: SubscriptionRow): SubscriptionView {
    const overrides = parseOverrides(sub.overrides);
    const plan = plans.limits(sub.plan, overrides);
    // The period quotas are counted in now (as GET /api/usage reports it), not the row's raw dates:
    // without an end of its own, that is the calendar month.
    const period = currentPeriod(sub, deps.clock.now());
    return {
      organisation: { id: orgId, name },
      plan: plan.id,
      planName: plan.name,
      status: sub.status,
      periodStart: period.start,
      periodEnd: period.end,
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

  /** Changes plan, status or limit overrides; audited, and seen by the gateway on its next request. */
  async function setSubscription(actor: Actor, change: SubscriptionChange): Promise<SubscriptionView> {
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
      // The plan, status and limits it already has: nothing to write, audit or announce.
      if (next.plan === sub.plan && next.status === sub.status && next.overrides === JSON.stringify(parseOverrides(sub.overrides))) {
        return toView(actor.orgId, name, sub);
      }
      await updateSubscription(trx, actor.orgId, next);
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
  }

  return {
    /** The organisation's settings (Admins): what a leak report does to a live key. */
    async settings(actor: Actor): Promise<OrganisationSettingsView> {
      requirePermission(actor, 'organisation.settings');
      return { leakResponse: await leakResponseOf(db, actor.orgId) };
    },

    async updateSettings(actor: Actor, settings: OrganisationSettingsView): Promise<OrganisationSettingsView> {
      requirePermission(actor, 'organisation.settings');
      await db.transaction().execute(async (trx) => {
        const from = await leakResponseOf(trx, actor.orgId);
        if (from === settings.leakResponse) return;
        await setLeakResponse(trx, actor.orgId, settings.leakResponse);
        await deps.audit.record(trx, actor, {
          eventType: 'org.settings_changed',
          resourceType: 'organisation',
          resourceId: actor.orgId,
          action: 'update',
          details: { leakResponse: { from, to: settings.leakResponse } },
          severity: settings.leakResponse === 'notify' ? 'warning' : 'info',
        });
      });
      return { leakResponse: await leakResponseOf(db, actor.orgId) };
    },

    /** Whether Admins may change the plan themselves. */
    selfServicePlans: deps.selfServicePlans,

    /**
     * Every organisation, oldest first, for the operator (the CLI; no person may list other
     * organisations): a page after `cursor` (the last id of the page before), and the cursor of
     * the next page, or null after the last.
     */
    async listForOperator(page: { cursor?: string; limit: number }): Promise<{ items: OrganisationListItem[]; nextCursor: string | null }> {
      // One more than asked tells whether a next page exists.
      const rows = await organisationsPage(db, page.cursor, page.limit + 1);
      const shown = rows.slice(0, page.limit);
      const counts = deps.memberCounts
        ? await deps.memberCounts(
            db,
            shown.map((row) => row.id),
          )
        : new Map<string, number>();
      return {
        items: shown.map((row) => ({ id: row.id, name: row.name, plan: row.plan, members: counts.get(row.id) ?? 0, createdAt: row.createdAt })),
        nextCursor: rows.length > page.limit ? shown.at(-1)!.id : null,
      };
    },

    async subscription(actor: Actor): Promise<SubscriptionView> {
      requirePermission(actor, 'subscription.view');
      const { name, sub } = await loadSubscription(db, actor.orgId);
      return toView(actor.orgId, name, sub);
    },

    setSubscription,

    /** An Admin's own plan change: only when the operator allows self-service, and never to Enterprise. */
    async choosePlan(actor: Actor, plan: string): Promise<SubscriptionView> {
      requirePermission(actor, 'subscription.change');
      if (!deps.selfServicePlans) {
        throw new AppError('forbidden', 'Plan changes are made by the Build a Doc team for this service; contact them to change your plan.');
      }
      if (plan === 'enterprise') {
        throw new AppError('forbidden', 'The Enterprise plan is set up with the Build a Doc team; contact them to move to it.');
      }
      return setSubscription(actor, { plan });
    },
  };
}
