import { Type } from 'typebox';
import { actorOf } from '../http/session-guard.js';
import { EnvironmentSchema, IssuedKeySchema, KeySchema, Nullable } from '../api/views.js';
import { IdParam, LineText, PageQuery, Paged, page, problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import { validationFailed } from '../errors/catalogue.js';
import { cleanKeyName } from './key-names.js';
import type { KeyService } from './keys.service.js';

const Environment = EnvironmentSchema;
const Name = LineText('required', { minLength: 1, maxLength: 200, description: '1–100 characters after trimming, no control characters' });
const Team = LineText('optional', { maxLength: 100, description: 'The team that uses the key; empty for none' });

const Issued = IssuedKeySchema;
const ExpiresInDays = Type.Unsafe<30 | 60 | 90 | 365 | null>({ enum: [30, 60, 90, 365, null], description: '30, 60, 90 or 365 days from now; null: never' });

const KeyWithWarnings = Type.Object({ key: KeySchema, warnings: Type.Array(Type.String()) });

function name(raw: string, path = '/name'): string {
  const result = cleanKeyName(raw);
  if (!result.ok) throw validationFailed([{ path, message: result.message }], `The key name is not valid: ${result.message}`);
  return result.name;
}

function team(raw: string | null | undefined): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  return raw.trim() === '' ? null : raw.trim();
}

export function keysRoutes(app: App, keys: KeyService): void {
  const tags = ['API keys'];
  app.get(
    '/api/keys',
    {
      schema: {
        tags,
        summary: 'List API keys',
        querystring: Type.Object({
          ...PageQuery,
          q: Type.Optional(Type.String({ maxLength: 100, description: 'Search in name, team, start and last 4 characters' })),
          status: Type.Optional(Type.Enum(['active', 'suspended', 'revoked', 'expired', 'expiring'])),
          environment: Type.Optional(Environment),
          ownerId: Type.Optional(Type.String()),
          hash: Type.Optional(
            Type.String({
              pattern: '^[0-9a-fA-F]{64}$',
              description: 'Hex SHA-256 of a whole key (computed by the browser): finds that key, and the key itself is never sent',
            }),
          ),
          last4: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z]{4}$', description: "The key's last four characters, exactly" })),
          revoked: Type.Optional(
            Type.Enum(['hide', 'show', 'only'], { description: 'Revoked keys (and rotated keys past their grace period): show (default), hide, or only them' }),
          ),
          sort: Type.Optional(Type.Enum(['createdAt', 'name', 'lastUsedAt', 'expiresAt'])),
          order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
        }),
        response: { 200: Paged(KeySchema), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      const paging = page({ limit, offset });
      const result = await keys.list(actorOf(request), filter, paging);
      return { ...result, ...paging };
    },
  );

  app.post(
    '/api/keys',
    {
      schema: {
        tags,
        summary: 'Create an API key (the key is shown once)',
        body: Type.Object(
          {
            name: Name,
            expiresInDays: Type.Optional(ExpiresInDays),
            environment: Type.Optional(Nullable(Environment)),
            team: Type.Optional(Nullable(Team)),
          },
          { additionalProperties: false },
        ),
        response: { 201: Issued, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const issued = await keys.create(actorOf(request), {
        name: name(body.name),
        expiresInDays: body.expiresInDays ?? null,
        environment: body.environment ?? null,
        team: team(body.team) ?? null,
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(issued);
    },
  );

  app.get(
    '/api/keys/:id',
    {
      schema: { tags, summary: 'Get an API key', params: IdParam, response: { 200: KeySchema, ...problems(401, 403, 404) } },
    },
    async (request) => keys.get(actorOf(request), request.params.id),
  );

  app.patch(
    '/api/keys/:id',
    {
      schema: {
        tags,
        summary: 'Rename an API key or change its environment or team',
        params: IdParam,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            environment: Type.Optional(Nullable(Environment)),
            team: Type.Optional(Nullable(Team)),
            expiresInDays: Type.Optional(ExpiresInDays),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: KeyWithWarnings, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const body = request.body;
      return keys.update(actorOf(request), request.params.id, {
        ...(body.name !== undefined ? { name: name(body.name) } : {}),
        ...(body.environment !== undefined ? { environment: body.environment } : {}),
        ...(body.team !== undefined ? { team: team(body.team) ?? null } : {}),
        ...(body.expiresInDays !== undefined ? { expiresInDays: body.expiresInDays } : {}),
      });
    },
  );

  for (const [verb, summary] of [
    ['suspend', 'Suspend an API key (reversible)'],
    ['resume', 'Resume a suspended API key'],
    ['revoke', 'Revoke an API key (immediate and final)'],
  ] as const) {
    app.post(
      `/api/keys/:id/${verb}`,
      {
        schema: { tags, summary, params: IdParam, response: { 200: KeySchema, ...problems(401, 403, 404, 409) } },
      },
      async (request) => keys[verb](actorOf(request), request.params.id),
    );
  }

  app.delete(
    '/api/keys/:id',
    {
      schema: { tags, summary: 'Delete an API key (revokes it first; final)', params: IdParam, response: { 204: Type.Null(), ...problems(401, 403, 404) } },
    },
    async (request, reply) => {
      await keys.delete(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/keys/bulk',
    {
      schema: {
        tags,
        summary: 'Revoke or suspend several API keys at once (all or nothing)',
        body: Type.Object(
          {
            action: Type.Union([Type.Literal('revoke'), Type.Literal('suspend')]),
            keyIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 200 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(KeySchema) }), ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => ({ items: await keys.bulk(actorOf(request), request.body.action, request.body.keyIds) }),
  );

  app.post(
    '/api/keys/:id/rotate',
    {
      schema: {
        tags,
        summary: 'Rotate an API key: issue a successor shown once',
        description:
          'Without graceHours the old key stays active until you revoke it; with graceHours it stops working when the grace period ends. With revokeWhenDrained the old key is revoked as soon as every flow has moved to the new key and it had no call for 15 minutes (or when the grace period ends).',
        params: IdParam,
        body: Type.Optional(
          Type.Object(
            { graceHours: Type.Optional(Type.Integer({ minimum: 0, maximum: 720 })), revokeWhenDrained: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
        ),
        response: { 201: Issued, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const issued = await keys.rotate(actorOf(request), request.params.id, {
        graceHours: request.body?.graceHours,
        revokeWhenDrained: request.body?.revokeWhenDrained,
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(issued);
    },
  );
}
