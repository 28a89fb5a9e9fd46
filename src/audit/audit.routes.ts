import { Type } from 'typebox';
import { actorOf } from '../http/session-guard.js';
import { AuditEntrySchema } from '../api/views.js';
import { DayOrTimeSchema, PageQuery, Paged, page, problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { AuditService } from './audit.service.js';

const DateOrTime = DayOrTimeSchema;
const FilterQuery = {
  from: Type.Optional(DateOrTime),
  to: Type.Optional(DateOrTime),
  userId: Type.Optional(Type.String({ maxLength: 64 })),
  eventType: Type.Optional(Type.String({ maxLength: 64 })),
  resourceId: Type.Optional(Type.String({ maxLength: 64 })),
};

export function auditRoutes(app: App, audit: AuditService): void {
  const tags = ['Audit log'];

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
      const result = await audit.view(actorOf(request), query, paging);
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
      const csv = await audit.exportCsv(actorOf(request), request.query);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-log-${new Date().toISOString().slice(0, 10)}.csv"`)
        .send(csv);
    },
  );
}
