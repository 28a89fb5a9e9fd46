import type { Kysely, Migration } from 'kysely';

/** One row per node, rewritten by `/readyz`: proves the database accepts writes, not only reads. */
export function heartbeat(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('node_heartbeats')
        .addColumn('node_id', 'text', (c) => c.primaryKey())
        .addColumn('beat_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('node_heartbeats').execute();
    },
  };
}
