import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * The event log replaces the change feed: events named for what happened, in `position`
 * order. Positions may commit out of order on PostgreSQL; readers track the gaps.
 */
export function domainEvents(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('domain_events')
        .addColumn('position', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('domain_events_occurred_at').on('domain_events').column('occurred_at').execute();
      await db.schema.dropTable('changes').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('domain_events').execute();
      await db.schema
        .createTable('changes')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('entity', 'text', (c) => c.notNull())
        .addColumn('entity_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
