import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { DatabaseHandle } from './database.js';
import { initial } from './migrations/0001-initial.js';
import { domainEvents } from './migrations/0002-domain-events.js';
import { invitationsAndDevices } from './migrations/0003-invitations-and-devices.js';

/** Migrations in order; the names are permanent once released. */
function migrations(handle: DatabaseHandle): Record<string, Migration> {
  return {
    '0001-initial': initial(handle.dialect),
    '0002-domain-events': domainEvents(handle.dialect),
    '0003-invitations-and-devices': invitationsAndDevices(),
  };
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(handle: DatabaseHandle): Promise<string[]> {
  const migrator = new Migrator({
    db: handle.db,
    provider: { getMigrations: async () => migrations(handle) },
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  const failed = result.results?.find((r) => r.status === 'Error');
  if (result.error || failed) {
    const cause = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${cause}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
