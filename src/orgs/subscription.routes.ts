import { Type } from 'typebox';
import { actorOf } from '../http/session-guard.js';
import { SubscriptionSchema } from '../api/views.js';
import { problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { OrgsService } from './orgs.service.js';

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
