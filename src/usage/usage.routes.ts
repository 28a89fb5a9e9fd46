import { Type } from 'typebox';
import { actorOf } from '../http/session-guard.js';
import { KeyUsageSchema, OrgUsageSchema } from '../api/views.js';
import { DaySchema, problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { UsageService } from './usage.service.js';

const Day = DaySchema;
const KeyParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function usageRoutes(app: App, usage: UsageService): void {
  const tags = ['API keys'];
  app.get(
    '/api/usage',
    {
      schema: {
        tags: ['Subscription'],
        summary: "This billing period's usage: quotas per action type, per operation and per day",
        response: {
          200: OrgUsageSchema,
          ...problems(401, 403),
        },
      },
    },
    async (request) => usage.orgUsage(actorOf(request)),
  );

  app.get(
    '/api/usage/export.csv',
    {
      schema: {
        tags: ['Subscription'],
        summary: "This billing period's usage as CSV",
        produces: ['text/csv'],
        response: { 200: Type.String(), ...problems(401, 403) },
      },
    },
    async (request, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="usage-${new Date().toISOString().slice(0, 10)}.csv"`)
        .send(await usage.orgUsageCsv(actorOf(request))),
  );

  app.get(
    '/api/keys/:id/usage',
    {
      schema: {
        tags,
        summary: 'Requests of one key per day, operation and outcome',
        params: KeyParam,
        querystring: Type.Object({ from: Type.Optional(Day), to: Type.Optional(Day) }),
        response: {
          200: KeyUsageSchema,
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (request) => usage.keyUsage(actorOf(request), request.params.id, request.query),
  );
}
