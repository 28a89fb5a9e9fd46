import { OrganisationSettingsSchema } from '../api/views.js';
import { problems } from '../http/schemas.js';
import { actorOf } from '../http/session-guard.js';
import type { App } from '../http/types.js';
import type { OrgsService } from './orgs.service.js';

export function organisationSettingsRoutes(app: App, orgs: OrgsService): void {
  const tags = ['Organisation'];
  app.get(
    '/api/organisation/settings',
    {
      schema: {
        tags,
        summary: "The organisation's settings (Admins): what a leak report does to a live key",
        response: { 200: OrganisationSettingsSchema, ...problems(401, 403) },
      },
    },
    async (request) => orgs.settings(actorOf(request)),
  );
  app.put(
    '/api/organisation/settings',
    {
      schema: {
        tags,
        summary: 'Change the organisation\'s settings (Admins): leakResponse "revoke" (default) or "notify"',
        body: OrganisationSettingsSchema,
        response: { 200: OrganisationSettingsSchema, ...problems(400, 401, 403) },
      },
    },
    async (request) => orgs.updateSettings(actorOf(request), request.body),
  );
}
