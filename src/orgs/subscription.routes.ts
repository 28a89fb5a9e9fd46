import { Type } from 'typebox';
import { actorOf } from '../http/session-guard.js';
import { Nullable, problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { OrgsService } from './orgs.service.js';

const Limit = Nullable(Type.Integer());
export const SubscriptionSchema = Type.Object({
  organisation: Type.Object({ id: Type.String(), name: Type.String() }),
  plan: Type.String(),
  planName: Type.String(),
  status: Type.String(),
  periodStart: Type.String(),
  periodEnd: Nullable(Type.String()),
  limits: Type.Object({ documentActionsPerMonth: Limit, utilityActionsPerMonth: Limit, requestsPerMinute: Limit, maxKeys: Limit }),
  overrides: Type.Record(Type.String(), Type.Unknown()),
  features: Type.Array(Type.String()),
  /** Whether Admins may change the plan themselves. */
  selfService: Type.Optional(Type.Boolean()),
});

export function subscriptionRoutes(app: App, orgs: OrgsService): void {
  const tags = ['Subscription'];
  app.get(
    '/api/subscription',
    {
      schema: { tags, summary: "The organisation's plan, status and limits", response: { 200: SubscriptionSchema, ...problems(401, 403) } },
    },
    async (request) => ({ ...(await orgs.subscription(actorOf(request))), selfService: orgs.selfServicePlans }),
  );

  app.put(
    '/api/subscription',
    {
      schema: {
        tags,
        summary: 'Change the plan (Admins, when the operator allows self-service)',
        body: Type.Object({ plan: Type.String({ minLength: 1, maxLength: 40 }) }, { additionalProperties: false }),
        response: { 200: SubscriptionSchema, ...problems(400, 401, 403) },
      },
    },
    async (request) => ({ ...(await orgs.choosePlan(actorOf(request), request.body.plan)), selfService: true }),
  );
}
