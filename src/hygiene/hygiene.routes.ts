import { HygieneSchema } from '../api/views.js';
import { problems } from '../http/schemas.js';
import { actorOf } from '../http/session-guard.js';
import type { App } from '../http/types.js';
import type { HygieneService } from './hygiene.service.js';

export function hygieneRoutes(app: App, hygiene: HygieneService): void {
  app.get(
    '/api/hygiene',
    {
      schema: {
        tags: ['API keys'],
        summary: "The organisation's keys that need attention: never used, idle, expiring, old, owned by someone deactivated, revoked but still called",
        response: { 200: HygieneSchema, ...problems(401, 403) },
      },
    },
    async (request) => hygiene.findings(actorOf(request)),
  );
}
