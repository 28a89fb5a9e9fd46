/**
 * The only module that reads or writes the `invitations` table. An invitation is pending while
 * it is neither accepted, revoked nor expired.
 */
import type { ExpressionBuilder } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { Database, InvitationTable, Role } from '../db/schema.js';

export type InvitationRow = InvitationTable;

export interface PendingInvitation extends InvitationRow {
  inviterName: string | null;
}

/** The one definition of pending: neither accepted nor revoked, and not expired at `now`. */
const pendingAt = (now: string) => (eb: ExpressionBuilder<Database, 'invitations'>) =>
  eb.and([eb('invitations.acceptedAt', 'is', null), eb('invitations.revokedAt', 'is', null), eb('invitations.expiresAt', '>', now)]);

export const invitationsRepository = {
  async insert(db: DbOrTrx, row: InvitationRow): Promise<void> {
    await db.insertInto('invitations').values(row).execute();
  },

  /** The invitation whose link (the one answered to the Admin, or the one mailed) has this token hash. */
  byTokenHash(db: DbOrTrx, tokenHash: string): Promise<InvitationRow | undefined> {
    return db
      .selectFrom('invitations')
      .selectAll()
      .where((eb) => eb.or([eb('tokenHash', '=', tokenHash), eb('mailTokenHash', '=', tokenHash)]))
      .executeTakeFirst();
  },

  /** One invitation by id, in any organisation (the mail sender knows only the id). */
  byId(db: DbOrTrx, id: string): Promise<InvitationRow | undefined> {
    return db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** Sets the hash of the token the invitation mail carries (a later mail replaces an earlier one's). */
  async setMailTokenHash(db: DbOrTrx, id: string, hash: string): Promise<void> {
    await db.updateTable('invitations').set({ mailTokenHash: hash }).where('id', '=', id).execute();
  },

  /** One invitation of an organisation (another organisation's id finds nothing). */
  inOrg(db: DbOrTrx, orgId: string, id: string): Promise<InvitationRow | undefined> {
    return db.selectFrom('invitations').selectAll().where('orgId', '=', orgId).where('id', '=', id).executeTakeFirst();
  },

  /** Pending invitations of an organisation, newest first, with the inviter's name. */
  async pending(db: DbOrTrx, orgId: string, now: string, page: { limit: number; offset: number }): Promise<{ items: PendingInvitation[]; total: number }> {
    const base = db.selectFrom('invitations').where('invitations.orgId', '=', orgId).where(pendingAt(now));
    const [items, count] = await Promise.all([
      base
        .leftJoin('users', 'users.id', 'invitations.createdBy')
        .selectAll('invitations')
        .select('users.name as inviterName')
        .orderBy('invitations.createdAt', 'desc')
        .orderBy('invitations.id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  },

  /** Claims an invitation for acceptance; false when someone else claimed it first. */
  async claim(db: DbOrTrx, id: string, now: string): Promise<boolean> {
    const result = await db
      .updateTable('invitations')
      .set({ acceptedAt: now })
      .where('id', '=', id)
      .where('acceptedAt', 'is', null)
      .where('revokedAt', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async setAcceptedBy(db: DbOrTrx, id: string, userId: string): Promise<void> {
    await db.updateTable('invitations').set({ acceptedBy: userId }).where('id', '=', id).execute();
  },

  async revoke(db: DbOrTrx, id: string, now: string, reason: string): Promise<void> {
    await db.updateTable('invitations').set({ revokedAt: now, revokedReason: reason }).where('id', '=', id).where('revokedAt', 'is', null).execute();
  },

  /** The organisation's pending invitation (not accepted, withdrawn or expired) for an address, if any. */
  pendingFor(db: DbOrTrx, orgId: string, email: string, now: string): Promise<InvitationRow | undefined> {
    return db.selectFrom('invitations').selectAll().where('orgId', '=', orgId).where('email', '=', email).where(pendingAt(now)).executeTakeFirst();
  },

  /** Closes every other pending invitation for an address (in any organisation), since it now has an account. */
  async closePendingFor(db: DbOrTrx, email: string, now: string, reason: string): Promise<void> {
    await db
      .updateTable('invitations')
      .set({ revokedAt: now, revokedReason: reason })
      .where('email', '=', email)
      .where('acceptedAt', 'is', null)
      .where('revokedAt', 'is', null)
      .execute();
  },

  /** Revokes every pending invitation a person sent; returns their ids. */
  async revokeSentBy(db: DbOrTrx, orgId: string, userId: string, now: string, reason: string): Promise<string[]> {
    const rows = await db.selectFrom('invitations').select('id').where('orgId', '=', orgId).where('createdBy', '=', userId).where(pendingAt(now)).execute();
    if (rows.length > 0) {
      await db
        .updateTable('invitations')
        .set({ revokedAt: now, revokedReason: reason })
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
    }
    return rows.map((r) => r.id);
  },
};

export type { Role };
