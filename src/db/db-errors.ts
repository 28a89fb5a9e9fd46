/**
 * Which driver errors mean "the database is unavailable for now" (answer 503 and try again),
 * as opposed to a bug (500). PostgreSQL SQLSTATEs: class 08 (connection), 53 (insufficient
 * resources), 57P01-57P03 (shut down, cannot connect now), 57014 (statement timeout), 25006
 * (read-only transaction), 55000 (database not accepting connections), 25P03 (idle-in-transaction timeout); node's socket errors; pg's own
 * connection messages. SQLite: busy, locked, I/O error, full, read-only, can't open.
 */
const PG_STATES = /^(08|53|55000$|57P0[1-3]$|57014$|25006$|25P03$|40001$|40P01$)/;
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|PROTOCOL)/;
/** The first words of every error of the guard against a database that stops answering (pg-guard.ts). */
export const NOT_ANSWERING = 'the database is not answering';
const PG_MESSAGES = [
  NOT_ANSWERING,
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end',
  'driver has already been destroyed',
  'The database connection is not open',
];

/** Why the database is unavailable, for logs and /readyz; undefined for any other error. */
/** A failure of the event listener's own connection (DATABASE_LISTEN_URL), so a start-up message names that variable. */
export class ListenConnectionError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'ListenConnectionError';
  }
}

export function databaseUnavailableReason(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : '';
    if (typeof code === 'string') {
      if (SQLITE_CODES.test(code)) return `${code}: ${message}`;
      if (NET_CODES.has(code)) return `${code}: ${message}`;
      if (/^[0-9A-Z]{5}$/.test(code) && PG_STATES.test(code)) return `${code}: ${message}`;
    }
    if (PG_MESSAGES.some((m) => message.includes(m))) return message;
  }
  return undefined;
}

/**
 * A database error as a log line shows it: `code: message` (the form of the 503 line's reason). The
 * stack of a driver's error says where the driver read the server's answer, not what asked, and an
 * outage repeats it on every retry. Undefined for any other error (a bug keeps its stack).
 */
export function conciseDatabaseError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  // pg's DatabaseError: the server's answer, with its severity and SQLSTATE.
  const fromServer = typeof (error as { severity?: unknown }).severity === 'string' && typeof code === 'string';
  if (!fromServer && !isDatabaseUnavailable(error)) return undefined;
  return typeof code === 'string' && !error.message.startsWith(code) ? `${code}: ${error.message}` : error.message;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return databaseUnavailableReason(error) !== undefined;
}

/** The network failed or nothing came back (as opposed to an answer from the database, even a refusal). */
export function isDatabaseNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && NET_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return message.includes('timeout expired') || message.includes('timeout exceeded when trying to connect') || message.includes('Connection terminated');
}

/** SQLITE_BUSY and its extended codes: another connection (the CLI, a backup, another node) holds the lock. */
export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED');
}
