import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';
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
}

/**
 * PostgreSQL that stops answering (a network black hole, a frozen proxy) must not hold requests
 * for ever: TCP keeps such a connection open for many minutes, and the server's statement
 * timeout never reaches this side. The guard stands between Kysely and the pool:
 * - a query without an answer for `answerTimeoutMs` has the guard ask the database; a slow query
 *   on a database that answers the question goes on;
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
  /** The client of each query in flight, and the rejection that ends that query when its connection is closed. */
  readonly #inFlight = new Map<pg.PoolClient, (error: Error) => void>();
  /** Connections the guard closed or retired: released with `destroy`, so the pool never lends them again. */
  readonly #closed = new WeakSet<pg.PoolClient>();
  #notAnswering: string | undefined;
  #asking = false;
  #askAgain: NodeJS.Timeout | undefined;
  #ended = false;

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
    this.#refuseWhileNotAnswering();
    const client = await this.#pool.connect();
    if (this.#notAnswering !== undefined) {
      client.release(true);
      this.#refuseWhileNotAnswering();
    }
    return new GuardedClient(client, this);
  }

  async end(): Promise<void> {
    this.#ended = true;
    clearTimeout(this.#askAgain);
    await this.#pool.end();
  }

  /** Runs one query on `client` under the watch. */
  run<R>(client: pg.PoolClient, sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>> {
    const query = client.query(sql, parameters as unknown[]) as unknown as Promise<PostgresQueryResult<R>>;
    return new Promise<PostgresQueryResult<R>>((resolve, reject) => {
      const { answerTimeoutMs, deadlineMs } = this.#watch;
      let timer = setTimeout(() => {
        this.#ask();
        timer = setTimeout(() => this.#close(client, `no answer within ${deadlineMs} ms`), Math.max(0, deadlineMs - answerTimeoutMs));
      }, answerTimeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.#inFlight.delete(client);
      };
      this.#inFlight.set(client, (error) => {
        settle();
        reject(error);
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
    const end = this.#inFlight.get(client);
    this.#inFlight.delete(client);
    end?.(new Error(`${NOT_ANSWERING} (${reason})`));
    this.#closed.add(client);
    destroyConnection(client);
  }

  wasClosed(client: pg.PoolClient): boolean {
    return this.#closed.has(client);
  }

  /** Asks the database on a connection of its own; decides whether it answers. One question at a time. */
  #ask(): void {
    if (this.#asking || this.#ended) return;
    this.#asking = true;
    void askDatabase(this.#connectionString, this.#watch.answerTimeoutMs).then((reason) => {
      this.#asking = false;
      if (this.#ended) return;
      if (reason === undefined) {
        if (this.#notAnswering !== undefined) {
          this.#notAnswering = undefined;
          this.#watch.onChange(undefined);
        }
        return;
      }
      if (this.#notAnswering === undefined) {
        this.#notAnswering = reason;
        this.#watch.onChange(reason);
      }
      for (const client of [...this.#inFlight.keys()]) this.#close(client, reason);
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

/**
 * Asks `select 1` on a new connection within `timeoutMs`. Undefined when the database answers
 * (even with a refusal: it is there); the reason when nothing came back or the network failed.
 */
async function askDatabase(connectionString: string, timeoutMs: number): Promise<string | undefined> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  const answer = (async () => {
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (error) {
      return isDatabaseNetworkError(error) ? (error as Error).message : undefined;
    }
  })();
  try {
    return await Promise.race([answer, silence]);
  } finally {
    clearTimeout(timer);
    destroyConnection(client);
  }
}

/** Closes a pg connection at once: `end()` waits for the server's goodbye, which a black hole never sends. */
export function destroyConnection(client: pg.Client | pg.PoolClient): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  if (stream) stream.destroy();
  else void client.end().catch(() => {});
}
