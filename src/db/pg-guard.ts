import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';
import { AnswerDeadline } from '../lib/answer-deadline.js';
import { isDatabaseNetworkError, NOT_ANSWERING } from './db-errors.js';

/** SQLSTATE read_only_sql_transaction: a write on a read-only server or session. */
const READ_ONLY_TRANSACTION = '25006';

export interface AnswerWatch {
  /** A query without an answer this long has the guard ask the database (a new connection and `select 1`, within the same time). */
  answerTimeoutMs: number;
  /** Any one query: its connection is closed when it has had no answer this long (the statement timeout and a grace). */
  deadlineMs: number;
  /** Told when the database stops answering (`reason`) and when it answers again (`undefined`). */
  onChange: (reason: string | undefined) => void;
  /**
   * Told once when the database is reached again after connections to it failed (refused, gone,
   * not answering): how long since the first that failed.
   */
  onReachable?: (downMs: number) => void;
}

/** pg-pool's error for a checkout that waited for a busy pool: it says nothing of the database. */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';

/**
 * PostgreSQL that stops answering (a network black hole, a frozen proxy) must not hold requests
 * for ever: TCP keeps such a connection open for many minutes, and the server's statement
 * timeout never reaches this side. The guard stands between Kysely and the pool:
 * - a query without an answer for `answerTimeoutMs` has the guard ask the database; a slow query
 *   on a database that answers the question goes on, but one whose server process is idle or
 *   gone while its connection read nothing was lost with that connection (a failover moved the
 *   address to another server, a flow was dropped): its connection is closed and it fails at once;
 * - when the question gets no answer either, the connections with queries in flight are closed
 *   (those queries fail at once and answer 503), checkouts fail at once, and the question is
 *   asked again every `answerTimeoutMs` until the database answers;
 * - a query still without an answer after `deadlineMs` has its connection closed.
 * A database that refuses or drops connections is not this guard's business: those errors
 * arrive by themselves and already answer 503. A connection that met a read-only server is
 * retired at release (the server it reached may stay read-only while a new one reaches the writable one).
 */
export class GuardedPool implements PostgresPool {
  readonly #pool: pg.Pool;
  readonly #connectionString: string;
  readonly #watch: AnswerWatch;
  /** The client of each query in flight. */
  readonly #inFlight = new Map<pg.PoolClient, InFlight>();
  /** Connections the guard closed or retired: released with `destroy`, so the pool never lends them again. */
  readonly #closed = new WeakSet<pg.PoolClient>();
  #notAnswering: string | undefined;
  #asking = false;
  /** A query went without an answer while the question was out: ask again about it. */
  #askAfter = false;
  #askAgain: NodeJS.Timeout | undefined;
  #ended = false;
  /** When connecting first failed in the outage going on (Date.now()), or undefined while it connects. */
  #unreachableSince: number | undefined;

  constructor(pool: pg.Pool, connectionString: string, watch: AnswerWatch) {
    this.#pool = pool;
    this.#connectionString = connectionString;
    this.#watch = watch;
  }

  /** Why the database is treated as not answering, or undefined while it answers. */
  get notAnswering(): string | undefined {
    return this.#notAnswering;
  }

  async connect(): Promise<PostgresPoolClient> {
    let client: pg.PoolClient;
    try {
      this.#refuseWhileNotAnswering();
      client = await this.#pool.connect();
    } catch (error) {
      if (!(error instanceof Error && error.message === POOL_WAIT_TIMEOUT)) this.#unreachableSince ??= Date.now();
      throw error;
    }
    if (this.#notAnswering !== undefined) {
      client.release(true);
      this.#refuseWhileNotAnswering();
    }
    this.#reachable();
    return new GuardedClient(client, this);
  }

  /** A connection was made or the database answered: the end of an outage, if one was going on. */
  #reachable(): void {
    if (this.#unreachableSince === undefined) return;
    const downMs = Date.now() - this.#unreachableSince;
    this.#unreachableSince = undefined;
    this.#watch.onReachable?.(downMs);
  }

