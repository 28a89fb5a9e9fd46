import type { Clock } from '../lib/clock.js';
import type { Db, Trx } from '../db/database.js';

/** "Something about entity X changed": enough for a cache to drop what it holds of X. */
export interface Change {
  entity: 'key' | 'org' | 'user';
  id: string;
}

export type ChangeListener = (change: Change) => void;

/**
 * Carries changes to every listener on every node. A writer records its changes inside its
 * own transaction (`record`), so another process sees them exactly when they commit, and
 * announces them locally right after commit (`announce`) so this node reacts at once.
 * Other processes' changes arrive by polling the `changes` table; the PostgreSQL/Redis
 * transport of the scale-out work plugs in behind the same interface.
 */
export interface ChangeFeed {
  record(trx: Trx, changes: readonly Change[]): Promise<void>;
  announce(changes: readonly Change[]): void;
  subscribe(listener: ChangeListener): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Keeps change rows this long; a node that is down longer reloads its caches on start anyway. */
const RETENTION_MS = 60 * 60 * 1000;

export class DbChangeFeed implements ChangeFeed {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #listeners = new Set<ChangeListener>();
  #lastId = 0;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #lastPrune = 0;
  /** Called when polling fails (the database is away); polling goes on. */
  onError: (error: unknown) => void = () => {};

  constructor(db: Db, clock: Clock, pollMs: number) {
    this.#db = db;
    this.#clock = clock;
    this.#pollMs = pollMs;
  }

  async record(trx: Trx, changes: readonly Change[]): Promise<void> {
    if (changes.length === 0) return;
    const at = this.#clock.now().toISOString();
    await trx
      .insertInto('changes')
      .values(changes.map((c) => ({ entity: c.entity, entityId: c.id, at })))
      .execute();
  }

  announce(changes: readonly Change[]): void {
    for (const change of changes) this.#emit(change);
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    const row = await this.#db.selectFrom('changes').select((eb) => eb.fn.max('id').as('maxId')).executeTakeFirst();
    this.#lastId = Number(row?.maxId ?? 0);
    this.#timer = setInterval(() => {
      this.#polling ??= this.poll()
        .catch((error) => this.onError(error))
        .finally(() => {
          this.#polling = undefined;
        });
    }, this.#pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#polling;
  }

  /** Reads changes committed since the last poll, by any process, and tells the listeners. */
  async poll(): Promise<void> {
    const rows = await this.#db
      .selectFrom('changes')
      .select(['id', 'entity', 'entityId'])
      .where('id', '>', this.#lastId)
      .orderBy('id')
      .limit(1000)
      .execute();
    for (const row of rows) {
      this.#lastId = Math.max(this.#lastId, Number(row.id));
      this.#emit({ entity: row.entity, id: row.entityId });
    }
    const now = this.#clock.now().getTime();
    if (now - this.#lastPrune > RETENTION_MS / 4) {
      this.#lastPrune = now;
      await this.#db
        .deleteFrom('changes')
        .where('at', '<', new Date(now - RETENTION_MS).toISOString())
        .execute();
    }
  }

  #emit(change: Change): void {
    for (const listener of this.#listeners) listener(change);
  }
}

/**
 * Runs `work` in a transaction whose changes are recorded in it and announced after commit.
 * Every service mutation that a cache may hold goes through here.
 */
export async function commitWithChanges<T>(
  db: Db,
  feed: ChangeFeed,
  work: (trx: Trx, changed: (change: Change) => void) => Promise<T>,
): Promise<T> {
  const changes: Change[] = [];
  const result = await db.transaction().execute(async (trx) => {
    const value = await work(trx, (change) => changes.push(change));
    await feed.record(trx, changes);
    return value;
  });
  feed.announce(changes);
  return result;
}
