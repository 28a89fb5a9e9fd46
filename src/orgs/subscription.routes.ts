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
});

export function subscriptionRoutes(app: App, orgs: OrgsService): void {
  app.get('/api/subscription', {
    schema: { tags: ['Subscription'], summary: "The organisation's plan, status and limits", response: { 200: SubscriptionSchema, ...problems(401, 403) } },
  }, async (request) => orgs.subscription(actorOf(request)));
}
