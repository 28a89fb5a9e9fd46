import type { Db, Trx } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import type { DomainEvent, NewDomainEvent } from './domain-events.js';
import { appendEvents, logBounds, pruneEvents, readEvents } from './event-log.js';
import { addBounded } from '../lib/bounded-set.js';
import { GapCursor } from './gap-cursor.js';

/** Tells the other nodes that events were committed; the log itself carries them. */
export interface EventTransport {
  /** Inside the writing transaction: wake the other nodes when (and only if) it commits. */
  announce(trx: Trx, events: readonly DomainEvent[]): Promise<void>;
  /**
   * Starts listening: `wake` when another node committed events (with them, when they fit in the
   * message: a head start, not a replacement for the log), `reconnected` after listening was lost for `downMs`.
   */
  start(handlers: {
    wake(events?: readonly DomainEvent[]): void;
    reconnected(downMs: number): void;
    error(error: unknown): void;
    /** Listening was set up but hears nothing (why): the node learns of changes from the log poll only. */
    deaf(reason: string): void;
  }): Promise<void>;
  stop(): Promise<void>;
}

/** One node (SQLite): nothing to tell; other processes on the same file (the CLI) are found by polling. */
export class InProcessTransport implements EventTransport {
  async announce(): Promise<void> {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

export interface EventListener {
  event(event: DomainEvent): void;
  /** The node cannot be sure it saw every event (log pruned past it, too wide a gap): forget everything held. */
  reset(): void;
}

export interface EventBusOptions {
  /** Safety-net poll of the log; the transport normally wakes the node sooner. */
  pollMs: number;
  /** How long a position missing below the highest seen is waited for (a late commit). */
  gapWaitMs: number;
  /** Events older than this are pruned; a node away longer drops its caches. */
  retentionMs: number;
}

const BATCH = 1000;

/**
 * Delivers domain events to this node's listeners: its own at once after commit, every node's
 * (its own again, harmlessly) from the log, by a cursor that cannot skip a late commit.
 */
export class EventBus {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #newId: IdGenerator;
  readonly #transport: EventTransport;
  readonly #options: EventBusOptions;
  readonly #listeners = new Set<EventListener>();
  #cursor: GapCursor | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #readAgain = false;
  /** Set when a read failed or listening was lost: the next successful read checks nothing was pruned meanwhile. */
  #unsure = false;
  /** Called when reading the log fails (the database is away); reading goes on. */
  onError: (error: unknown) => void = () => {};
  /** Called when the transport's listening hears nothing (a pooler in transaction mode): changes then come by the poll alone. */
  onDeaf: (reason: string) => void = () => {};

  constructor(deps: { db: Db; clock: Clock; newId: IdGenerator; transport: EventTransport }, options: EventBusOptions) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#newId = deps.newId;
    this.#transport = deps.transport;
    this.#options = options;
  }

  readonly #recorders: ((trx: Trx, events: readonly DomainEvent[]) => Promise<void>)[] = [];

  /** Work that must commit with every recorded event (webhook deliveries are queued this way). */
  onRecord(recorder: (trx: Trx, events: readonly DomainEvent[]) => Promise<void>): void {
    this.#recorders.push(recorder);
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Gives new events their id and time, writes them in `trx` and asks the transport to wake the other nodes on commit. */
  async record(trx: Trx, events: readonly NewDomainEvent[]): Promise<DomainEvent[]> {
    if (events.length === 0) return [];
    const timestamp = this.#clock.now().toISOString();
    const full = events.map((e) => ({ ...e, id: this.#newId('evt'), timestamp }) as DomainEvent);
    await appendEvents(trx, full);
    for (const recorder of this.#recorders) await recorder(trx, full);
    await this.#transport.announce(trx, full);
    return full;
  }

  /** This node's own events, right after their commit. */
  delivered(events: readonly DomainEvent[]): void {
    for (const event of events) this.#emit(event);
  }

  async start(): Promise<void> {
    this.#cursor = new GapCursor((await logBounds(this.#db)).last, { gapWaitMs: this.#options.gapWaitMs });
    await this.#transport.start({
      wake: (events) => {
        // From the message at once; the log read that follows finds it again and skips it (#emit).
        if (events) this.delivered(events);
        this.catchUp();
      },
      reconnected: (downMs) => {
        if (downMs >= this.#options.retentionMs) this.#reset();
        this.#unsure = true;
        this.catchUp();
      },
      error: (error) => this.onError(error),
      deaf: (reason) => this.onDeaf(reason),
    });
    this.#timer = setInterval(() => this.catchUp(), this.#options.pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#transport.stop();
    await this.#reading;
  }

  /** Reads what was committed since the cursor; one read at a time, another right after if woken meanwhile. */
  catchUp(): Promise<void> {
    if (this.#reading) {
      this.#readAgain = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      do {
        this.#readAgain = false;
        try {
          await this.#read();
        } catch (error) {
          this.#unsure = true;
          this.onError(error);
          return;
        }
      } while (this.#readAgain);
    })().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  /** Deletes events past their retention (safe on several nodes at once). */
  prune(): Promise<number> {
    return pruneEvents(this.#db, new Date(this.#clock.nowMs() - this.#options.retentionMs));
  }

  async #read(): Promise<void> {
    const cursor = this.#cursor;
    if (!cursor) return;
    if (this.#unsure) {
      // Positions between ours and the oldest kept were pruned (or rolled back): we cannot know which.
      const { first } = await logBounds(this.#db);
      if (first > cursor.high + 1) this.#reset();
      this.#unsure = false;
    }
    for (;;) {
      const now = this.#clock.nowMs();
      const rows = await readEvents(this.#db, cursor.high, cursor.openGaps(now), BATCH);
      const fresh = cursor.accept(
        rows.map((r) => r.position),
        now,
      );
      if (fresh === null) {
        this.#reset();
        return;
      }
      const wanted = new Set(fresh);
      for (const row of rows) if (wanted.has(row.position)) this.#emit(row.event);
      if (rows.length < BATCH) return;
    }
  }

  #reset(): void {
    this.#cursor?.reset(this.#cursor.high);
    for (const listener of this.#listeners) listener.reset();
  }

  /** Ids of the events delivered lately: an event arrives by message and again from the log, and listeners hear it once. */
  readonly #delivered = new Set<string>();

  #emit(event: DomainEvent): void {
    if (this.#delivered.has(event.id)) return;
    addBounded(this.#delivered, event.id, 10_000);
    for (const listener of this.#listeners) listener.event(event);
  }
}

/** Lets a transaction's work emit the events it causes. */
export type Emit = (event: NewDomainEvent) => void;

/**
 * Runs `work` in one transaction with the events it emits: both commit or neither does.
 * After commit this node's listeners hear the events at once; other nodes through the transport.
 */
export async function commitWithEvents<T>(db: Db, bus: EventBus, work: (trx: Trx, emit: Emit) => Promise<T>): Promise<T> {
  let recorded: DomainEvent[] = [];
  const result = await db.transaction().execute(async (trx) => {
    const pending: NewDomainEvent[] = [];
    const value = await work(trx, (event) => pending.push(event));
    recorded = await bus.record(trx, pending);
    return value;
  });
  bus.delivered(recorded);
  return result;
}
