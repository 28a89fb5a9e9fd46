import { Migrator, sql, type Migration, type MigrationResultSet } from 'kysely';
import type { DatabaseHandle, Db } from './database.js';
import { initial } from './migrations/0001-initial.js';
import { domainEvents } from './migrations/0002-domain-events.js';
import { invitationsAndDevices } from './migrations/0003-invitations-and-devices.js';
import { heartbeat } from './migrations/0004-heartbeat.js';
import { webhooks } from './migrations/0006-webhooks.js';
import { mailAndExposures } from './migrations/0007-mail-and-exposures.js';
import { flows } from './migrations/0008-flows.js';

/** Migrations in order; the names are permanent once released. */
export function migrations(handle: DatabaseHandle): Record<string, Migration> {
  return {
    '0001-initial': initial(handle.dialect),
    '0002-domain-events': domainEvents(handle.dialect),
    '0003-invitations-and-devices': invitationsAndDevices(),
    '0004-heartbeat': heartbeat(),
    '0006-webhooks': webhooks(),
    '0007-mail-and-exposures': mailAndExposures(),
    '0008-flows': flows(),
  };
}

/** The PostgreSQL advisory lock every node takes while it migrates (any constant, the same everywhere). */
const MIGRATION_LOCK = 7_310_001;

/**
 * Applies every pending migration; throws with the failing migration's name. On PostgreSQL the
 * whole run is one transaction on one connection that first takes a transaction-scoped advisory
 * lock: nodes starting at once migrate one after the other (the later ones find nothing to do),
 * a failure leaves nothing half-applied, and the lock ends with the transaction, also behind a
 * pooler in transaction mode (where a session lock stays with whichever server connection took it).
 */
export async function migrateToLatest(handle: DatabaseHandle): Promise<string[]> {
  if (handle.dialect !== 'postgres') return run(handle, handle.db, false);
  return handle.db.connection().execute(async (connection) => {
    await sql`begin`.execute(connection);
    try {
      await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(connection);
      await checkCanSetUp(connection);
      const applied = await run(handle, connection, true);
      await sql`commit`.execute(connection);
      return applied;
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => {});
      throw error;
    }
  });
}

/** PostgreSQL's refusal as the migrations would have met it, said as a failed run says it. */
function refusal(code: string, message: string): Error {
  const cause = Object.assign(new Error(message), { code });
  return new Error(`migration setup failed: ${message}`, { cause });
}

/**
 * On a database never migrated, the refusals Kysely's setup would meet first (creating its own
 * tables), said before it runs: inside the run's transaction, the statement Kysely sends after a
 * failure is refused too, and its "current transaction is aborted" would hide the cause.
 */
async function checkCanSetUp(connection: Db): Promise<void> {
  const { rows } = await sql<{ setUp: boolean; readOnly: string; canCreate: boolean | null; schema: string | null }>`
    select to_regclass('kysely_migration') is not null as set_up, current_setting('transaction_read_only') as read_only,
      current_schema() as schema, has_schema_privilege(current_schema(), 'CREATE') as can_create`.execute(connection);
  const state = rows[0];
  if (!state || state.setUp) return;
  if (state.readOnly === 'on') throw refusal('25006', 'cannot execute CREATE TABLE in a read-only transaction (the database is read-only)');
  if (state.canCreate === false)
    throw refusal(
      '42501',
      `permission denied for schema ${state.schema}: the DATABASE_URL user needs CREATE on it (GRANT CREATE ON SCHEMA ${state.schema} TO …)`,
    );
}

/**
 * Each migration in a savepoint of the caller's transaction: one that fails is undone alone, so
 * the transaction can still answer Kysely's next statements and the failure keeps its own message
 * (not "current transaction is aborted"); the caller then rolls the whole run back.
 */
function inSavepoints(all: Record<string, Migration>): Record<string, Migration> {
  const wrapped: Record<string, Migration> = {};
  for (const [name, migration] of Object.entries(all)) {
    wrapped[name] = {
      up: async (db) => {
        await sql`savepoint migration`.execute(db);
        try {
          await migration.up(db);
        } catch (error) {
          await sql`rollback to savepoint migration`.execute(db);
          throw error;
        }
        await sql`release savepoint migration`.execute(db);
      },
    };
  }
  return wrapped;
}

/** `inTransaction`: the caller's transaction holds the run (Kysely then opens none of its own). */
async function run(handle: DatabaseHandle, db: Db, inTransaction: boolean): Promise<string[]> {
  const migrator = new Migrator({
    db,
    disableTransactions: inTransaction,
    provider: { getMigrations: async () => (inTransaction ? inSavepoints(migrations(handle)) : migrations(handle)) },
    // Parts are built on branches side by side: a migration numbered below one already applied still runs.
    allowUnorderedMigrations: true,
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  const failed = result.results?.find((r) => r.status === 'Error');
  if (result.error || failed) {
    const error = result.error instanceof Error ? result.error : new Error(String(result.error));
    throw new Error(`migration ${failed?.migrationName ?? 'setup'} failed: ${error.message}`, { cause: error });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
