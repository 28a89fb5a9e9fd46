import { Type } from 'typebox';
import { FlowSchema, KeyFlowSchema, Nullable, RotationSchema } from '../api/views.js';
import { IdParam, LineText, PageQuery, Paged, page, problems } from '../http/schemas.js';
import { actorOf } from '../http/session-guard.js';
import type { App } from '../http/types.js';
import type { FlowsService } from './flows.service.js';
import type { RotationService } from './rotation.service.js';

export function flowsRoutes(app: App, deps: { flows: FlowsService; rotation: RotationService }): void {
  const { flows, rotation } = deps;
  const tags = ['Flows'];

  app.get(
    '/api/flows',
    {
      schema: {
        tags,
        summary: "The organisation's flows, across every key they used",
        querystring: Type.Object({
          ...PageQuery,
          keyId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only flows that called this key' })),
          environment: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only flows of this Power Platform environment' })),
          onRevokedOrExpiring: Type.Optional(
            Type.Boolean({ description: 'Only flows whose latest call went through a revoked or expired key, or one expiring within 14 days' }),
          ),
        }),
        response: { 200: Paged(FlowSchema), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { limit, offset, keyId, environment, onRevokedOrExpiring } = request.query;
      const paging = page({ limit, offset });
      const result = await flows.list(actorOf(request), { keyId, environmentId: environment, onRevokedOrExpiring }, paging);
      return { ...result, ...paging };
    },
  );

  app.get(
    '/api/flows/:id',
    { schema: { tags, summary: 'One flow and the keys it used', params: IdParam, response: { 200: FlowSchema, ...problems(401, 403, 404) } } },
    async (request) => flows.get(actorOf(request), request.params.id),
  );

  app.patch(
    '/api/flows/:id',
    {
      schema: {
        tags,
        summary: 'Give a flow a friendly label (it stays across key rotations)',
        params: IdParam,
        body: Type.Object(
          { label: Nullable(LineText('optional', { maxLength: 100, description: 'A friendly name for the flow; empty or null for none' })) },
          { additionalProperties: false },
        ),
        response: { 200: FlowSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => flows.label(actorOf(request), request.params.id, request.body.label?.trim() || null),
  );

  app.get(
    '/api/keys/:id/flows',
    {
      schema: {
        tags: ['API keys'],
        summary: 'The flows that call one key',
        params: IdParam,
        querystring: Type.Object(PageQuery),
        response: { 200: Paged(KeyFlowSchema), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const paging = page(request.query);
      return { ...(await flows.ofKey(actorOf(request), request.params.id, paging)), ...paging };
    },
  );

  app.get(
    '/api/keys/:id/rotation',
    {
      schema: {
        tags: ['API keys'],
        summary: 'The rotation this key takes part in (old or new key): which flows moved, and whether the old key can go',
        params: IdParam,
        response: { 200: RotationSchema, ...problems(401, 403, 404) },
      },
    },
    async (request) => rotation.status(actorOf(request), request.params.id),
  );

  app.patch(
    '/api/keys/:id/rotation',
    {
      schema: {
        tags: ['API keys'],
        summary: 'Let the old key of a rotation revoke itself once its flows have moved, or not',
        params: IdParam,
        body: Type.Object({ revokeWhenDrained: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: RotationSchema, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => rotation.setRevokeWhenDrained(actorOf(request), request.params.id, request.body.revokeWhenDrained),
  );
}
