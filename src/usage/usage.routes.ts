import { Type } from 'typebox';
import { actorOf } from '../http/session-guard.js';
import { DaySchema, Nullable, PageQuery, Paged, page, problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { UsageService } from './usage.service.js';

const Day = DaySchema;
const KeyParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const FlowSchema = Type.Object({
  id: Type.String(),
  label: Nullable(Type.String()),
  workflowName: Nullable(Type.String()),
  workflowId: Nullable(Type.String()),
  lastRunId: Nullable(Type.String()),
  location: Nullable(Type.String()),
  clientEnvironmentId: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  firstSeenAt: Type.String(),
  lastSeenAt: Type.String(),
  calls: Type.Integer(),
  lastOutcome: Type.String(),
  callingDeadKey: Type.Boolean({ description: 'The flow still calls this key although it no longer works' }),
});

const Outcome = Type.Enum(['success', 'client_error', 'server_error', 'rejected']);

const Count = Type.Union([Type.Integer(), Type.Null()]);
const QuotaSchema = Type.Object({
  actionType: Type.Union([Type.Literal('document'), Type.Literal('utility')]),
  used: Type.Integer(),
  limit: Count,
  remaining: Count,
  percent: Type.Union([Type.Number(), Type.Null()]),
});

export function usageRoutes(app: App, usage: UsageService): void {
  const tags = ['API keys'];
  app.get(
    '/api/usage',
    {
      schema: {
        tags: ['Subscription'],
        summary: "This billing period's usage: quotas per action type, per operation and per day",
        response: {
          200: Type.Object({
            periodStart: Type.String(),
            periodEnd: Type.String(),
            quotas: Type.Array(QuotaSchema),
            operations: Type.Array(
              Type.Object({
                operation: Type.String(),
                actionType: Type.String(),
                success: Type.Integer(),
                clientError: Type.Integer(),
                serverError: Type.Integer(),
                rejected: Type.Integer(),
              }),
            ),
            daily: Type.Array(
              Type.Object({ day: Type.String(), document: Type.Integer(), utility: Type.Integer(), none: Type.Integer(), failed: Type.Integer() }),
            ),
          }),
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
          200: Type.Object({
            keyId: Type.String(),
            from: Type.String(),
            to: Type.String(),
            items: Type.Array(
              Type.Object({ day: Type.String(), operation: Type.String(), actionType: Type.String(), outcome: Outcome, count: Type.Integer() }),
            ),
            totals: Type.Object({ success: Type.Integer(), client_error: Type.Integer(), server_error: Type.Integer(), rejected: Type.Integer() }),
          }),
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (request) => usage.keyUsage(actorOf(request), request.params.id, request.query),
  );

  app.get(
    '/api/keys/:id/flows',
    {
      schema: {
        tags,
        summary: 'The flows and apps that call one key',
        params: KeyParam,
        querystring: Type.Object(PageQuery),
        response: { 200: Paged(FlowSchema), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const paging = page(request.query);
      return { ...(await usage.flows(actorOf(request), request.params.id, paging)), ...paging };
    },
  );

  app.patch(
    '/api/keys/:id/flows/:flowId',
    {
      schema: {
        tags,
        summary: 'Give a flow a friendly label',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), flowId: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: Type.Object({ label: Nullable(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const label = request.body.label?.trim() || null;
      await usage.labelFlow(actorOf(request), request.params.id, request.params.flowId, label);
      return reply.code(204).send(null);
    },
  );
}
