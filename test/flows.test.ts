import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest, migrations } from '../src/db/migrate.js';
import { ManualClock, MINUTE } from '../src/lib/clock.js';
import { PASSWORD, callGateway, cookieOf, createKey, expectProblem, signup, startTestApp, type Session, type TestApp } from './support/harness.js';
import { createTestDatabase, onPostgres } from './support/postgres.js';

const ENV = 'Default-26e65220-5561-46ef-9783-ce5f20489241';

/** The headers Power Automate sends for a flow run. */
function flow(name: string, environment: string | null = ENV): Record<string, string> {
  return {
    'x-ms-workflow-name': name,
    'x-ms-workflow-run-id': `run-${name}`,
    ...(environment ? { 'x-ms-client-environment-id': environment } : {}),
  };
}

async function api(t: TestApp, who: Session, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: Record<string, unknown>) {
  return t.app.inject({ method, url, headers: { cookie: who.cookie }, ...(payload ? { payload } : {}) });
}

async function callAs(t: TestApp, secret: string, headers: Record<string, string> = {}) {
  const response = await callGateway(t, secret, headers);
  expect(response.statusCode, response.body).toBe(200);
  await t.services.usage.flush();
}

describe('flows are the organisation’s inventory, across keys', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signup(t, 'Inventory Ltd');
  });
  afterAll(() => t?.close());

  it('a flow keeps its label across a rotation and lists both keys it used', async () => {
    const old = await createKey(t, admin, { name: 'prod-invoices-flow-finance' });
    await callAs(t, old.secret, flow('invoice-approval'));
    const listed = (await api(t, admin, 'GET', `/api/flows?keyId=${old.id}`)).json();
    expect(listed.total).toBe(1);
    const flowId = listed.items[0].id;
    const labelled = await api(t, admin, 'PATCH', `/api/flows/${flowId}`, { label: 'Invoice approval' });
    expect(labelled.statusCode, labelled.body).toBe(200);
    expect(labelled.json()).toMatchObject({ id: flowId, label: 'Invoice approval' });

    const rotated = await api(t, admin, 'POST', `/api/keys/${old.id}/rotate`, {});
    expect(rotated.statusCode).toBe(201);
    const successor = rotated.json();
    await callAs(t, successor.secret, flow('invoice-approval'));

    const one = (await api(t, admin, 'GET', `/api/flows/${flowId}`)).json();
    expect(one).toMatchObject({
      id: flowId,
      label: 'Invoice approval',
      workflowName: 'invoice-approval',
      environmentId: ENV,
      calls: 2,
      detailsUrl: `https://make.powerautomate.com/environments/${ENV}/flows/invoice-approval/details`,
    });
    expect(one.keys.map((k: { keyId: string }) => k.keyId)).toEqual([successor.key.id, old.id]);
    // Both keys share a name: their last four characters and the old key's successor tell them apart.
    expect(one.keys).toEqual([
      expect.objectContaining({
        name: 'prod-invoices-flow-finance',
        last4: successor.secret.slice(-4),
        status: 'active',
        replacedByKeyId: null,
        graceEndsAt: null,
      }),
      expect.objectContaining({
        name: 'prod-invoices-flow-finance',
        last4: old.secret.slice(-4),
        status: 'active',
        replacedByKeyId: successor.key.id,
        graceEndsAt: null,
      }),
    ]);
    // The same flow on each key's own list, with the label given once.
    for (const keyId of [old.id, successor.key.id]) {
      const ofKey = (await api(t, admin, 'GET', `/api/keys/${keyId}/flows`)).json();
      expect(ofKey.items).toEqual([expect.objectContaining({ id: flowId, label: 'Invoice approval', calls: 1 })]);
    }
    expect((await api(t, admin, 'GET', `/api/keys/${successor.key.id}`)).json().flowCount).toBe(1);

    const audit = (await api(t, admin, 'GET', `/api/audit?resourceId=${flowId}`)).json();
    expect(audit.items).toEqual([expect.objectContaining({ eventType: 'flow.labelled', details: expect.objectContaining({ to: 'Invoice approval' }) })]);
  });

  it('one flush merges a flow’s calls through several keys: counts add up, the latest call decides its details, older calls fill what it left empty', async () => {
    const keys = [
      await createKey(t, admin, { name: 'merge-a' }),
      await createKey(t, admin, { name: 'merge-b' }),
      await createKey(t, admin, { name: 'merge-c' }),
    ];
    const at = Date.parse('2026-03-02T10:00:00.000Z');
    const call = (
      key: number,
      afterMs: number,
      outcome: 'success' | 'client_error' | 'rejected',
      details: { runId?: string; location?: string; workflowId?: string },
    ) =>
      t.services.usage.record({
        keyId: keys[key]!.id,
        orgId: admin.orgId,
        at: at + afterMs,
        operation: 'CheckConnection',
        actionType: 'none',
        outcome,
        accepted: outcome !== 'rejected',
        flow: {
          workflowName: 'merge-flow',
          workflowId: details.workflowId ?? null,
          runId: details.runId ?? null,
          location: details.location ?? null,
          clientEnvironmentId: ENV,
          userAgent: null,
        },
      });
    // Handed to the flush out of time order; the refused call comes before the accepted one that makes the flow.
    call(1, 20_000, 'client_error', {});
    call(2, 10_000, 'rejected', { runId: 'run-middle' });
    call(0, 0, 'success', { runId: 'run-oldest', location: 'westeurope', workflowId: 'wf-1' });
    await t.services.usage.flush();

    const rows = await t.services.db.selectFrom('flows').selectAll().where('workflowName', '=', 'merge-flow').execute();
    expect(rows).toEqual([
      expect.objectContaining({
        calls: 3,
        firstSeenAt: '2026-03-02T10:00:00.000Z',
        lastSeenAt: '2026-03-02T10:00:20.000Z',
        lastOutcome: 'client_error',
        lastRunId: 'run-middle',
        location: 'westeurope',
        workflowId: 'wf-1',
      }),
    ]);
    const links = await t.services.db
      .selectFrom('flowKeys')
      .select(['keyId', 'calls', 'lastOutcome'])
      .where('flowId', '=', rows[0]!.id)
      .orderBy('lastSeenAt')
      .execute();
    expect(links).toEqual([
      { keyId: keys[0]!.id, calls: 1, lastOutcome: 'success' },
      { keyId: keys[2]!.id, calls: 1, lastOutcome: 'rejected' },
      { keyId: keys[1]!.id, calls: 1, lastOutcome: 'client_error' },
    ]);
  });

  it('calls without x-ms-workflow-name (the portal’s connection test, scripts, Power Apps) make no flow', async () => {
    const key = await createKey(t, admin, { name: 'prod-direct-flow-ops' });
    await callAs(t, key.secret);
    await callAs(t, key.secret, { 'user-agent': 'curl/8.0', 'x-ms-client-environment-id': ENV });
    const flows = (await api(t, admin, 'GET', `/api/flows?keyId=${key.id}`)).json();
    expect(flows.total).toBe(0);
    expect((await api(t, admin, 'GET', `/api/keys/${key.id}/flows`)).json().total).toBe(0);
    const usage = (await api(t, admin, 'GET', `/api/keys/${key.id}/usage`)).json();
    expect(usage.totals.success).toBe(2);
  });

  it('filters by key, environment and "still on a revoked or expiring key", and pages', async () => {
    const other = await signup(t, 'Filters Ltd');
    const a = await createKey(t, other, { name: 'prod-a-flow-ops' });
    const b = await createKey(t, other, { name: 'prod-b-flow-ops' });
    await callAs(t, a.secret, flow('flow-one'));
    await callAs(t, a.secret, flow('flow-two', 'env-test'));
    await callAs(t, b.secret, flow('flow-three'));
    await callAs(t, b.secret, flow('flow-four', null));

    const all = (await api(t, other, 'GET', '/api/flows')).json();
    expect(all.total).toBe(4);
    expect(
      (await api(t, other, 'GET', `/api/flows?keyId=${a.id}`))
        .json()
        .items.map((f: { workflowName: string }) => f.workflowName)
        .sort(),
    ).toEqual(['flow-one', 'flow-two']);
    const test = (await api(t, other, 'GET', '/api/flows?environment=env-test')).json();
    expect(test.items.map((f: { workflowName: string }) => f.workflowName)).toEqual(['flow-two']);
    // No environment, no link to Power Automate.
    expect(all.items.find((f: { workflowName: string }) => f.workflowName === 'flow-four').detailsUrl).toBeNull();

    expect((await api(t, other, 'GET', '/api/flows?onRevokedOrExpiring=true')).json().total).toBe(0);
    expect((await api(t, other, 'POST', `/api/keys/${b.id}/revoke`)).statusCode).toBe(200);
    const stranded = (await api(t, other, 'GET', '/api/flows?onRevokedOrExpiring=true')).json();
    expect(stranded.items.map((f: { workflowName: string }) => f.workflowName).sort()).toEqual(['flow-four', 'flow-three']);
    expect(stranded.items.every((f: { onRevokedOrExpiring: boolean }) => f.onRevokedOrExpiring)).toBe(true);

    const first = (await api(t, other, 'GET', '/api/flows?limit=3&offset=0')).json();
    const second = (await api(t, other, 'GET', '/api/flows?limit=3&offset=3')).json();
    expect([first.total, first.items.length, second.items.length]).toEqual([4, 3, 1]);
    expect(new Set([...first.items, ...second.items].map((f: { id: string }) => f.id)).size).toBe(4);
  });

  it('another organisation’s flow or key is a 404, and its label stays', async () => {
    const key = await createKey(t, admin, { name: 'prod-private-flow-ops' });
    await callAs(t, key.secret, flow('private-flow'));
    const flowId = (await api(t, admin, 'GET', `/api/flows?keyId=${key.id}`)).json().items[0].id;
    const stranger = await signup(t, 'Stranger Ltd');
    expectProblem(await api(t, stranger, 'GET', `/api/flows/${flowId}`), 404, 'not_found');
    expectProblem(await api(t, stranger, 'PATCH', `/api/flows/${flowId}`, { label: 'Mine now' }), 404, 'not_found');
    expectProblem(await api(t, stranger, 'GET', `/api/flows?keyId=${key.id}`), 404, 'not_found');
    expectProblem(await api(t, stranger, 'GET', `/api/keys/${key.id}/rotation`), 404, 'not_found');
    expect((await api(t, stranger, 'GET', '/api/flows')).json().total).toBe(0);
    expect((await api(t, admin, 'GET', `/api/flows/${flowId}`)).json().label).toBeNull();
  });
});

