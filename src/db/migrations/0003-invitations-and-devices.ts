import type { Kysely, Migration } from 'kysely';

/** Invitations can be revoked and resent; devices a person signed in from are remembered (by hash). */
export function invitationsAndDevices(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('invitations').addColumn('revoked_at', 'text').execute();
      await db.schema.alterTable('invitations').addColumn('revoked_reason', 'text').execute();
      await db.schema
        .createTable('known_devices')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('known_devices_user').on('known_devices').column('user_id').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('known_devices').execute();
      await db.schema.alterTable('invitations').dropColumn('revoked_reason').execute();
      await db.schema.alterTable('invitations').dropColumn('revoked_at').execute();
    },
  };
}
