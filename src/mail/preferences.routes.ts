import { MailPreferencesSchema } from '../api/views.js';
import { problems } from '../http/schemas.js';
import { actorOf } from '../http/session-guard.js';
import type { App } from '../http/types.js';
import type { MailPreferencesService } from './preferences.service.js';

export function mailPreferencesRoutes(app: App, preferences: MailPreferencesService): void {
  const tags = ['Account'];
  app.get(
    '/api/me/mail-preferences',
    { schema: { tags, summary: 'The mail you receive', response: { 200: MailPreferencesSchema, ...problems(401) } } },
    async (request) => preferences.get(actorOf(request)),
  );
  app.put(
    '/api/me/mail-preferences',
    {
      schema: {
        tags,
        summary: 'Choose the mail you receive (expiry reminders on or off)',
        body: MailPreferencesSchema,
        response: { 200: MailPreferencesSchema, ...problems(400, 401) },
      },
    },
    async (request) => preferences.set(actorOf(request), request.body),
  );
}
