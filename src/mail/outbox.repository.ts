import type { DbOrTrx } from '../db/database.js';
import type { MailOutboxTable } from '../db/schema.js';
import type { Insertable, Selectable } from 'kysely';

/** The only module that reads or writes `mail_outbox`. */
export type OutboxRow = Selectable<MailOutboxTable>;
export type NewOutboxRow = Insertable<MailOutboxTable>;

/** Queues mails; one already queued for the same cause and recipient (another node, a second delivery of an event) is kept as it is. */
export async function enqueueMails(db: DbOrTrx, rows: readonly NewOutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('mailOutbox')
    .values([...rows])
    .onConflict((oc) => oc.column('dedupeKey').doNothing())
    .execute();
}

/** Mails due now, oldest first, not held by another sender. */
export function dueMails(db: DbOrTrx, now: string, limit: number): Promise<OutboxRow[]> {
  return db
    .selectFrom('mailOutbox')
    .selectAll()
    .where('sentAt', 'is', null)
    .where('failedAt', 'is', null)
    .where('nextAttemptAt', '<=', now)
    .where((eb) => eb.or([eb('lockedUntil', 'is', null), eb('lockedUntil', '<=', now)]))
    .orderBy('nextAttemptAt')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Takes one mail for sending until `until`; false when another sender took it (or it went) first. */
export async function claimMail(db: DbOrTrx, id: string, now: string, until: string): Promise<boolean> {
  const result = await db
    .updateTable('mailOutbox')
    .set((eb) => ({ lockedUntil: until, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('sentAt', 'is', null)
    .where('failedAt', 'is', null)
    .where((eb) => eb.or([eb('lockedUntil', 'is', null), eb('lockedUntil', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Sent: the bodies (an invitation's link among them) are no longer kept. */
export async function markSent(db: DbOrTrx, id: string, now: string): Promise<void> {
  await db.updateTable('mailOutbox').set({ sentAt: now, lockedUntil: null, textBody: null, htmlBody: null, lastError: null }).where('id', '=', id).execute();
}

/** Not sent this time: tried again at `retryAt`, or given up (`retryAt` null) with its bodies cleared. */
export async function markFailed(db: DbOrTrx, id: string, now: string, error: string, retryAt: string | null): Promise<void> {
  await db
    .updateTable('mailOutbox')
    .set(
      retryAt
        ? { lockedUntil: null, nextAttemptAt: retryAt, lastError: error }
        : { lockedUntil: null, failedAt: now, lastError: error, textBody: null, htmlBody: null },
    )
    .where('id', '=', id)
    .execute();
}

/** What the outbox holds for an organisation (newest first): the operator's and the tests' view. */
export function outboxOf(db: DbOrTrx, orgId: string, limit = 100): Promise<OutboxRow[]> {
  return db.selectFrom('mailOutbox').selectAll().where('orgId', '=', orgId).orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(limit).execute();
}
