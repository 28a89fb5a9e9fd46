import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { DomainEvent, NewDomainEvent } from '../src/events/domain-events.js';
import { EventBus, InProcessTransport } from '../src/events/event-bus.js';
import { GapCursor } from '../src/events/gap-cursor.js';
import { PgNotifyTransport } from '../src/events/pg-transport.js';
import { CuttableProxy } from './support/redis-proxy.js';
import { systemClock } from '../src/lib/clock.js';
import { newId } from '../src/lib/ids.js';
import { createTestDatabase, onPostgres, type TestDatabase } from './support/postgres.js';

describe('the gap cursor', () => {
  it('delivers positions in order once, and a late position below the highest when it appears', () => {
    const cursor = new GapCursor(10, { gapWaitMs: 1000 });
    expect(cursor.accept([11, 13, 14], 0)).toEqual([11, 13, 14]);
    expect(cursor.high).toBe(14);
    expect(cursor.openGaps(0)).toEqual([12]);
    expect(cursor.accept([12, 13, 14], 10)).toEqual([12]);
    expect(cursor.openGaps(10)).toEqual([]);
    expect(cursor.accept([14], 20)).toEqual([]);
  });

  it('gives a gap up after the wait (a rolled-back transaction never fills it)', () => {
    const cursor = new GapCursor(0, { gapWaitMs: 1000 });
    cursor.accept([3], 0);
    expect(cursor.openGaps(1000)).toEqual([1, 2]);
    expect(cursor.openGaps(1001)).toEqual([]);
    expect(cursor.accept([1], 1002)).toEqual([]);
  });

  it('says it cannot be sure when a jump is too wide to track', () => {
    const cursor = new GapCursor(0, { gapWaitMs: 1000, maxGaps: 100 });
    expect(cursor.accept([50], 0)).toEqual([50]);
    expect(cursor.accept([500], 0)).toBeNull();
    expect(cursor.high).toBe(500);
    expect(cursor.openGaps(0)).toEqual([]);
  });
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const revoked = (id: string): NewDomainEvent => ({ type: 'api_key.revoked', organisationId: 'org_x', data: { key: { id } as never } });

// Out-of-order commits only happen on PostgreSQL; registered only there (npm run test:postgres), never skipped.
if (onPostgres) {
  describe('events across nodes on PostgreSQL', () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    const options = { pollMs: 1000, gapWaitMs: 10_000, retentionMs: 7 * 86_400_000 };

    beforeAll(async () => {
      database = await createTestDatabase('cursor');
      handle = openDatabase(loadConfig({ DATABASE_URL: database.url }));
      await migrateToLatest(handle);
    });
    afterAll(async () => {
      await handle?.db.destroy();
      await database?.drop();
    });

    it('two transactions, the later-numbered committed first: the reader still gets both', async () => {
      const reader = new EventBus({ db: handle.db, clock: systemClock, newId, transport: new PgNotifyTransport(database.url) }, options);
      const writer = new EventBus({ db: handle.db, clock: systemClock, newId, transport: new PgNotifyTransport(database.url) }, options);
      const seen: string[] = [];
      reader.subscribe({ event: (e: DomainEvent) => seen.push((e.data as { key: { id: string } }).key.id), reset: () => seen.push('reset') });
      await reader.start();
      try {
        const inserted = deferred();
        const release = deferred();
        const early = handle.db.transaction().execute(async (trx) => {
          await writer.record(trx, [revoked('key_first')]);
          inserted.resolve();
          await release.promise;
        });
        await inserted.promise;
        await handle.db.transaction().execute((trx) => writer.record(trx, [revoked('key_second')]));
        await until(() => seen.includes('key_second'));
        expect(seen).toEqual(['key_second']);
        release.resolve();
        await early;
        await until(() => seen.includes('key_first'));
        expect(seen).toEqual(['key_second', 'key_first']);
      } finally {
        await reader.stop();
      }
    });

    it('NOTIFY wakes the reader at once, long before its poll', async () => {
      const reader = new EventBus({ db: handle.db, clock: systemClock, newId, transport: new PgNotifyTransport(database.url) }, { ...options, pollMs: 60_000 });
      const writer = new EventBus({ db: handle.db, clock: systemClock, newId, transport: new PgNotifyTransport(database.url) }, options);
      const seen: string[] = [];
      reader.subscribe({ event: (e) => seen.push((e.data as { key: { id: string } }).key.id), reset: () => {} });
      await reader.start();
      try {
        await handle.db.transaction().execute((trx) => writer.record(trx, [revoked('key_woken')]));
        await until(() => seen.includes('key_woken'), 2000);
      } finally {
        await reader.stop();
      }
    });

    it('a listening connection that goes silent (open, nothing passes) is replaced, and NOTIFY wakes the node again', async () => {
      const proxy = new CuttableProxy(database.url);
      await proxy.open();
      const throughProxy = new URL(database.url);
      throughProxy.port = String(proxy.port);
      const transport = new PgNotifyTransport(throughProxy.toString(), { everyMs: 200, answerTimeoutMs: 300 });
      // The poll is a minute away: only the listening connection can deliver within the test.
      const reader = new EventBus({ db: handle.db, clock: systemClock, newId, transport }, { ...options, pollMs: 60_000 });
      const writer = new EventBus({ db: handle.db, clock: systemClock, newId, transport: new PgNotifyTransport(database.url) }, options);
      const seen: string[] = [];
      const errors: string[] = [];
      reader.onError = (error) => errors.push((error as Error).message);
      reader.subscribe({ event: (e) => seen.push((e.data as { key: { id: string } }).key.id), reset: () => {} });
      await reader.start();
      try {
        proxy.freezeOpen();
        await handle.db.transaction().execute((trx) => writer.record(trx, [revoked('key_after_silence')]));
        await until(() => seen.includes('key_after_silence'), 10_000);
        expect(errors).toContain('the event listener connection did not answer within 300 ms');
        // And the new connection is woken by the next NOTIFY (not only by the catch-up of the reconnect).
        await handle.db.transaction().execute((trx) => writer.record(trx, [revoked('key_woken_again')]));
        await until(() => seen.includes('key_woken_again'), 2000);
      } finally {
        await reader.stop();
        await proxy.cut();
      }
    });

    it('after its listening connection is cut, a node catches up on what it missed', async () => {
      const reader = new EventBus({ db: handle.db, clock: systemClock, newId, transport: new PgNotifyTransport(database.url) }, { ...options, pollMs: 60_000 });
      const writer = new EventBus({ db: handle.db, clock: systemClock, newId, transport: new InProcessTransport() }, options);
      const seen: string[] = [];
      let resets = 0;
      reader.subscribe({ event: (e) => seen.push((e.data as { key: { id: string } }).key.id), reset: () => resets++ });
      await reader.start();
      try {
        await handle.db.transaction().execute((trx) => writer.record(trx, [revoked('key_while_away')]));
        // The writer's InProcessTransport notifies nobody; only the reconnect's catch-up can find it.
        await handle.db.executeQuery(
          (await import('kysely'))
            .sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN%'`.compile(handle.db),
        );
        await until(() => seen.includes('key_while_away'));
        expect(resets).toBe(0);
      } finally {
        await reader.stop();
      }
    });
  });
}
