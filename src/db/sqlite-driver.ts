import type Sqlite from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, SqliteDialect, SqliteDriver, type TransactionSettings } from 'kysely';

/** SQLITE_BUSY and its extended codes: another connection (the CLI, a backup, another node) holds the lock. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED');
}

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
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      await sleep(Math.min(pause, Math.max(1, deadline - Date.now())));
    }
  }
}

/** The one connection, with every statement retried while the file is locked by someone else. */
class RetryingConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    readonly waitMs: number,
  ) {}
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return withLockRetry(this.waitMs, () => this.inner.executeQuery<R>(query));
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
    if (this.#connection?.inner !== connection) this.#connection = new RetryingConnection(connection, this.#waitMs);
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