  async end(): Promise<void> {
    // The pool ends once its connections are back: the watch goes on meanwhile, or a query on a
    // silent connection would hold the end until its deadline.
    await this.#pool.end();
    this.#ended = true;
    clearTimeout(this.#askAgain);
  }

  /** Runs one query on `client` under the watch. */
  run<R>(client: pg.PoolClient, sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>> {
    const query = client.query(sql, parameters as unknown[]) as unknown as Promise<PostgresQueryResult<R>>;
    return new Promise<PostgresQueryResult<R>>((resolve, reject) => {
      const { answerTimeoutMs, deadlineMs } = this.#watch;
      const sentAt = Date.now();
      // Every answerTimeoutMs without an answer the database is asked about this query, until the deadline.
      const look = () => {
        const left = deadlineMs - (Date.now() - sentAt);
        if (left <= 0) {
          this.#close(client, `no answer within ${deadlineMs} ms`);
          return;
        }
        this.#ask();
        timer = new AnswerDeadline(Math.min(answerTimeoutMs, left), look);
      };
      let timer = new AnswerDeadline(answerTimeoutMs, look);
      const settle = () => {
        timer.clear();
        this.#inFlight.delete(client);
      };
      this.#inFlight.set(client, {
        end: (error) => {
          settle();
          reject(error);
        },
        sentAt,
        bytesRead: bytesRead(client),
      });
      query.then(
        (result) => {
          settle();
          resolve(result);
        },
        (error: unknown) => {
          settle();
          // A connection to a server that turned read-only (a primary demoted by a failover, a
          // database set read-only) stays so: a new one may reach the writable server.
          if ((error as { code?: unknown }).code === READ_ONLY_TRANSACTION) this.#closed.add(client);
          reject(error);
        },
      );
    });
  }

  #refuseWhileNotAnswering(): void {
    if (this.#notAnswering !== undefined) throw new Error(`${NOT_ANSWERING} (${this.#notAnswering})`);
  }

