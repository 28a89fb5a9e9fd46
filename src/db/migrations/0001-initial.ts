import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

/** The first schema: organisations, people, keys, usage, audit and the change feed. */
export function initial(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('organisations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('subscriptions')
        .addColumn('org_id', 'text', (c) => c.primaryKey().references('organisations.id').onDelete('cascade'))
        .addColumn('plan', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('period_start', 'text', (c) => c.notNull())
        .addColumn('period_end', 'text')
        .addColumn('overrides', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('deactivated_at', 'text')
        .execute();
      await db.schema.createIndex('users_org').on('users').columns(['org_id', 'created_at']).execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

      await db.schema
        .createTable('invitations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('accepted_at', 'text')
        .addColumn('accepted_by', 'text')
        .execute();
      await db.schema.createIndex('invitations_org').on('invitations').columns(['org_id', 'created_at']).execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('start', 'text', (c) => c.notNull())
        .addColumn('last4', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('environment', 'text')
        .addColumn('team', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('last_used_at', 'text')
        .addColumn('suspended_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_by', 'text')
        .addColumn('deleted_at', 'text')
        .addColumn('replaces_key_id', 'text')
        .addColumn('replaced_by_key_id', 'text')
        .addColumn('grace_ends_at', 'text')
        .addColumn('expiry_recorded_at', 'text')
        .execute();
      await db.schema.createIndex('api_keys_org').on('api_keys').columns(['org_id', 'created_at']).execute();
      await db.schema.createIndex('api_keys_expiry').on('api_keys').columns(['expires_at']).execute();

      await db.schema
        .createTable('key_usage_daily')
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('action_type', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('key_usage_daily_pk', ['key_id', 'day', 'operation', 'action_type', 'outcome'])
        .execute();
      await db.schema.createIndex('key_usage_org_day').on('key_usage_daily').columns(['org_id', 'day']).execute();

      await db.schema
        .createTable('key_flows')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('workflow_name', 'text')
        .addColumn('workflow_id', 'text')
        .addColumn('last_run_id', 'text')
        .addColumn('location', 'text')
        .addColumn('client_environment_id', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('label', 'text')
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('calls', 'integer', (c) => c.notNull())
        .addColumn('last_outcome', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('key_flows_key').on('key_flows').columns(['key_id', 'last_seen_at']).execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('timestamp', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('user_email', 'text')
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('severity', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_org_time').on('audit_log').columns(['org_id', 'timestamp']).execute();
      await db.schema.createIndex('audit_resource').on('audit_log').columns(['org_id', 'resource_id']).execute();

      await db.schema
        .createTable('changes')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('entity', 'text', (c) => c.notNull())
        .addColumn('entity_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const table of [
        'changes',
        'audit_log',
        'key_flows',
        'key_usage_daily',
        'api_keys',
        'invitations',
        'sessions',
        'users',
        'subscriptions',
        'organisations',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
