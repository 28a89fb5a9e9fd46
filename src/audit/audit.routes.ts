import { Type } from 'typebox';
import { requirePermission } from '../domain/permissions.js';
import { actorOf } from '../http/session-guard.js';
import { DayOrTimeSchema, Nullable, PageQuery, Paged, page, problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { FastifyRequest } from 'fastify';
import { auditToCsv, type AuditFilter, type AuditService } from './audit.service.js';
import type { Db } from '../db/database.js';

const AuditEntrySchema = Type.Object({
  id: Type.String(),
  timestamp: Type.String(),
  eventType: Type.String(),
  userId: Nullable(Type.String()),
  userEmail: Nullable(Type.String()),
  resourceType: Type.String(),
  resourceId: Nullable(Type.String()),
  action: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  ip: Nullable(Type.String()),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')]),
});

const DateOrTime = DayOrTimeSchema;
const FilterQuery = {
  from: Type.Optional(DateOrTime),
  to: Type.Optional(DateOrTime),
  userId: Type.Optional(Type.String({ maxLength: 64 })),
  eventType: Type.Optional(Type.String({ maxLength: 64 })),
  resourceId: Type.Optional(Type.String({ maxLength: 64 })),
};

/** `to` as a bare day includes that whole day. */
function toFilter(query: Omit<AuditFilter, never>): AuditFilter {
  const to = query.to && query.to.length === 10 ? new Date(Date.parse(`${query.to}T00:00:00Z`) + 86_400_000).toISOString() : query.to;
  const from = query.from && query.from.length === 10 ? `${query.from}T00:00:00.000Z` : query.from;
  return { ...query, from, to };
}

const CSV_EXPORT_LIMIT = 100_000;

export function auditRoutes(app: App, deps: { audit: AuditService; db: Db }): void {
  const tags = ['Audit log'];

  /** Admins see everyone's actions; Members only their own; Viewers none. */
  function scopedFilter(request: FastifyRequest, query: AuditFilter): AuditFilter {
    const actor = actorOf(request);
    requirePermission(actor, 'audit.view');
    const filter = toFilter(query);
    return actor.role === 'admin' || actor.role === 'operator' ? filter : { ...filter, userId: actor.userId ?? '' };
  }

  app.get(
    '/api/audit',
    {
      schema: {
        tags,
        summary: 'The audit log, newest first',
        querystring: Type.Object({ ...PageQuery, ...FilterQuery }),
        response: { 200: Paged(AuditEntrySchema), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, offset, ...query } = request.query;
      const paging = page({ limit, offset });
      const result = await deps.audit.list(deps.db, actorOf(request).orgId, scopedFilter(request, query), paging);
      return { ...result, ...paging };
    },
  );

  app.get(
    '/api/audit/export.csv',
    {
      schema: {
        tags,
        summary: 'The audit log as CSV (same filters)',
        querystring: Type.Object(FilterQuery),
        produces: ['text/csv'],
        response: { 200: Type.String(), ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const filter = scopedFilter(request, request.query);
      const { items } = await deps.audit.list(deps.db, actorOf(request).orgId, filter, { limit: CSV_EXPORT_LIMIT, offset: 0 });
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-log-${new Date().toISOString().slice(0, 10)}.csv"`)
        .send(auditToCsv(items));
    },
  );
}
