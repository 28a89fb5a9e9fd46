import type Sqlite from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, SqliteDialect, SqliteDriver, type TransactionSettings } from 'kysely';
import { nextTurn } from '../lib/turns.js';
import { isSqliteBusy } from './db-errors.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a statement; while another process holds the lock, tries again after short async pauses
 * (the event loop keeps serving cached keys meanwhile) until `waitMs` has passed, then throws.
 */
async function withLockRetry<T>(waitMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
    try {
      return await work();
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() >= deadline) throw error;
      await sleep(Math.min(pause, Math.max(1, deadline - Date.now())));
    }
  }
}

/**
 * Statement work, in milliseconds, that runs before the event loop gets a turn. better-sqlite3 is
 * synchronous and Kysely chains statements by promises alone, so without this a long run of
 * statements (a usage flush of 10,000 keys: about 100 ms) would hold every request waiting.
 */
const SLICE_MS = 2;

/**
 * Prepared statements kept, by SQL text: preparing costs as much as running (a key lookup through
 * Kysely: 36 µs a call, 27 µs with its statement kept). Measured in memory: a typical statement
 * ~7.5 KiB, one that writes a 200-row batch ~130 KiB. Batch statements come in many sizes (a
 * flush's last batch), so few of them are kept: memory stays under ~4 MiB.
 */
const KEPT = { statements: 256, batches: 16 } as const;
/** SQL longer than this is a batch statement (a 200-row insert is ~6,000 characters). */
const BATCH_SQL_LENGTH = 2000;

/** The least recently used entries of a Map dropped first, beyond `limit`. */
class Recent<T> {
  readonly #entries = new Map<string, T>();
  constructor(readonly limit: number) {}

  get(key: string, make: (key: string) => T): T {
    let value = this.#entries.get(key);
    if (value !== undefined) {
      // Most recently used last: a Map keeps insertion order.
      this.#entries.delete(key);
    } else {
      value = make(key);
      if (this.#entries.size >= this.limit) this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, value);
    return value;
  }
}

/** The connection's prepared statements: batch statements and the others kept apart, each bounded. */
class StatementCache {
  readonly #statements = new Recent<Sqlite.Statement>(KEPT.statements);
  readonly #batches = new Recent<Sqlite.Statement>(KEPT.batches);
  readonly #prepare: (sqlText: string) => Sqlite.Statement;

  constructor(database: Sqlite.Database) {
    this.#prepare = (sqlText) => database.prepare(sqlText);
  }

  get(sqlText: string): Sqlite.Statement {
    return (sqlText.length > BATCH_SQL_LENGTH ? this.#batches : this.#statements).get(sqlText, this.#prepare);
  }
}

/**
 * The one connection: statements are prepared once and kept, every statement is retried while
 * the file is locked by someone else, and a run of statements gives the event loop a turn every
 * {@link SLICE_MS}, so requests answered from memory (cached keys) never wait for a long flush or batch.
 */
class RetryingConnection implements DatabaseConnection {
  /** When the current run of statements without a turn of the event loop began (performance.now()), or -1. */
  #sliceStart = -1;
  readonly #endSlice = (): void => {
    this.#sliceStart = -1;
  };

  constructor(
    readonly inner: DatabaseConnection,
    readonly statements: StatementCache,
    readonly waitMs: number,
  ) {}
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#sliceStart < 0) {
      // The first statement since the loop last turned: the slice ends when it turns again.
      this.#sliceStart = performance.now();
      setImmediate(this.#endSlice);
    } else if (performance.now() - this.#sliceStart >= SLICE_MS) {
      // #endSlice was queued first, so after this turn the statement begins a new slice.
      return nextTurn().then(() => this.executeQuery<R>(query));
    }
    return withLockRetry(this.waitMs, () => this.#run<R>(query));
  }
  /** What Kysely's better-sqlite3 connection does, with the statement prepared once. */
  #run<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.statements.get(query.sql);
    if (statement.reader) return Promise.resolve({ rows: statement.all(query.parameters) as R[] });
    const { changes, lastInsertRowid } = statement.run(query.parameters);
    return Promise.resolve({
      numAffectedRows: changes === undefined || changes === null ? undefined : BigInt(changes),
      insertId: lastInsertRowid === undefined || lastInsertRowid === null ? undefined : BigInt(lastInsertRowid),
      rows: [],
    });
  }
  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * Kysely's better-sqlite3 driver, with write transactions that take the write lock when they
 * begin (`BEGIN IMMEDIATE`: a deferred transaction that later upgrades fails with SQLITE_BUSY
 * however long it waits) and lock waits that are async retries, not a blocking busy timeout.
 */
class ImmediateSqliteDriver implements Driver {
  readonly #inner: SqliteDriver;
  readonly #database: Sqlite.Database;
  readonly #waitMs: number;
  #connection: RetryingConnection | undefined;

  constructor(database: Sqlite.Database, waitMs: number) {
    this.#inner = new SqliteDriver({ database });
    this.#database = database;
    this.#waitMs = waitMs;
  }
  init(): Promise<void> {
    return this.#inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.#inner.acquireConnection();
    if (this.#connection?.inner !== connection) this.#connection = new RetryingConnection(connection, new StatementCache(this.#database), this.#waitMs);
    return this.#connection;
  }
  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // SQLite may have rolled the transaction back itself (a full disk, an I/O error): a second
    // rollback would fail with "no transaction is active" and hide the error that caused it.
    if (!this.#database.inTransaction) return;
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  releaseConnection(): Promise<void> {
    return this.#inner.releaseConnection();
  }
  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

/** The SQLite dialect with {@link ImmediateSqliteDriver}; `lockWaitMs` is SQLITE_LOCK_WAIT_MS. */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: Sqlite.Database;
  readonly #lockWaitMs: number;
  constructor(database: Sqlite.Database, lockWaitMs: number) {
    super({ database });
    this.#database = database;
    this.#lockWaitMs = lockWaitMs;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#database, this.#lockWaitMs);
  }
}
