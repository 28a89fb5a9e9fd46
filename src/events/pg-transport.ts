import { sql } from 'kysely';
import pg from 'pg';
import type { Trx } from '../db/database.js';
import { ListenConnectionError } from '../db/db-errors.js';
import { destroyConnection } from '../db/pg-guard.js';
import { AnswerDeadline } from '../lib/answer-deadline.js';
import type { DomainEvent } from './domain-events.js';
import type { EventTransport } from './event-bus.js';

const CHANNEL = 'bdoc_domain_events';
/** NOTIFY payloads must stay under 8000 bytes; larger batches send none and are read from the log. */
const MAX_PAYLOAD = 7500;
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export interface ListenOptions {
  /** How often the listening connection is asked `select 1` (every 5 s unless told). */
  everyMs?: number;
  /** No answer within this: the connection is silent (a network cut that left it open) and is replaced. */
  answerTimeoutMs: number;
  /**
   * The listening connection's own URL (DATABASE_LISTEN_URL): a direct connection to the database
   * when the others go through a pooler in transaction mode. Unset: the database URL.
   */
  listenUrl?: string;
}

/**
 * PostgreSQL LISTEN/NOTIFY on a dedicated connection. NOTIFY is sent inside the writing
 * transaction, so PostgreSQL delivers it exactly when (and if) the events commit. A lost
 * connection is reopened with backoff; the bus then catches up from its cursor. A listening
 * connection hears nothing when all is quiet, so it is asked a question now and then: one that
 * stays open but silent (a network cut TCP has not noticed) would otherwise leave the node on
 * its safety-net poll for good.
 */
export class PgNotifyTransport implements EventTransport {
  readonly #connectionString: string;
  readonly #listenUrl: string | undefined;
  readonly #heartbeat: { everyMs: number; answerTimeoutMs: number };
  #beat: NodeJS.Timeout | undefined;
  #client: pg.Client | undefined;
  #stopped = false;
  #backoffMs = MIN_BACKOFF_MS;
  #downSince: number | undefined;
  #retry: NodeJS.Timeout | undefined;
  #handlers: Parameters<EventTransport['start']>[0] | undefined;

  /** `connectionString`: the database's, where the changes and their NOTIFY are written. */
  constructor(connectionString: string, options: ListenOptions = { answerTimeoutMs: 2000 }) {
    this.#connectionString = connectionString;
    this.#listenUrl = options.listenUrl;
    this.#heartbeat = { everyMs: options.everyMs ?? 5000, answerTimeoutMs: options.answerTimeoutMs };
  }

  async announce(trx: Trx, events: readonly DomainEvent[]): Promise<void> {
    const payload = JSON.stringify(events);
    await sql`select pg_notify(${CHANNEL}, ${Buffer.byteLength(payload) <= MAX_PAYLOAD ? payload : ''})`.execute(trx);
  }

  async start(handlers: Parameters<EventTransport['start']>[0]): Promise<void> {
    this.#handlers = handlers;
    this.#stopped = false;
    try {
      await this.#connect();
    } catch (error) {
      throw this.#listenUrl ? new ListenConnectionError(error) : error;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearInterval(this.#beat);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#listenUrl ?? this.#connectionString, connectionTimeoutMillis: 5000, keepAlive: true });
    client.on('notification', (message) => this.#handlers?.wake(parsePayload(message.payload)));
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('the event listener connection closed')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    this.#client = client;
    void this.#checkHeard(client);
    this.#backoffMs = MIN_BACKOFF_MS;
    clearInterval(this.#beat);
    this.#beat = setInterval(() => this.#ask(client), this.#heartbeat.everyMs);
    this.#beat.unref();
    if (this.#downSince !== undefined) {
      const downMs = Date.now() - this.#downSince;
      this.#downSince = undefined;
      this.#handlers?.reconnected(downMs);
    }
  }

  /**
   * Sends a NOTIFY from a connection of its own, the way changes send theirs (the database URL),
   * and waits for the listener to hear it. Behind a pooler in transaction mode, LISTEN stays with
   * the server connection it ran on, which soon serves other clients: the listener is connected,
   * answers its heartbeat, and hears nothing. A DATABASE_LISTEN_URL to another database hears nothing either.
   */
  async #checkHeard(client: pg.Client): Promise<void> {
    const { answerTimeoutMs } = this.#heartbeat;
    let heard: () => void = () => {};
    const arrived = new Promise<boolean>((resolve) => {
      const deadline = new AnswerDeadline(answerTimeoutMs, () => resolve(false), { unref: true });
      heard = () => {
        deadline.clear();
        resolve(true);
      };
    });
    client.on('notification', heard);
    const sender = new pg.Client({ connectionString: this.#connectionString, connectionTimeoutMillis: answerTimeoutMs });
    sender.on('error', () => {});
    try {
      await sender.connect();
      // An empty message means "read the log": the listeners that do hear it read nothing new.
      await sender.query('select pg_notify($1, $2)', [CHANNEL, '']);
    } catch {
      client.off('notification', heard);
      return; // The database is away: the listener's own loss and the log's reads say so.
    } finally {
      sender.end().catch(() => {});
    }
    const wasHeard = await arrived;
    client.off('notification', heard);
    if (!wasHeard && this.#client === client && !this.#stopped)
      this.#handlers?.deaf(
        this.#listenUrl
          ? `the event listener heard no NOTIFY within ${answerTimeoutMs} ms of one sent to it (DATABASE_LISTEN_URL goes through a pooler in transaction mode, or to another database than DATABASE_URL?)`
          : `the event listener heard no NOTIFY within ${answerTimeoutMs} ms of one sent to it (DATABASE_URL goes through a pooler in transaction mode? Set DATABASE_LISTEN_URL to a direct connection to the database)`,
      );
  }

  /** Asks the listening connection `select 1`; no answer in time and it is replaced. */
  #ask(client: pg.Client): void {
    if (this.#client !== client) return;
    const { answerTimeoutMs } = this.#heartbeat;
    const silent = new AnswerDeadline(answerTimeoutMs, () =>
      this.#lost(client, new Error(`the event listener connection did not answer within ${answerTimeoutMs} ms`)),
    );
    client.query('select 1').then(
      () => silent.clear(),
      () => silent.clear(), // a failure arrives as the client's own error or end
    );
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#stopped || this.#client !== client) return;
    this.#client = undefined;
    clearInterval(this.#beat);
    this.#downSince ??= Date.now();
    this.#handlers?.error(error);
    destroyConnection(client);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#stopped) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    this.#retry = setTimeout(() => {
      this.#connect().catch((error) => {
        this.#handlers?.error(error);
        this.#scheduleReconnect();
      });
    }, delay);
    this.#retry.unref();
  }
}

function parsePayload(payload: string | undefined): DomainEvent[] | undefined {
  if (!payload) return undefined;
  try {
    const events = JSON.parse(payload) as unknown;
    return Array.isArray(events) ? (events as DomainEvent[]) : undefined;
  } catch {
    return undefined;
  }
}