  /** Ends the query in flight on `client` with a clear error and closes its connection (the pool drops it at release). */
  #close(client: pg.PoolClient, reason: string): void {
    const query = this.#inFlight.get(client);
    this.#inFlight.delete(client);
    query?.end(new Error(`${NOT_ANSWERING} (${reason})`));
    this.#closed.add(client);
    destroyConnection(client);
  }

  wasClosed(client: pg.PoolClient): boolean {
    return this.#closed.has(client);
  }

  /**
   * Asks the database on a connection of its own whether it answers, and whether it is running
   * the queries still without an answer; decides. One question at a time.
   */
  #ask(): void {
    if (this.#ended) return;
    if (this.#asking) {
      this.#askAfter = true;
      return;
    }
    this.#asking = true;
    const now = Date.now();
    // What each waiting connection has read since the last look: a result arriving is progress.
    const waiting = [...this.#inFlight]
      .filter(([, query]) => now - query.sentAt >= this.#watch.answerTimeoutMs)
      .map(([client, query]) => {
        const read = bytesRead(client);
        const progressed = read !== query.bytesRead;
        query.bytesRead = read;
        return { client, query, progressed };
      });
    const processes = waiting.map(({ client }) => processId(client)).filter((id) => id !== undefined);
    void askDatabase(this.#connectionString, this.#watch.answerTimeoutMs, processes).then(({ reason, running }) => {
      this.#asking = false;
      if (this.#ended) return;
      if (reason === undefined) {
        if (this.#notAnswering !== undefined) {
          this.#notAnswering = undefined;
          this.#watch.onChange(undefined);
          this.#reachable();
        }
        // The database answers on a new connection. A query whose connection has read nothing
        // since the last look, and whose server process is idle or gone, is lost with its
        // connection (the server behind the address changed in a failover, a flow was dropped):
        // ended now rather than at the deadline. A slow query (its process busy) goes on, and is
        // looked at again after each answer timeout.
        if (running) {
          for (const { client, query, progressed } of waiting) {
            const id = processId(client);
            if (id !== undefined && !progressed && !running.has(id) && this.#inFlight.get(client) === query)
              this.#close(client, 'its connection stopped answering while the database answers on a new one');
          }
        }
        if (this.#askAfter) {
          this.#askAfter = false;
          this.#ask();
        }
        return;
      }
      if (this.#notAnswering === undefined) {
        this.#notAnswering = reason;
        this.#unreachableSince ??= Date.now();
        this.#watch.onChange(reason);
      }
      for (const client of [...this.#inFlight.keys()]) this.#close(client, reason);
      this.#askAfter = false;
      this.#askAgain = setTimeout(() => this.#ask(), this.#watch.answerTimeoutMs);
      this.#askAgain.unref();
    });
  }
}

class GuardedClient implements PostgresPoolClient {
  readonly #client: pg.PoolClient;
  readonly #guard: GuardedPool;

  constructor(client: pg.PoolClient, guard: GuardedPool) {
    this.#client = client;
    this.#guard = guard;
  }

  // Kysely's cursor form is never used here (no `cursor` in the dialect's config).
  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query(cursor: never): never;
  query<R>(sql: string, parameters: ReadonlyArray<unknown> = []): Promise<PostgresQueryResult<R>> {
    return this.#guard.run<R>(this.#client, sql, parameters);
  }

  release(destroy?: boolean): void {
    this.#client.release(destroy || this.#guard.wasClosed(this.#client));
  }
}

interface InFlight {
  /** Ends the query with this error (its connection is being closed). */
  end: (error: Error) => void;
  sentAt: number;
  /** What its connection had read when the query was sent, then at the guard's last look. */
  bytesRead: number;
}

interface Answer {
  /** Why the database is taken as not answering; undefined when it answers (even with a refusal: it is there). */
  reason?: string;
  /**
   * Of the server processes asked about, those not known to be idle (running a statement, or the
   * server does not track it); undefined when the answer cannot tell (a pooler between).
   */
  running?: Set<number>;
}

/** The server process behind a connection, as the server told it at connect (a pooler tells its own). */
function processId(client: pg.PoolClient): number | undefined {
  const id = (client as unknown as { processID?: unknown }).processID;
  return typeof id === 'number' ? id : undefined;
}

function bytesRead(client: pg.PoolClient): number {
  return (client as unknown as { connection?: { stream?: { bytesRead?: number } } }).connection?.stream?.bytesRead ?? 0;
}

/**
 * Asks on a new connection within `timeoutMs`, with `select 1`, or with which of `processes`
 * are running a statement. Their answer counts only when this connection's own process is the
 * one the server says it is (no pooler between, whose process ids are its own).
 */
async function askDatabase(connectionString: string, timeoutMs: number, processes: readonly number[] = []): Promise<Answer> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  let deadline: AnswerDeadline | undefined;
  const silence = new Promise<Answer>((resolve) => {
    deadline = new AnswerDeadline(timeoutMs, () => resolve({ reason: `no answer within ${timeoutMs} ms` }));
  });
  const answer = (async (): Promise<Answer> => {
    try {
      await client.connect();
      if (processes.length === 0) {
        await client.query('select 1');
        return {};
      }
      const { rows } = await client.query<{ me: number; running: number[] }>(
        `select pg_backend_pid() as me,
          array(select pid from pg_stat_activity where pid = any($1::int[])
            and (state is null or state not in ('idle', 'idle in transaction', 'idle in transaction (aborted)'))) as running`,
        [processes],
      );
      const [row] = rows;
      return row && row.me === processId(client as unknown as pg.PoolClient) ? { running: new Set(row.running) } : {};
    } catch (error) {
      return isDatabaseNetworkError(error) ? { reason: (error as Error).message } : {};
    }
  })();
  try {
    return await Promise.race([answer, silence]);
  } finally {
    deadline?.clear();
    destroyConnection(client);
  }
}

/** Closes a pg connection at once: `end()` waits for the server's goodbye, which a black hole never sends. */
export function destroyConnection(client: pg.Client | pg.PoolClient): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  if (stream) stream.destroy();
  else void client.end().catch(() => {});
}
