import type { Db, DbOrTrx, Trx } from '../db/database.js';
import type { DomainEvent } from './domain-events.js';

/** An event as the log holds it: its place in the log (`position`) and the event. */
export interface LoggedEvent {
  position: number;
  event: DomainEvent;
}

/** The only reader and writer of `domain_events`. */
export async function appendEvents(trx: Trx, events: readonly DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('domainEvents')
    .values(events.map((e) => ({ id: e.id, type: e.type, organisationId: e.organisationId, data: JSON.stringify(e.data), occurredAt: e.timestamp })))
    .execute();
}

/** Events after `after`, plus those at the `also` positions (gaps a late commit may still fill), in log order. */
export async function readEvents(db: DbOrTrx, after: number, also: readonly number[], limit: number): Promise<LoggedEvent[]> {
  const rows = await db
    .selectFrom('domainEvents')
    .selectAll()
    .where((eb) => (also.length > 0 ? eb.or([eb('position', '>', after), eb('position', 'in', also)]) : eb('position', '>', after)))
    .orderBy('position')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    position: Number(row.position),
    event: { id: row.id, type: row.type, timestamp: row.occurredAt, organisationId: row.organisationId, data: JSON.parse(row.data) } as DomainEvent,
  }));
}

/** The first and last positions the log holds (0 when it is empty). */
export async function logBounds(db: Db): Promise<{ first: number; last: number }> {
  const row = await db
    .selectFrom('domainEvents')
    .select((eb) => [eb.fn.min('position').as('first'), eb.fn.max('position').as('last')])
    .executeTakeFirst();
  return { first: Number(row?.first ?? 0), last: Number(row?.last ?? 0) };
}

/** Deletes events that occurred before `before`; running it twice, or on two nodes at once, is harmless. */
export async function pruneEvents(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('domainEvents').where('occurredAt', '<', before.toISOString()).executeTakeFirst();
  return Number(result.numDeletedRows);
}
