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
 * Applies every pending migration; throws with the failing migration's name. On PostgreSQL
 * nodes starting at once migrate one after the other (a session advisory lock around the whole
 * run, including the creation of Kysely's own tables); the later ones find nothing to do.
 */
export async function migrateToLatest(handle: DatabaseHandle): Promise<string[]> {
  if (handle.dialect !== 'postgres') return run(handle, handle.db);
  return handle.db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(connection);
    try {
      return await run(handle, connection);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(connection).catch(() => {});
    }
  });
}

async function run(handle: DatabaseHandle, db: Db): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(handle) },
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
