import { activeAdmins, findUserInOrg } from '../auth/users.repository.js';
import type { DbOrTrx } from '../db/database.js';
import { remindersOff } from '../mail/preferences.repository.js';

/**
 * Who hears about a key: the person who created it (while active) and the organisation's active
 * Admins. For reminders, those who turned expiry reminders off are left out.
 */
export async function keyRecipients(db: DbOrTrx, orgId: string, ownerId: string | null, options: { reminder: boolean }): Promise<string[]> {
  const people = new Map((await activeAdmins(db, orgId)).map((admin) => [admin.id, admin.email]));
  if (ownerId) {
    const owner = await findUserInOrg(db, orgId, ownerId);
    if (owner && owner.status === 'active') people.set(owner.id, owner.email);
  }
  if (options.reminder) for (const id of await remindersOff(db, [...people.keys()])) people.delete(id);
  return [...people.values()];
}
