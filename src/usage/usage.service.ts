import type { DailyUsageView, FlowPeriodUsageView, KeyPeriodUsageView, OperationUsageView, OrgUsageView, QuotaView } from '../api/views.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../domain/actor.js';
import { requirePermission } from '../domain/permissions.js';
import type { Db } from '../db/database.js';
import { notFound } from '../errors/catalogue.js';
import { DAY, utcDay, type Clock } from '../lib/clock.js';
import { findKeyRow } from '../keys/keys.repository.js';
import { displayStatus } from '../keys/key-view.js';
import { flowsSeenBetween } from '../flows/flows.repository.js';
import type { ActionType, Outcome } from './usage-buffer.js';
import { loadSubscription } from '../orgs/orgs.service.js';
import { monthlyLimit, type PlanCatalogue, type QuotaActionType } from '../plans/catalogue.js';
import { keyUsage, organisationUsage, usageByKey } from './usage.repository.js';
import { currentPeriod } from '../plans/period.js';
import { toCsv } from '../lib/csv.js';

export interface UsageRowView {
  day: string;
  operation: string;
  actionType: ActionType;
  outcome: Outcome;
  count: number;
}

export type UsageService = ReturnType<typeof createUsageService>;

/** How many keys and flows the usage lists: the busiest ones. */
const TOP = 20;

export function createUsageService(deps: { db: Db; clock: Clock; audit: AuditService; plans: PlanCatalogue }) {
  const { db, clock } = deps;

  async function keyOf(actor: Actor, keyId: string) {
    requirePermission(actor, 'keys.view');
    const key = await findKeyRow(db, actor.orgId, keyId);
    if (!key) throw notFound('The API key');
    return key;
  }

  /** Every usage row of the organisation between two days (`to` exclusive), all keys summed. */
  async function periodRows(orgId: string, from: string, to: string) {
    return organisationUsage(db, orgId, from, to);
  }

  /** What both views of this period's usage start from: the check, the subscription, its period and rows. */
  async function currentPeriodUsage(actor: Actor) {
    requirePermission(actor, 'subscription.view');
    const { sub } = await loadSubscription(db, actor.orgId);
    const period = currentPeriod(sub, clock.now());
    const days = { from: period.start.slice(0, 10), to: period.end.slice(0, 10) };
    const rows = await periodRows(actor.orgId, days.from, days.to);
    return { sub, period, days, rows };
  }

  /** The busiest keys of the period (by the same days as the rest of the usage) and the flows seen in it. */
  async function byKeyAndFlow(orgId: string, period: { start: string; end: string }, days: { from: string; to: string }) {
    const now = clock.now();
    const [keys, flows] = await Promise.all([usageByKey(db, orgId, days.from, days.to, TOP), flowsSeenBetween(db, orgId, period.start, period.end, TOP)]);
    return {
      byKey: keys.map(
        (k): KeyPeriodUsageView => ({
          keyId: k.keyId,
          name: k.name,
          last4: k.last4,
          status: displayStatus(k, now),
          deleted: k.deletedAt !== null,
          calls: k.calls,
          refused: k.refused,
        }),
      ),
      byFlow: flows.map((f): FlowPeriodUsageView => ({ flowId: f.id, label: f.label, name: f.workflowName, calls: Number(f.calls), lastSeenAt: f.lastSeenAt })),
    };
  }

  return {
    /** This billing period's successful actions per action type, against the plan's limits. */
    async orgUsage(actor: Actor): Promise<OrgUsageView> {
      const { sub, period, days, rows } = await currentPeriodUsage(actor);
      const plan = deps.plans.ofSubscription(sub);
      const used = { document: 0, utility: 0, none: 0 };
      const operations = new Map<string, OperationUsageView>();
      const daily = new Map<string, DailyUsageView>();
      const OUTCOME_FIELD = { success: 'success', client_error: 'clientError', server_error: 'serverError', rejected: 'rejected' } as const;
      for (const row of rows) {
        const count = Number(row.count);
        if (row.outcome === 'success') used[row.actionType] += count;
        const op = operations.get(row.operation) ?? {
          operation: row.operation,
          actionType: row.actionType,
          success: 0,
          clientError: 0,
          serverError: 0,
          rejected: 0,
        };
        op[OUTCOME_FIELD[row.outcome]] += count;
        operations.set(row.operation, op);
        const day = daily.get(row.day) ?? { day: row.day, document: 0, utility: 0, none: 0, failed: 0 };
        if (row.outcome === 'success') day[row.actionType] += count;
        else day.failed += count;
        daily.set(row.day, day);
      }
      const quota = (actionType: QuotaActionType): QuotaView => {
        const limit = monthlyLimit(plan, actionType);
        return {
          actionType,
          used: used[actionType],
          limit,
          remaining: limit === null ? null : Math.max(0, limit - used[actionType]),
          percent: limit === null ? null : limit === 0 ? 100 : Math.round((used[actionType] / limit) * 1000) / 10,
        };
      };
      return {
        periodStart: period.start,
        periodEnd: period.end,
        quotas: [quota('document'), quota('utility')],
        operations: [...operations.values()].sort((a, b) => a.operation.localeCompare(b.operation)),
        daily: [...daily.values()].sort((a, b) => a.day.localeCompare(b.day)),
        ...(await byKeyAndFlow(actor.orgId, period, days)),
      };
    },

    periodRows,

    /** This period's usage as CSV rows: day, operation, action type, outcome, count. */
    async orgUsageCsv(actor: Actor): Promise<string> {
      const { rows } = await currentPeriodUsage(actor);
      return toCsv(
        ['day', 'operation', 'actionType', 'outcome', 'count'],
        rows.map((r) => [r.day, r.operation, r.actionType, r.outcome, Number(r.count)]),
      );
    },

    /** Daily counts of one key between two days (inclusive), 30 days by default. */
    async keyUsage(actor: Actor, keyId: string, range: { from?: string; to?: string }) {
      await keyOf(actor, keyId);
      const to = range.to ?? utcDay(clock.now());
      const from = range.from ?? utcDay(new Date(Date.parse(`${to}T00:00:00Z`) - 29 * DAY));
      const rows = await keyUsage(db, actor.orgId, keyId, from, to);
      const totals = { success: 0, client_error: 0, server_error: 0, rejected: 0 } satisfies Record<Outcome, number>;
      for (const row of rows) totals[row.outcome] += Number(row.count);
      return { keyId, from, to, items: rows.map((r) => ({ ...r, count: Number(r.count) })), totals };
    },
  };
}
