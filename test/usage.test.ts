import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { ManualClock } from '../src/lib/clock.js';
import { loadConfig } from '../src/config.js';
import { addMember, callGateway, createKey, signup, startTestApp, TEST_WEBHOOK_SECRET_KEY, type Session, type TestApp } from './support/harness.js';

const FLOW_HEADERS = {
  'x-ms-workflow-name': '5a1c1f2e-8d7b-4c47-9d3a-0f6f2d1e9b10',
  'x-ms-workflow-id': '/workflows/5a1c1f2e8d7b4c479d3a0f6f2d1e9b10',
  'x-ms-workflow-run-id': '08584657881234567890',
  'x-ms-execution-location': 'westeurope',
  'user-agent': 'azure-logic-apps/1.0 (workflow 5a1c1f2e; version 0858)',
};

describe('usage is recorded per key, day, operation, outcome and flow', () => {
  let t: TestApp;
  afterEach(() => t?.close());

  it('counts a concurrent burst exactly, including refused requests, without a write on the request path', async () => {
    t = await startTestApp({ env: { USAGE_FLUSH_MS: '1000' } });
    const admin = await signup(t, 'Burst Inc');
    // The flush timer is paused, so that on a slow machine a tick during the burst cannot hide
    // whether the requests themselves wrote anything.
    await t.services.usage.stop();
    const { id, secret } = await createKey(t, admin, { name: 'prod-burst-flow-ops' });
    const burst = await Promise.all(Array.from({ length: 300 }, () => callGateway(t, secret, FLOW_HEADERS)));
    expect(burst.every((r) => r.statusCode === 200)).toBe(true);
    // Still in memory: the requests wrote nothing.
    const before = await t.services.db.selectFrom('keyUsageDaily').selectAll().where('keyId', '=', id).execute();
    expect(before).toEqual([]);
    expect(t.services.usage.pending).toBeGreaterThan(0);

    await t.app.inject({ method: 'POST', url: `/api/keys/${id}/suspend`, headers: { cookie: admin.cookie } });
    const refused = await Promise.all(Array.from({ length: 40 }, () => callGateway(t, secret, FLOW_HEADERS)));
    expect(refused.every((r) => r.json().code === 'api_key_suspended')).toBe(true);
    await t.services.usage.flush();

    const usage = (await t.app.inject({ method: 'GET', url: `/api/keys/${id}/usage`, headers: { cookie: admin.cookie } })).json();
    expect(usage.totals).toEqual({ success: 300, client_error: 0, server_error: 0, rejected: 40 });
    expect(usage.items).toEqual([
      expect.objectContaining({ operation: 'CheckConnection', actionType: 'none', outcome: 'rejected', count: 40 }),
      expect.objectContaining({ operation: 'CheckConnection', actionType: 'none', outcome: 'success', count: 300 }),
    ]);

    const flows = (await t.app.inject({ method: 'GET', url: `/api/keys/${id}/flows`, headers: { cookie: admin.cookie } })).json();
    expect(flows.total).toBe(1);
    expect(flows.items[0]).toMatchObject({
      workflowName: FLOW_HEADERS['x-ms-workflow-name'],
      workflowId: FLOW_HEADERS['x-ms-workflow-id'],
      lastRunId: FLOW_HEADERS['x-ms-workflow-run-id'],
      location: 'westeurope',
      userAgent: FLOW_HEADERS['user-agent'],
      calls: 340,
      lastOutcome: 'rejected',
      callingDeadKey: true,
    });
  });

  it('flows taking turns on one key, and one flow name in two environments, each count on their own flow, across flushes', async () => {
    t = await startTestApp();
    const admin = await signup(t, 'Turns Inc');
    await t.services.usage.stop();
    const { id, secret } = await createKey(t, admin, { name: 'prod-turns-flow-ops' });
    const flow = (name: string, environment?: string, run = 'run-1') => ({
      'x-ms-workflow-name': name,
      'x-ms-workflow-run-id': run,
      ...(environment ? { 'x-ms-client-environment-id': environment } : {}),
    });
    const calls = [
      ...[1, 2, 3].map((run) => flow('invoice-flow', undefined, `inv-${run}`)),
      flow('report-flow'),
      flow('invoice-flow', undefined, 'inv-4'),
      'flush',
      // The same flow as the last call before the flush: it counts on a row of the new buffer.
      flow('invoice-flow', undefined, 'inv-5'),
      flow('report-flow'),
      flow('report-flow', 'env-test'),
      flow('report-flow', 'env-test'),
      flow('report-flow'),
    ] as const;
    for (const headers of calls) {
      if (headers === 'flush') await t.services.usage.flush();
      else expect((await callGateway(t, secret, headers)).statusCode).toBe(200);
    }
    await t.services.usage.flush();
    const rows = await t.services.db
      .selectFrom('flowKeys')
      .innerJoin('flows', 'flows.id', 'flowKeys.flowId')
      .select(['flows.workflowName', 'flows.environmentId', 'flows.lastRunId', 'flowKeys.calls'])
      .where('flowKeys.keyId', '=', id)
      .execute();
    const byFlow = (row: { workflowName: string; environmentId: string | null }) => `${row.workflowName} ${row.environmentId ?? ''}`;
    expect(rows.map((row) => ({ ...row, calls: Number(row.calls) })).sort((x, y) => byFlow(x).localeCompare(byFlow(y)))).toEqual([
      { workflowName: 'invoice-flow', environmentId: null, lastRunId: 'inv-5', calls: 5 },
      { workflowName: 'report-flow', environmentId: null, lastRunId: 'run-1', calls: 3 },
      { workflowName: 'report-flow', environmentId: 'env-test', lastRunId: 'run-1', calls: 2 },
    ]);
  });

  it('lastUsedAt moves forward on accepted requests only', async () => {
    t = await startTestApp();
    const admin = await signup(t, 'Last Used Ltd');
    const { id, secret } = await createKey(t, admin, { name: 'prod-last-used-ops' });
    await callGateway(t, secret);
    await t.services.usage.flush();
    const used = (await t.app.inject({ method: 'GET', url: `/api/keys/${id}`, headers: { cookie: admin.cookie } })).json().lastUsedAt;
    expect(used).toEqual(expect.any(String));
    await t.app.inject({ method: 'POST', url: `/api/keys/${id}/suspend`, headers: { cookie: admin.cookie } });
    await new Promise((r) => setTimeout(r, 5));
    await callGateway(t, secret);
    await t.services.usage.flush();
    expect((await t.app.inject({ method: 'GET', url: `/api/keys/${id}`, headers: { cookie: admin.cookie } })).json().lastUsedAt).toBe(used);
  });

  it("writes a key's lastUsedAt at its first call, then at most once a minute, never losing the last call", async () => {
    const clock = new ManualClock('2026-03-02T09:00:00.000Z');
    t = await startTestApp({ clock, env: { USAGE_FLUSH_MS: '1000' } });
    const admin = await signup(t, 'Busy Key Ltd');
    await t.services.usage.stop(); // flushed by hand below
    const { id, secret } = await createKey(t, admin, { name: 'prod-busy-flow-ops' });
    const written = async () => (await t.services.db.selectFrom('apiKeys').select('lastUsedAt').where('id', '=', id).executeTakeFirstOrThrow()).lastUsedAt;
    const callAt = async (at: string) => {
      clock.set(at);
      expect((await callGateway(t, secret)).statusCode).toBe(200);
      await t.services.usage.flush();
    };

    await callAt('2026-03-02T09:00:00.000Z');
    expect(await written()).toBe('2026-03-02T09:00:00.000Z');
    // Within the minute: counted, and the time waits in memory.
    await callAt('2026-03-02T09:00:10.000Z');
    await callAt('2026-03-02T09:00:30.000Z');
    expect(await written()).toBe('2026-03-02T09:00:00.000Z');
    const counted = await t.services.db
      .selectFrom('keyUsageDaily')
      .select('count')
      .where('keyId', '=', id)
      .where('outcome', '=', 'success')
      .executeTakeFirstOrThrow();
    expect(counted.count).toBe(3);
    // Once the minute has passed, the next flush writes the last call, even with no new call.
    clock.set('2026-03-02T09:01:00.000Z');
    await t.services.usage.flush();
    expect(await written()).toBe('2026-03-02T09:00:30.000Z');
    await callAt('2026-03-02T09:01:20.000Z');
    expect(await written()).toBe('2026-03-02T09:00:30.000Z');
    // Stopping (shutdown) writes what is left at once.
    await t.services.usage.stop();
    expect(await written()).toBe('2026-03-02T09:01:20.000Z');
    expect(t.services.usage.pending).toBe(0);
  });

  it("a rotated key's every call reaches lastUsedAt at the next flush, so 'no call for 15 minutes' holds to the second", async () => {
    const clock = new ManualClock('2026-03-02T09:00:00.000Z');
    t = await startTestApp({ clock, env: { USAGE_FLUSH_MS: '1000' } });
    const admin = await signup(t, 'Rotating Ltd');
    await t.services.usage.stop(); // flushed by hand below
    const old = await createKey(t, admin, { name: 'prod-rotating-flow-ops' });
    expect((await callGateway(t, old.secret)).statusCode).toBe(200);
    await t.services.usage.flush();
    const rotated = await t.app.inject({ method: 'POST', url: `/api/keys/${old.id}/rotate`, headers: { cookie: admin.cookie }, payload: { graceHours: 48 } });
    expect(rotated.statusCode).toBe(201);
    await t.services.events.catchUp();

    clock.set('2026-03-02T09:00:20.000Z');
    expect((await callGateway(t, old.secret)).statusCode).toBe(200);
    await t.services.usage.flush();
    const written = await t.services.db.selectFrom('apiKeys').select('lastUsedAt').where('id', '=', old.id).executeTakeFirstOrThrow();
    expect(written.lastUsedAt).toBe('2026-03-02T09:00:20.000Z');
    // 15 minutes after the first call but not after the second: not yet safe to revoke.
    clock.set('2026-03-02T09:15:10.000Z');
    const rotation = await t.app.inject({ method: 'GET', url: `/api/keys/${old.id}/rotation`, headers: { cookie: admin.cookie } });
    expect(rotation.json()).toMatchObject({ oldKeyLastUsedAt: '2026-03-02T09:00:20.000Z', safeToRevoke: false });
  });

  it('flushes by itself within the flush interval', async () => {
    t = await startTestApp({ env: { USAGE_FLUSH_MS: '100' } });
    const admin = await signup(t, 'Timer Ltd');
    const { id, secret } = await createKey(t, admin, { name: 'prod-timer-flow-ops' });
    await callGateway(t, secret);
    let rows: unknown[] = [];
    for (let i = 0; i < 40 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      rows = await t.services.db.selectFrom('keyUsageDaily').selectAll().where('keyId', '=', id).execute();
    }
    expect(rows).toHaveLength(1);
  });

  it('nothing is lost on a graceful stop: buffered counts are written on close', async () => {
    t = await startTestApp({ env: { USAGE_FLUSH_MS: '1000' } });
    const admin = await signup(t, 'Shutdown Ltd');
    const { id, secret } = await createKey(t, admin, { name: 'prod-stop-flow-ops' });
    await Promise.all(Array.from({ length: 123 }, () => callGateway(t, secret, FLOW_HEADERS)));
    const dataDir = t.dataDir;
    await t.app.close();
    // Reopen the same database with a new app, as after a restart.
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      ...(t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl, WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY } : {}),
    });
    const reopened = await buildApp({ config });
    try {
      const rows = await reopened.services.db.selectFrom('keyUsageDaily').select(['outcome', 'count']).where('keyId', '=', id).execute();
      expect(rows).toEqual([{ outcome: 'success', count: 123 }]);
      const flow = await reopened.services.db.selectFrom('flowKeys').select('calls').where('keyId', '=', id).executeTakeFirstOrThrow();
      expect(flow.calls).toBe(123);
    } finally {
      await reopened.app.close();
      await t.close();
    }
  });

  it('a failed flush keeps its counts for the next one', async () => {
    t = await startTestApp({ env: { USAGE_FLUSH_MS: '1000' } });
    const admin = await signup(t, 'Retry Ltd');
    const { id, secret } = await createKey(t, admin, { name: 'prod-retry-flow-ops' });
    await Promise.all(Array.from({ length: 10 }, () => callGateway(t, secret)));
    const { sql } = await import('kysely');
    await sql`alter table key_usage_daily rename to key_usage_daily_away`.execute(t.services.db);
    await expect(t.services.usage.flush()).rejects.toThrow();
    await sql`alter table key_usage_daily_away rename to key_usage_daily`.execute(t.services.db);
    await Promise.all(Array.from({ length: 5 }, () => callGateway(t, secret)));
    await t.services.usage.flush();
    const row = await t.services.db.selectFrom('keyUsageDaily').select('count').where('keyId', '=', id).executeTakeFirstOrThrow();
    expect(row.count).toBe(15);
  });

  it('a flush of many keys lets the event loop turn while it writes, and writes every count', async () => {
    t = await startTestApp({ env: { USAGE_FLUSH_MS: '1000' } });
    await t.services.usage.stop();
    const admin = await signup(t, 'Many Keys Ltd');
    const keys = 5000;
    const at = Date.now();
    for (let i = 0; i < keys; i++) {
      t.services.usage.record({
        keyId: `key_many${i}`,
        orgId: admin.orgId,
        at,
        operation: 'CheckConnection',
        actionType: 'none',
        outcome: 'success',
        accepted: true,
        flow: null,
      });
    }
    // Turns of the event loop while the flush runs (on SQLite, whose driver is synchronous, none
    // at all when its statements run back to back): each is a moment requests are answered in.
    let turns = 0;
    let flushing = true;
    const turn = () => {
      if (!flushing) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    await t.services.usage.flush();
    flushing = false;
    expect(turns).toBeGreaterThanOrEqual(2);
    const written = await t.services.db
      .selectFrom('keyUsageDaily')
      .select((eb) => [eb.fn.countAll<number>().as('rows'), eb.fn.sum<number>('count').as('calls')])
      .where('orgId', '=', admin.orgId)
      .executeTakeFirstOrThrow();
    expect({ rows: Number(written.rows), calls: Number(written.calls) }).toEqual({ rows: keys, calls: keys });
  });

  it('a user can label a flow; the label survives further calls', async () => {
    t = await startTestApp();
    const admin = await signup(t, 'Labels Ltd');
    const { id, secret } = await createKey(t, admin, { name: 'prod-label-flow-ops' });
    await callGateway(t, secret, FLOW_HEADERS);
    await t.services.usage.flush();
    const flow = (await t.app.inject({ method: 'GET', url: `/api/keys/${id}/flows`, headers: { cookie: admin.cookie } })).json().items[0];
    const labelled = await t.app.inject({
      method: 'PATCH',
      url: `/api/flows/${flow.id}`,
      headers: { cookie: admin.cookie },
      payload: { label: 'Invoice approval flow' },
    });
    expect(labelled.statusCode).toBe(200);
    await callGateway(t, secret, FLOW_HEADERS);
    await t.services.usage.flush();
    const after = (await t.app.inject({ method: 'GET', url: `/api/keys/${id}/flows`, headers: { cookie: admin.cookie } })).json().items[0];
    expect(after).toMatchObject({ id: flow.id, label: 'Invoice approval flow', calls: 2 });
    const missing = await t.app.inject({ method: 'PATCH', url: '/api/flows/flw_nope', headers: { cookie: admin.cookie }, payload: { label: 'x' } });
    expect(missing.statusCode).toBe(404);
  });
});

