import type { Kysely, Migration } from 'kysely';

/**
 * Mail goes out through an outbox (written with the change, sent by one node, retried); people
 * choose whether they get expiry reminders; keys remember where they were found exposed; an
 * organisation chooses what a leak report does to a live key (`revoke` or only `notify`).
 */
export function mailAndExposures(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mail_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull())
        // One mail per cause and recipient, whichever node writes it first.
        .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('ref', 'text')
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text')
        .addColumn('html_body', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('locked_until', 'text')
        .addColumn('sent_at', 'text')
        .addColumn('failed_at', 'text')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['sent_at', 'failed_at', 'next_attempt_at']).execute();

      await db.schema
        .createTable('mail_preferences')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('expiry_reminders', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      // The invitation mail carries a link of its own, made when it is sent, so no link waits in the outbox.
      await db.schema.alterTable('invitations').addColumn('mail_token_hash', 'text').execute();
      await db.schema.createIndex('invitations_mail_token').on('invitations').column('mail_token_hash').execute();
      await db.schema.alterTable('api_keys').addColumn('exposed_at', 'text').execute();
      await db.schema.alterTable('api_keys').addColumn('exposed_url', 'text').execute();
      await db.schema
        .alterTable('organisations')
        .addColumn('leak_response', 'text', (c) => c.notNull().defaultTo('revoke'))
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('organisations').dropColumn('leak_response').execute();
      await db.schema.alterTable('api_keys').dropColumn('exposed_url').execute();
      await db.schema.alterTable('api_keys').dropColumn('exposed_at').execute();
      await db.schema.dropIndex('invitations_mail_token').execute();
      await db.schema.alterTable('invitations').dropColumn('mail_token_hash').execute();
      await db.schema.dropTable('mail_preferences').execute();
      await db.schema.dropTable('mail_outbox').execute();
    },
  };
}
