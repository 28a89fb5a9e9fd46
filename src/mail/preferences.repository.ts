import type { DbOrTrx } from '../db/database.js';

/** The only module that reads or writes `mail_preferences`. Without a row a person gets every mail. */
export interface MailPreferences {
  expiryReminders: boolean;
}

export const DEFAULT_PREFERENCES: MailPreferences = { expiryReminders: true };

export async function preferencesOf(db: DbOrTrx, userId: string): Promise<MailPreferences> {
  const row = await db.selectFrom('mailPreferences').select('expiryReminders').where('userId', '=', userId).executeTakeFirst();
  return row ? { expiryReminders: Number(row.expiryReminders) === 1 } : { ...DEFAULT_PREFERENCES };
}

export async function savePreferences(db: DbOrTrx, userId: string, preferences: MailPreferences, now: string): Promise<void> {
  const expiryReminders = preferences.expiryReminders ? 1 : 0;
  await db
    .insertInto('mailPreferences')
    .values({ userId, expiryReminders, updatedAt: now })
    .onConflict((oc) => oc.column('userId').doUpdateSet({ expiryReminders, updatedAt: now }))
    .execute();
}

/** Of these people, those who turned expiry reminders off. */
export async function remindersOff(db: DbOrTrx, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db.selectFrom('mailPreferences').select('userId').where('userId', 'in', userIds).where('expiryReminders', '=', 0).execute();
  return new Set(rows.map((row) => row.userId));
}
