import { type Kysely, type Migration, sql } from 'kysely';
import { sha256Hex } from '../../lib/hash.js';

/** The id of a flow: the organisation, environment and workflow name digested (the same as `flows.repository`'s `flowIdOf`). */
function flowIdOf(orgId: string, environmentId: string | null, workflowName: string): string {
  return `flw_${sha256Hex(`${orgId}\n${environmentId ?? ''}\n${workflowName}`).slice(0, 24)}`;
}

/** A `key_flows` row as read through the CamelCasePlugin. */
interface OldFlowRow {
  keyId: string;
  orgId: string;
  workflowName: string | null;
  workflowId: string | null;
  lastRunId: string | null;
  location: string | null;
  clientEnvironmentId: string | null;
  userAgent: string | null;
  label: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  calls: number | string;
  lastOutcome: string;
}

/**
 * Flows become the organisation's inventory (CONTRACT §10): `flows` holds one row per
 * organisation, environment and `x-ms-workflow-name`, with its label; `flow_keys` the keys each
 * flow has called. Rows of `key_flows` with a workflow name move over (their labels kept; one
 * flow called through several keys becomes one flow with several keys); rows without one were
 * Power Apps or clients calling directly, which now count as the key's direct calls only.
 * Keys remember whether a rotation should revoke them once drained.
 */
export function flows(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('flows')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('workflow_name', 'text', (c) => c.notNull())
        .addColumn('environment_id', 'text')
        .addColumn('workflow_id', 'text')
        .addColumn('label', 'text')
        .addColumn('location', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('calls', 'integer', (c) => c.notNull())
        .addColumn('last_outcome', 'text', (c) => c.notNull())
        .addColumn('last_run_id', 'text')
        .execute();
      await db.schema.createIndex('flows_org_seen').on('flows').columns(['org_id', 'last_seen_at']).execute();

      await db.schema
        .createTable('flow_keys')
        .addColumn('flow_id', 'text', (c) => c.notNull().references('flows.id').onDelete('cascade'))
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('calls', 'integer', (c) => c.notNull())
        .addColumn('last_outcome', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('flow_keys_pk', ['flow_id', 'key_id'])
        .execute();
      await db.schema.createIndex('flow_keys_key').on('flow_keys').columns(['key_id', 'last_seen_at']).execute();

      await db.schema
        .alterTable('api_keys')
        .addColumn('revoke_when_drained', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();

      // Oldest first, so the latest sighting of a flow decides its details.
      const { rows } = await sql<OldFlowRow>`select * from key_flows where workflow_name is not null order by last_seen_at, id`.execute(db);
      const merged = new Map<string, Record<string, unknown>>();
      const links = new Map<string, Record<string, unknown>>();
      for (const row of rows) {
        const name = row.workflowName!;
        const id = flowIdOf(row.orgId, row.clientEnvironmentId, name);
        const calls = Number(row.calls);
        const flow = merged.get(id);
        if (!flow) {
          merged.set(id, {
            id,
            orgId: row.orgId,
            workflowName: name,
            environmentId: row.clientEnvironmentId,
            workflowId: row.workflowId,
            label: row.label,
            location: row.location,
            userAgent: row.userAgent,
            firstSeenAt: row.firstSeenAt,
            lastSeenAt: row.lastSeenAt,
            calls,
            lastOutcome: row.lastOutcome,
            lastRunId: row.lastRunId,
          });
        } else {
          flow.calls = (flow.calls as number) + calls;
          if (row.firstSeenAt < (flow.firstSeenAt as string)) flow.firstSeenAt = row.firstSeenAt;
          flow.lastSeenAt = row.lastSeenAt;
          flow.lastOutcome = row.lastOutcome;
          flow.lastRunId = row.lastRunId ?? flow.lastRunId;
          flow.workflowId = row.workflowId ?? flow.workflowId;
          flow.location = row.location ?? flow.location;
          flow.userAgent = row.userAgent ?? flow.userAgent;
          // The label someone gave most recently wins.
          flow.label = row.label ?? flow.label;
        }
        const linkId = `${id}\n${row.keyId}`;
        const link = links.get(linkId);
        if (!link) {
          links.set(linkId, {
            flowId: id,
            keyId: row.keyId,
            orgId: row.orgId,
            firstSeenAt: row.firstSeenAt,
            lastSeenAt: row.lastSeenAt,
            calls,
            lastOutcome: row.lastOutcome,
          });
        } else {
          link.calls = (link.calls as number) + calls;
          if (row.firstSeenAt < (link.firstSeenAt as string)) link.firstSeenAt = row.firstSeenAt;
          link.lastSeenAt = row.lastSeenAt;
          link.lastOutcome = row.lastOutcome;
        }
      }
      const flowRows = [...merged.values()];
      for (let i = 0; i < flowRows.length; i += 200)
        await db
          .insertInto('flows')
          .values(flowRows.slice(i, i + 200))
          .execute();
      const linkRows = [...links.values()];
      for (let i = 0; i < linkRows.length; i += 200)
        await db
          .insertInto('flow_keys')
          .values(linkRows.slice(i, i + 200))
          .execute();

      await db.schema.dropTable('key_flows').execute();
    },
    async down(db: Kysely<any>) {
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
      await db.schema.alterTable('api_keys').dropColumn('revoke_when_drained').execute();
      await db.schema.dropTable('flow_keys').execute();
      await db.schema.dropTable('flows').execute();
    },
  };
}
