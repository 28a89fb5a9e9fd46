import type { MailPreferencesView } from '../api/views.js';
import type { Actor } from '../domain/actor.js';
import type { Db } from '../db/database.js';
import { AppError } from '../errors/catalogue.js';
import type { Clock } from '../lib/clock.js';
import { preferencesOf, savePreferences } from './preferences.repository.js';

export type MailPreferencesService = ReturnType<typeof createMailPreferencesService>;

/** Each person chooses for themselves; nobody else reads or changes it. */
export function createMailPreferencesService(deps: { db: Db; clock: Clock }) {
  const personOf = (actor: Actor): string => {
    if (!actor.userId) throw new AppError('forbidden', 'Mail preferences belong to a person; the operator has none.');
    return actor.userId;
  };
  return {
    get: (actor: Actor): Promise<MailPreferencesView> => preferencesOf(deps.db, personOf(actor)),
    async set(actor: Actor, preferences: MailPreferencesView): Promise<MailPreferencesView> {
      await savePreferences(deps.db, personOf(actor), preferences, deps.clock.now().toISOString());
      return preferencesOf(deps.db, personOf(actor));
    },
  };
}
