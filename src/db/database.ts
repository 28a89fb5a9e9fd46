import { accessSync, constants } from 'node:fs';
import { makeDirectory } from '../lib/make-directory.js';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { CamelCasePlugin, Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Config, DatabaseTuning } from '../config.js';
import { GuardedPool } from './pg-guard.js';
import type { Database } from './schema.js';
import { ImmediateSqliteDialect } from './sqlite-driver.js';

export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
export type DbOrTrx = Db | Trx;
export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Db;
  dialect: Dialect;
  /** Where the data lives, for logs (no credentials). */
  location: string;
  /** Told of a connection the database dropped (logged by the app); never thrown. */
  onConnectionError: (error: Error) => void;
  /** PostgreSQL: told when the database stops answering (why) and when it answers again (undefined). */
  onAnswerChange: (reason: string | undefined) => void;
  /** PostgreSQL: told once per outage when the database is reached again, with how long it was not. */
  onReachableAgain: (downMs: number) => void;
}

/** Used when the caller gives none (the bench, tests that open a file directly). */
const DEFAULT_TUNING: DatabaseTuning = {
  poolMax: 10,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  answerTimeoutMs: 2000,
  idleInTransactionTimeoutMs: 60_000,
  idleTimeoutMs: 30_000,
  sqliteLockWaitMs: 5000,
};

/** Thrown when DATA_DIR cannot hold the database: the message names the path. */
export class DataDirError extends Error {
  override name = 'DataDirError';
}

/** A connection string without its password, for logs and messages. */
export function describeDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Makes `dataDir` if needed and checks it can be written; else a one-line DataDirError naming it and DATA_DIR. */
export function assertWritableDataDir(dataDir: string, what: string): void {
  try {
    makeDirectory(dataDir);
    accessSync(dataDir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new DataDirError(`cannot write ${what} ${dataDir} (DATA_DIR): ${code}`);
  }
}

/** Opens the configured database: PostgreSQL when DATABASE_URL is set, otherwise SQLite in DATA_DIR. */
export function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'> & { database?: DatabaseTuning }): DatabaseHandle {
  const tuning = config.database ?? DEFAULT_TUNING;
  if (config.databaseUrl) return openPostgres(config.databaseUrl, tuning);
  const file = path.join(config.dataDir, 'build-a-doc.sqlite');
  assertWritableDataDir(config.dataDir, 'the database folder');
  const handle: DatabaseHandle = {
    db: openSqlite(file, tuning.sqliteLockWaitMs),
    dialect: 'sqlite',
    location: file,
    onConnectionError: () => {},
    onAnswerChange: () => {},
    onReachableAgain: () => {},
  };
  return handle;
}

/** Each connection's limits (milliseconds), for its whole session. */
const SESSION_SETTINGS = "select set_config('statement_timeout', $1, false), set_config('idle_in_transaction_session_timeout', $2, false)";

function openPostgres(databaseUrl: string, tuning: DatabaseTuning): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: tuning.poolMax,
    connectionTimeoutMillis: tuning.connectTimeoutMs,
    idleTimeoutMillis: tuning.idleTimeoutMs,
    // Dead peers (a cut network) are noticed instead of waiting forever.
    keepAlive: true,
  });
  const guarded = new GuardedPool(pool, databaseUrl, {
    answerTimeoutMs: tuning.answerTimeoutMs,
    // The server ends a statement at its timeout; an answer later than that will not come.
    deadlineMs: tuning.statementTimeoutMs + tuning.answerTimeoutMs,
    onChange: (reason) => handle.onAnswerChange(reason),
    onReachable: (downMs) => handle.onReachableAgain(downMs),
  });
  const handle: DatabaseHandle = {
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: guarded }), plugins: [new CamelCasePlugin()] }),
    dialect: 'postgres',
    location: describeDatabaseUrl(databaseUrl),
    onConnectionError: () => {},
    onAnswerChange: () => {},
    onReachableAgain: () => {},
  };
  // A terminated or broken connection is an event, not a crash: the pool drops the client and
  // the next checkout opens a new one; the query in flight fails (and answers 503).
  const report = (error: Error) => handle.onConnectionError(error);
  pool.on('error', report);
  pool.on('connect', (client) => {
    client.on('error', report);
    // The timeouts are set by a statement, not as startup parameters: a connection pooler
    // (PgBouncer) refuses startup parameters it does not know, and the node could not start
    // behind one. Queued before anything else is asked on this connection.
    client.query(SESSION_SETTINGS, [String(tuning.statementTimeoutMs), String(tuning.idleInTransactionTimeoutMs)]).catch(report);
  });
  return handle;
}

/**
 * SQLite in WAL (readers beside the one writer). The busy timeout is short: a lock held by
 * another process is waited for by async retries (see sqlite-driver.ts), so the event loop
 * never stops, and cached keys answer at once while a backup or the CLI writes.
 */
export function openSqlite(file: string, lockWaitMs = DEFAULT_TUNING.sqliteLockWaitMs): Db {
  const sqlite = new SQLite(file);
  sqlite.pragma('busy_timeout = 5');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite, lockWaitMs), plugins: [new CamelCasePlugin()] });
}
