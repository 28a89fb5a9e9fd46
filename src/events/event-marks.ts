import type { DbOrTrx } from '../db/database.js';

/** What must be announced once: `kind` names the announcement, `subject` what it is about, `mark` which one. */
export interface EventMark {
  kind: 'api_key.expiring' | 'quota.threshold' | 'api_key.revoked_key_used';
  subject: string;
  mark: string;
  orgId: string;
}

/**
 * The only reader and writer of `event_marks`. Claims an announcement inside the transaction
 * that writes its event: true for the one caller that inserted it, false for every other, even
 * when two nodes race (the primary key decides; the loser waits for the winner's commit).
 */
export async function claimMark(trx: DbOrTrx, mark: EventMark, at: Date): Promise<boolean> {
  const result = await trx
    .insertInto('eventMarks')
    .values({ ...mark, createdAt: at.toISOString() })
    .onConflict((oc) => oc.columns(['kind', 'subject', 'mark']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** Whether an announcement was already made (a cheap check before opening a transaction). */
export async function hasMark(db: DbOrTrx, mark: Omit<EventMark, 'orgId'>): Promise<boolean> {
  const row = await db
    .selectFrom('eventMarks')
    .select('kind')
    .where('kind', '=', mark.kind)
    .where('subject', '=', mark.subject)
    .where('mark', '=', mark.mark)
    .executeTakeFirst();
  return row !== undefined;
}

/** The subjects of one kind of announcement an organisation had since `since`, with the latest time of each. */
export async function recentMarks(db: DbOrTrx, orgId: string, kind: EventMark['kind'], since: Date): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('eventMarks')
    .select((eb) => ['subject', eb.fn.max('createdAt').as('at')])
    .where('orgId', '=', orgId)
    .where('kind', '=', kind)
    .where('createdAt', '>=', since.toISOString())
    .groupBy('subject')
    .execute();
  return new Map(rows.map((row) => [row.subject, String(row.at)]));
}