describe('one billing period everywhere', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('the subscription reports the period its quotas are counted in, the same as the usage', async () => {
    // Signed up mid-month with no period end of its own: quotas count by calendar month.
    t = await startTestApp({ clock: new ManualClock('2026-03-18T10:00:00.000Z') });
    const admin = await signup(t, 'Period Ltd');
    const get = async (url: string) => (await t!.app.inject({ method: 'GET', url, headers: { cookie: admin.cookie } })).json();
    const subscription = await get('/api/subscription');
    const usage = await get('/api/usage');
    expect(usage).toMatchObject({ periodStart: '2026-03-01T00:00:00.000Z', periodEnd: '2026-04-01T00:00:00.000Z' });
    expect({ periodStart: subscription.periodStart, periodEnd: subscription.periodEnd }).toEqual({
      periodStart: usage.periodStart,
      periodEnd: usage.periodEnd,
    });
  });
});

describe('usage by key and by flow', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** The headers Power Automate sends for a run of the flow `name`. */
  const flowHeaders = (name: string) => ({ 'x-ms-workflow-name': name, 'x-ms-workflow-run-id': `run-${name}` });

  it("answers this period's calls per key and the flows seen in it, of the organisation only; Viewers may read", async () => {
    const clock = new ManualClock('2026-02-28T23:50:00.000Z');
    t = await startTestApp({ clock });
    const app = t;
    const admin = await signup(app, 'By Key Ltd');
    const viewer = await addMember(app, admin, 'viewer');
    const other = await signup(app, 'Elsewhere Ltd');
    const busy = await createKey(app, admin, { name: 'prod-busy-flow-ops' });
    const quiet = await createKey(app, admin, { name: 'prod-quiet-flow-ops' });
    const theirs = await createKey(app, other, { name: 'prod-their-flow-ops' });
    const gone = await createKey(app, admin, { name: 'prod-gone-flow-ops' });
    const calls = async (secret: string, n: number, headers: Record<string, string> = {}) => {
      for (let i = 0; i < n; i++) await callGateway(app, secret, headers);
    };
    const get = async (who: Session, url: string) => {
      const response = await app.app.inject({ method: 'GET', url, headers: { cookie: who.cookie } });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };

    // Last billing period (February): not counted per key; a flow seen only then is not listed.
    await calls(busy.secret, 2, flowHeaders('invoices'));
    await calls(busy.secret, 5, flowHeaders('february-only'));
    await app.services.usage.flush();

    // Ten minutes later, in March: sessions stay signed in.
    clock.set('2026-03-01T00:00:00.000Z');
    await calls(busy.secret, 4, flowHeaders('invoices'));
    await calls(busy.secret, 3);
    await calls(quiet.secret, 2, flowHeaders('receipts'));
    await app.app.inject({ method: 'POST', url: `/api/keys/${quiet.id}/suspend`, headers: { cookie: admin.cookie } });
    await calls(quiet.secret, 3, flowHeaders('receipts'));
    await calls(theirs.secret, 6, flowHeaders('invoices'));
    // A key used this period, then deleted: its calls stay, and it has no page any more.
    await calls(gone.secret, 1);
    await app.services.usage.flush();
    expect((await app.app.inject({ method: 'DELETE', url: `/api/keys/${gone.id}`, headers: { cookie: admin.cookie } })).statusCode).toBe(204);
    expect((await app.app.inject({ method: 'GET', url: `/api/keys/${gone.id}`, headers: { cookie: admin.cookie } })).statusCode).toBe(404);

    const flows = (await get(admin, '/api/flows')).items as { id: string; workflowName: string }[];
    const flowId = (name: string) => flows.find((f) => f.workflowName === name)!.id;
    const labelled = await app.app.inject({
      method: 'PATCH',
      url: `/api/flows/${flowId('receipts')}`,
      headers: { cookie: admin.cookie },
      payload: { label: 'Receipts' },
    });
    expect(labelled.statusCode, labelled.body).toBe(200);

    const usage = await get(admin, '/api/usage');
    expect(usage.periodStart).toBe('2026-03-01T00:00:00.000Z');
    expect(usage.byKey).toEqual([
      { keyId: busy.id, name: 'prod-busy-flow-ops', last4: busy.secret.slice(-4), status: 'active', deleted: false, calls: 7, refused: 0 },
      { keyId: quiet.id, name: 'prod-quiet-flow-ops', last4: quiet.secret.slice(-4), status: 'suspended', deleted: false, calls: 5, refused: 3 },
      { keyId: gone.id, name: 'prod-gone-flow-ops', last4: gone.secret.slice(-4), status: 'revoked', deleted: true, calls: 1, refused: 0 },
    ]);
    // A flow's calls are counted since it was first seen: February's two calls of `invoices` are in.
    expect(usage.byFlow).toEqual([
      { flowId: flowId('invoices'), label: null, name: 'invoices', calls: 6, lastSeenAt: '2026-03-01T00:00:00.000Z' },
      { flowId: flowId('receipts'), label: 'Receipts', name: 'receipts', calls: 5, lastSeenAt: '2026-03-01T00:00:00.000Z' },
    ]);
    expect(await get(viewer, '/api/usage')).toEqual(usage);

    // The other organisation sees its own key and its own flow of the same name, nothing of ours.
    const theirUsage = await get(other, '/api/usage');
    const theirFlowId = (await get(other, '/api/flows')).items[0].id;
    expect(theirFlowId).not.toBe(flowId('invoices'));
    expect(theirUsage.byKey).toEqual([
      { keyId: theirs.id, name: 'prod-their-flow-ops', last4: theirs.secret.slice(-4), status: 'active', deleted: false, calls: 6, refused: 0 },
    ]);
    expect(theirUsage.byFlow).toEqual([{ flowId: theirFlowId, label: null, name: 'invoices', calls: 6, lastSeenAt: '2026-03-01T00:00:00.000Z' }]);
  });

  it('lists the 20 busiest keys, most calls first', async () => {
    t = await startTestApp();
    const app = t;
    const admin = await signup(app, 'Many Keys Ltd');
    const keys = [];
    for (let i = 0; i < 21; i++) keys.push(await createKey(app, admin, { name: `prod-key${String(i).padStart(2, '0')}-flow-ops` }));
    // Key i makes i + 1 calls: key 0, the quietest, is left out.
    for (const [i, key] of keys.entries()) for (let n = 0; n <= i; n++) await callGateway(app, key.secret);
    await app.services.usage.flush();
    const usage = (await app.app.inject({ method: 'GET', url: '/api/usage', headers: { cookie: admin.cookie } })).json();
    expect(usage.byKey.map((k: { keyId: string; calls: number }) => [k.keyId, k.calls])).toEqual(
      keys
        .map((key, i) => [key.id, i + 1])
        .reverse()
        .slice(0, 20),
    );
  });
});
