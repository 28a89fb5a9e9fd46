import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../errors/catalogue.js';
import { problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { WebhookService } from '../webhooks/webhooks.service.js';
import { CONNECTOR_TRIGGERS, DELETE_TRIGGER_OPERATION, TRIGGER_SUBSCRIPTION_PATH, TriggerSubscriptionSchema } from './triggers.js';

/** The gateway's plan checks for one route (CONTRACT §4 checks 9–10, unbilled), as an onRequest hook. */
type PlanChecked = (operationId: string) => (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void;

/**
 * The subscriptions behind the connector's triggers, registered inside `/v1` so the caller's
 * API key is checked first. Subscribing also passes the plan's checks (its request rate, with
 * the RateLimit headers), unbilled. A subscription belongs to the key's organisation and stops
 * when that key is revoked or deleted (after the revocation itself is sent).
 */
export function triggerRoutes(gateway: App, deps: { webhooks: WebhookService; publicUrl: string; planChecked: PlanChecked }): void {
  const keyOf = (request: { gatewayKey?: { id: string; orgId: string } }) => {
    const key = request.gatewayKey;
    if (!key) throw new AppError('api_key_missing', 'Send the API key of your organisation in the x-api-key header.');
    return key;
  };
  for (const trigger of CONNECTOR_TRIGGERS) {
    gateway.post(
      trigger.path,
      {
        schema: {
          tags: ['Connector'],
          operationId: trigger.operationId,
          summary: trigger.summary,
          description: trigger.description,
          body: Type.Object({ callbackUrl: Type.String({ minLength: 1, maxLength: 2000 }) }),
          response: { 201: TriggerSubscriptionSchema, ...problems(400, 401, 403, 429, 500, 503) },
        },
        onRequest: deps.planChecked(trigger.operationId),
      },
      async (request, reply) => {
        const id = await deps.webhooks.subscribeTrigger(keyOf(request), trigger.eventTypes, request.body.callbackUrl);
        return reply.code(201).header('location', `${deps.publicUrl}/v1${TRIGGER_SUBSCRIPTION_PATH}/${id}`).send({ id });
      },
    );
  }
  gateway.delete(
    `${TRIGGER_SUBSCRIPTION_PATH}/:subscriptionId`,
    {
      schema: {
        tags: ['Connector'],
        operationId: DELETE_TRIGGER_OPERATION,
        summary: 'Delete a trigger subscription',
        params: Type.Object({ subscriptionId: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: TriggerSubscriptionSchema, ...problems(401, 404, 500, 503) },
      },
    },
    async (request) => {
      await deps.webhooks.unsubscribeTrigger(keyOf(request), request.params.subscriptionId);
      return { id: request.params.subscriptionId };
    },
  );
}