describe('the rotation assistant', () => {
  let t: TestApp | undefined;
  let second: Awaited<ReturnType<typeof buildApp>> | undefined;
  afterEach(async () => {
    await second?.app.close();
    second = undefined;
    await t?.close();
    t = undefined;
  });

  it('flows move one by one; safe to revoke once every recent flow moved and the old key was quiet for 15 minutes', async () => {
    const clock = new ManualClock('2026-01-21T09:00:00.000Z');
    t = await startTestApp({ clock });
    let admin = await signup(t, 'Rotation Ltd');
    const old = await createKey(t, admin, { name: 'prod-rotation-flow-finance' });
    // A flow that last ran 40 days ago does not hold the rotation up.
    await callAs(t, old.secret, flow('yearly-report'));
    clock.set('2026-03-02T09:00:00.000Z');
    const signedIn = await t.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { email: admin.email, password: PASSWORD } });
    admin = { ...admin, cookie: cookieOf(signedIn) };
    await callAs(t, old.secret, flow('orders'));
    await callAs(t, old.secret, flow('refunds'));

    const rotated = await api(t, admin, 'POST', `/api/keys/${old.id}/rotate`, { graceHours: 48 });
    const successor = rotated.json();
    const status = async (keyId: string) => {
      const response = await api(t!, admin, 'GET', `/api/keys/${keyId}/rotation`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
    let state = await status(old.id);
    expect(state).toMatchObject({
      predecessorId: old.id,
      predecessorLast4: old.secret.slice(-4),
      successorId: successor.key.id,
      successorLast4: successor.secret.slice(-4),
      graceEndsAt: '2026-03-04T09:00:00.000Z',
      revokeWhenDrained: false,
      safeToRevoke: false,
    });
    expect(state.flows.map((f: { workflowName: string; moved: boolean }) => [f.workflowName, f.moved]).sort()).toEqual([
      ['orders', false],
      ['refunds', false],
    ]);
    // The same answer from the new key.
    expect(await status(successor.key.id)).toEqual(state);

    clock.advance(5 * MINUTE);
    await callAs(t, successor.secret, flow('orders'));
    state = await status(old.id);
    const orders = state.flows.find((f: { workflowName: string }) => f.workflowName === 'orders');
    expect(orders).toMatchObject({ moved: true, lastSeenOnOld: '2026-03-02T09:00:00.000Z', lastSeenOnNew: '2026-03-02T09:05:00.000Z' });
    expect(state.safeToRevoke).toBe(false);

    clock.advance(5 * MINUTE);
    await callAs(t, successor.secret, flow('refunds'));
    state = await status(old.id);
    expect(state.flows.every((f: { moved: boolean }) => f.moved)).toBe(true);
    // Every flow moved, but a direct call on the old key 10 minutes ago: not yet.
    await callAs(t, old.secret);
    expect((await status(old.id)).safeToRevoke).toBe(false);
    clock.advance(15 * MINUTE);
    expect((await status(old.id)).safeToRevoke).toBe(true);
    // A flow that calls the old key again makes it unsafe until it is quiet again.
    await callAs(t, old.secret, flow('orders'));
    expect((await status(old.id)).safeToRevoke).toBe(false);

    const notRotated = await createKey(t, admin, { name: 'prod-plain-flow-finance' });
    expectProblem(await api(t, admin, 'GET', `/api/keys/${notRotated.id}/rotation`), 404, 'not_found');
  });

  it('revokeWhenDrained revokes the old key exactly once when drained, even with two app instances on one database', async () => {
    const clock = new ManualClock('2026-03-02T09:00:00.000Z');
    t = await startTestApp({ clock });
    second = await buildApp({ config: t.config, clock });
    const admin = await signup(t, 'Drain Ltd');
    const old = await createKey(t, admin, { name: 'prod-drain-flow-finance' });
    await callAs(t, old.secret, flow('payroll'));
    const rotated = await api(t, admin, 'POST', `/api/keys/${old.id}/rotate`, { graceHours: 72, revokeWhenDrained: true });
    const successor = rotated.json();
    expect((await api(t, admin, 'GET', `/api/keys/${old.id}/rotation`)).json().revokeWhenDrained).toBe(true);

    // Not drained yet: the job leaves it alone.
    expect(await t.services.rotation.revokeDrainedKeys()).toBe(0);
    await callAs(t, successor.secret, flow('payroll'));
    clock.advance(16 * MINUTE);
    const results = await Promise.all([t.services.rotation.revokeDrainedKeys(), second.services.rotation.revokeDrainedKeys()]);
    expect(results.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await t.services.rotation.revokeDrainedKeys()).toBe(0);

    const key = (await api(t, admin, 'GET', `/api/keys/${old.id}`)).json();
    expect(key.status).toBe('revoked');
    expect((await callGateway(t, old.secret)).json().code).toBe('api_key_revoked');
    const audit = (await api(t, admin, 'GET', `/api/audit?resourceId=${old.id}&eventType=key.revoked`)).json();
    expect(audit.items).toEqual([expect.objectContaining({ action: 'revoke', details: expect.objectContaining({ reason: 'drained' }) })]);
    const events = await t.services.db.selectFrom('domainEvents').select('data').where('type', '=', 'api_key.revoked').execute();
    expect(events.filter((e) => JSON.parse(e.data).key.id === old.id)).toHaveLength(1);
  });

  it('revokeWhenDrained revokes at graceEndsAt even if a flow never moved; it can be switched off', async () => {
    const clock = new ManualClock('2026-03-02T09:00:00.000Z');
    t = await startTestApp({ clock });
    const admin = await signup(t, 'Grace Ltd');
    const old = await createKey(t, admin, { name: 'prod-grace-flow-finance' });
    const kept = await createKey(t, admin, { name: 'prod-kept-flow-finance' });
    await callAs(t, old.secret, flow('stubborn'));
    await callAs(t, kept.secret, flow('stubborn-too'));
    await api(t, admin, 'POST', `/api/keys/${old.id}/rotate`, { graceHours: 2, revokeWhenDrained: true });
    await api(t, admin, 'POST', `/api/keys/${kept.id}/rotate`, { graceHours: 2, revokeWhenDrained: true });
    const off = await api(t, admin, 'PATCH', `/api/keys/${kept.id}/rotation`, { revokeWhenDrained: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().revokeWhenDrained).toBe(false);

    clock.advance(60 * MINUTE);
    expect(await t.services.rotation.revokeDrainedKeys()).toBe(0);
    clock.advance(61 * MINUTE);
    expect(await t.services.rotation.revokeDrainedKeys()).toBe(1);
    const audit = (await api(t, admin, 'GET', `/api/audit?resourceId=${old.id}&eventType=key.revoked`)).json();
    expect(audit.items).toEqual([expect.objectContaining({ details: expect.objectContaining({ reason: 'grace_ended' }) })]);
    // The switched-off rotation's key stopped at its grace end, but nobody wrote a revocation.
    expect((await api(t, admin, 'GET', `/api/audit?resourceId=${kept.id}&eventType=key.revoked`)).json().items).toEqual([]);
  });
});

describe('migration 0008 moves key_flows into the inventory', () => {
  it('rows with a workflow name become flows (labels kept, one flow across keys); the others are direct calls', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bdoc-flows-migration-'));
    const database = onPostgres ? await createTestDatabase('flows_migration') : undefined;
    const handle = openDatabase({ dataDir, databaseUrl: database?.url });
    try {
      const migrator = new Migrator({ db: handle.db, provider: { getMigrations: async () => migrations(handle) } });
      const before = await migrator.migrateTo('0007-mail-and-exposures');
      expect(before.error).toBeUndefined();
      await sql`insert into organisations (id, name, created_at) values ('org_m', 'Migrated', '2026-01-01T00:00:00.000Z')`.execute(handle.db);
      const row = (id: string, key: string, name: string | null, label: string | null, seen: string, calls: number) =>
        sql`insert into key_flows (id, key_id, org_id, workflow_name, workflow_id, last_run_id, location, client_environment_id, user_agent, label, first_seen_at, last_seen_at, calls, last_outcome)
          values (${id}, ${key}, 'org_m', ${name}, null, 'run', 'westeurope', ${name ? ENV : null}, 'azure-logic-apps/1.0', ${label}, ${seen}, ${seen}, ${calls}, 'success')`.execute(
          handle.db,
        );
      await row('flw_1', 'key_old', 'orders', 'Orders flow', '2026-01-02T00:00:00.000Z', 5);
      await row('flw_2', 'key_new', 'orders', null, '2026-01-03T00:00:00.000Z', 2);
      await row('flw_3', 'key_old', 'refunds', null, '2026-01-02T00:00:00.000Z', 1);
      await row('flw_4', 'key_old', null, null, '2026-01-02T00:00:00.000Z', 9);

      expect(await migrateToLatest(handle)).toEqual(['0008-flows']);
      const flowRows = await handle.db
        .selectFrom('flows')
        .select(['workflowName', 'label', 'calls', 'environmentId', 'lastSeenAt'])
        .orderBy('workflowName')
        .execute();
      expect(flowRows).toEqual([
        { workflowName: 'orders', label: 'Orders flow', calls: 7, environmentId: ENV, lastSeenAt: '2026-01-03T00:00:00.000Z' },
        { workflowName: 'refunds', label: null, calls: 1, environmentId: ENV, lastSeenAt: '2026-01-02T00:00:00.000Z' },
      ]);
      const links = await handle.db.selectFrom('flowKeys').select(['keyId', 'calls']).orderBy('keyId').orderBy('calls').execute();
      expect(links).toEqual([
        { keyId: 'key_new', calls: 2 },
        { keyId: 'key_old', calls: 1 },
        { keyId: 'key_old', calls: 5 },
      ]);
      await expect(sql`select count(*) from key_flows`.execute(handle.db)).rejects.toThrow();
    } finally {
      await handle.db.destroy();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
