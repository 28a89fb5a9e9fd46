import { Type } from 'typebox';
import { Nullable, WebhookDeliverySchema, WebhookEndpointSchema, WebhookWithSecretSchema } from '../api/views.js';
import { IdParam, LineText, PageQuery, Paged, page, problems } from '../http/schemas.js';
import { actorOf } from '../http/session-guard.js';
import type { App } from '../http/types.js';
import type { DeliveryWorker } from './delivery-worker.js';
import type { WebhookService } from './webhooks.service.js';

const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'https URL of the receiver (public address)' });
const EventTypes = Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 32, description: 'Event types to receive' });
const Description = LineText('optional', { maxLength: 500, description: 'What the endpoint is for; empty for none' });

/**
 * Webhook endpoints of the organisation (CONTRACT §11), Admins only. `deliveries` is woken when
 * Send test queued its delivery, so it goes at once rather than at the next poll.
 */
export function webhooksRoutes(app: App, webhooks: WebhookService, deliveries: Pick<DeliveryWorker, 'kick'>): void {
  const tags = ['Webhooks'];
  app.get(
    '/api/webhooks',
    {
      schema: {
        tags,
        summary: 'Webhook endpoints, newest first',
        querystring: Type.Object(PageQuery),
        response: { 200: Paged(WebhookEndpointSchema), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const paging = page(request.query);
      return { ...(await webhooks.list(actorOf(request), paging)), ...paging };
    },
  );

  app.post(
    '/api/webhooks',
    {
      schema: {
        tags,
        summary: 'Add a webhook endpoint (its signing secret is shown once)',
        body: Type.Object({ url: Url, eventTypes: EventTypes, description: Type.Optional(Description) }, { additionalProperties: false }),
        response: { 201: WebhookWithSecretSchema, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const created = await webhooks.create(actorOf(request), request.body);
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/webhooks/:id',
    { schema: { tags, summary: 'Get a webhook endpoint', params: IdParam, response: { 200: WebhookEndpointSchema, ...problems(401, 403, 404) } } },
    async (request) => webhooks.get(actorOf(request), request.params.id),
  );

  app.patch(
    '/api/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Change a webhook endpoint (URL, event types, description, on or off)',
        params: IdParam,
        body: Type.Object(
          {
            url: Type.Optional(Url),
            eventTypes: Type.Optional(EventTypes),
            description: Type.Optional(Nullable(Description)),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: WebhookEndpointSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => webhooks.update(actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/webhooks/:id',
    {
      schema: { tags, summary: 'Delete a webhook endpoint and its delivery log', params: IdParam, response: { 204: Type.Null(), ...problems(401, 403, 404) } },
    },
    async (request, reply) => {
      await webhooks.remove(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/webhooks/:id/rotate-secret',
    {
      schema: {
        tags,
        summary: 'Make a new signing secret (shown once; the previous one also signs for 24 hours)',
        params: IdParam,
        response: { 200: WebhookWithSecretSchema, ...problems(401, 403, 404) },
      },
    },
    async (request) => webhooks.rotateSecret(actorOf(request), request.params.id),
  );

  app.post(
    '/api/webhooks/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a webhook.test event to this endpoint',
        params: IdParam,
        response: { 202: WebhookDeliverySchema, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const queued = await webhooks.sendTest(actorOf(request), request.params.id);
      deliveries.kick();
      return reply.code(202).send(queued);
    },
  );

  app.get(
    '/api/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'Deliveries to this endpoint, newest first, with their attempts',
        params: IdParam,
        querystring: Type.Object(PageQuery),
        response: { 200: Paged(WebhookDeliverySchema), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => webhooks.deliveries(actorOf(request), request.params.id, page(request.query)),
  );
}
