/**
 * The connector's Power Automate triggers (CONTRACT §11), subscribed to as Power Automate does:
 * with the connection's API key, a callback URL on a real local HTTP receiver, 201 and a
 * Location to DELETE. Events arrive as the definition's notification schemas describe them.
 */
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTOR_TRIGGERS } from '../src/connector/triggers.js';
import { announceExpiringKeys } from '../src/keys/expiry-sweeper.js';
import { sweepQuotaThresholds } from '../src/limits/quota-events.js';
import { DAY, ManualClock } from '../src/lib/clock.js';
import { addDailyCounts } from '../src/usage/usage.repository.js';
import { PASSWORD, cookieOf, createKey, expectProblem, signup, startTestApp, type Session, type TestApp } from './support/harness.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const trigger = (operationId: string) => CONNECTOR_TRIGGERS.find((t) => t.operationId === operationId)!;

describe('connector triggers, subscribed to with a real receiver', () => {
  const clock = new ManualClock('2026-08-03T09:00:00.000Z');
  const receiver = new WebhookReceiver();
  let base: string;
  let t: TestApp;
  let admin: Session;
  let connection: { id: string; secret: string };

  async function subscribe(secret: string, path: string, callback: string) {
    const response = await t.app.inject({
      method: 'POST',
      url: `/v1${path}`,
      headers: { 'x-api-key': secret },
      payload: { callbackUrl: `${base}${callback}` },
    });
    return response;
  }

  beforeAll(async () => {
    base = await receiver.open();
    t = await startTestApp({ clock, env: { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '20' } });
    admin = await signup(t, 'Contoso', undefined, { plan: 'standard' });
    connection = await createKey(t, admin, { name: 'power-automate-connection' });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.close();
  });

  it('a subscription answers 201 with a Location that deletes it; another organisation cannot', async () => {
    const response = await subscribe(connection.secret, '/triggers/key-revoked', '/to-delete');
    expect(response.statusCode, response.body).toBe(201);
    const location = String(response.headers.location);
    expect(location).toBe(`http://portal.test/v1/triggers/subscriptions/${response.json().id}`);
    const stranger = await signup(t, 'Fabrikam');
    const strangerKey = await createKey(t, stranger, { name: 'stranger-connection' });
    const path = new URL(location).pathname;
    expectProblem(await t.app.inject({ method: 'DELETE', url: path, headers: { 'x-api-key': strangerKey.secret } }), 404, 'not_found');
    expectProblem(await t.app.inject({ method: 'DELETE', url: path }), 401, 'api_key_missing');
    const removed = await t.app.inject({ method: 'DELETE', url: path, headers: { 'x-api-key': connection.secret } });
    expect(removed.statusCode).toBe(200);
    // Deleted: a revocation is no longer sent there.
    const other = await createKey(t, admin, { name: 'revoked-after-delete' });
    await t.app.inject({ method: 'POST', url: `/api/keys/${other.id}/revoke`, headers: { cookie: admin.cookie } });
    await t.services.deliveries.idle();
    expect(receiver.on('/to-delete')).toHaveLength(0);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/triggers/key-revoked',
      headers: { 'x-api-key': connection.secret },
      payload: { callbackUrl: 'not a url' },
    });
    expectProblem(bad, 400, 'validation_failed');
  });

  it('each trigger receives its events, shaped as its x-ms-notification-content schema', async () => {
    for (const [path, callback] of [
      ['/triggers/key-expiring', '/expiring'],
      ['/triggers/key-revoked', '/revoked'],
      ['/triggers/quota-threshold', '/quota'],
    ] as const) {
      expect((await subscribe(connection.secret, path, callback)).statusCode).toBe(201);
    }
    // Revoked: another key of the organisation.
    const revoked = await createKey(t, admin, { name: 'revoked-key' });
    expect((await t.app.inject({ method: 'POST', url: `/api/keys/${revoked.id}/revoke`, headers: { cookie: admin.cookie } })).statusCode).toBe(200);
    await expect.poll(() => receiver.on('/revoked').length).toBe(1);
    // About to expire.
    const expiring = await createKey(t, admin, { name: 'expiring-key', expiresInDays: 30 });
    clock.advance(17 * DAY);
    const signin = await t.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { email: admin.email, password: PASSWORD } });
    admin = { ...admin, cookie: cookieOf(signin) };
    await announceExpiringKeys({ db: t.services.db, clock, events: t.services.events });
    // A quota threshold: 400 of the Standard plan's 500 document actions.
    await addDailyCounts(t.services.db, [
      {
        keyId: connection.id,
        orgId: admin.orgId,
        day: clock.now().toISOString().slice(0, 10),
        operation: 'MergePdf',
        actionType: 'document',
        outcome: 'success',
        count: 400,
      },
    ]);
    await sweepQuotaThresholds({ db: t.services.db, clock, audit: t.services.audit, events: t.services.events, plans: t.services.plans });

    await expect.poll(() => receiver.on('/revoked').length).toBe(1);
    await expect.poll(() => receiver.on('/expiring').length).toBe(1);
    await expect.poll(() => receiver.on('/quota').length).toBe(1);
    const body = (path: string) => JSON.parse(receiver.on(path)[0]!.body);
    expect(body('/revoked')).toMatchObject({ type: 'api_key.revoked', organisationId: admin.orgId, data: { key: { id: revoked.id, status: 'revoked' } } });
    expect(body('/expiring')).toMatchObject({ type: 'api_key.expiring', data: { key: { id: expiring.id }, daysBefore: 14 } });
    expect(body('/quota')).toMatchObject({ type: 'quota.threshold', data: { quota: { actionType: 'document', threshold: 80, used: 400, limit: 500 } } });
    for (const [path, operationId] of [
      ['/revoked', 'OnKeyRevokedOrExposed'],
      ['/expiring', 'OnKeyExpiring'],
      ['/quota', 'OnQuotaThreshold'],
    ] as const) {
      const schema = trigger(operationId).notification;
      expect(Value.Check(schema, body(path)), `${operationId}: ${JSON.stringify([...Value.Errors(schema, body(path))].slice(0, 3))}`).toBe(true);
    }
  });

  it('subscriptions stop when the key that made them is revoked, after the revoke trigger has fired', async () => {
    const key = await createKey(t, admin, { name: 'short-lived-connection' });
    expect((await subscribe(key.secret, '/triggers/key-revoked', '/own-revocation')).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'POST', url: `/api/keys/${key.id}/revoke`, headers: { cookie: admin.cookie } })).statusCode).toBe(200);
    await expect.poll(() => receiver.on('/own-revocation').length).toBe(1);
    expect(JSON.parse(receiver.on('/own-revocation')[0]!.body)).toMatchObject({ type: 'api_key.revoked', data: { key: { id: key.id } } });
    // Later events of the organisation no longer reach that flow.
    const another = await createKey(t, admin, { name: 'revoked-later' });
    await t.app.inject({ method: 'POST', url: `/api/keys/${another.id}/revoke`, headers: { cookie: admin.cookie } });
    await expect.poll(() => receiver.on('/revoked').length).toBe(3);
    await t.services.deliveries.idle();
    expect(receiver.on('/own-revocation')).toHaveLength(1);
    // And the revoked key cannot subscribe again.
    expectProblem(await subscribe(key.secret, '/triggers/key-revoked', '/again'), 401, 'api_key_revoked');
  });

  it("subscribing counts against the plan's request rate (check 10), with the RateLimit headers, and is not billed", async () => {
    const free = await signup(t, 'Free Flows Ltd', undefined, { plan: 'free' });
    const key = await createKey(t, free, { name: 'free-connection' });
    const answers = [];
    for (let i = 0; i < 80; i++) answers.push(await subscribe(key.secret, '/triggers/key-expiring', `/rated-${i}`));
    // Free allows 60 requests a minute: 60 subscriptions, then refusals.
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(60);
    expect(answers.slice(60).every((a) => a.statusCode === 429)).toBe(true);
    expect(answers[0]!.headers).toMatchObject({ 'ratelimit-limit': '60', 'ratelimit-remaining': '59' });
    expect(answers[59]!.headers).toMatchObject({ 'ratelimit-limit': '60', 'ratelimit-remaining': '0' });
    expect(answers[0]!.headers['ratelimit-reset']).toBeDefined();
    const refused = expectProblem(answers[60]!, 429, 'rate_limited');
    expect(refused.detail).toMatch(/your plan allows 60 requests per minute\. Retry after 1 second;/);
    expect(answers[60]!.headers['retry-after']).toBe('1');
    // One rate for the organisation: its gateway calls wait too, and come back with the rate.
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/connection', headers: { 'x-api-key': key.secret } }), 429, 'rate_limited');
    // A flow turned off still unsubscribes meanwhile: a refused DELETE would leave its subscription receiving.
    const location = new URL(String(answers[0]!.headers.location)).pathname;
    expect((await t.app.inject({ method: 'DELETE', url: location, headers: { 'x-api-key': key.secret } })).statusCode).toBe(200);
    clock.advance(1_000);
    expect((await subscribe(key.secret, '/triggers/key-expiring', '/rated-after')).statusCode).toBe(201);
    // Not billed: no action of the month's quotas was used, once everything counted is written.
    await t.services.usage.flush();
    const usage = (await t.app.inject({ method: 'GET', url: '/api/usage', headers: { cookie: free.cookie } })).json();
    expect(usage.quotas.map((q: { used: number }) => q.used)).toEqual([0, 0]);
  });

  it('an organisation holds at most 100 live subscriptions, also when flows subscribe at once; a deleted or stopped one makes room', async () => {
    const owner = await signup(t, 'Busy Flows Ltd');
    const first = await createKey(t, owner, { name: 'first-connection' });
    for (let i = 0; i < 95; i++) expect((await subscribe(first.secret, '/triggers/key-revoked', `/many-${i}`)).statusCode).toBe(201);
    const racing = await Promise.all(Array.from({ length: 10 }, (_, i) => subscribe(first.secret, '/triggers/quota-threshold', `/racing-${i}`)));
    expect(racing.map((r) => r.statusCode).sort()).toEqual([...Array(5).fill(201), ...Array(5).fill(403)]);
    const refused = expectProblem(racing.find((r) => r.statusCode === 403)!, 403, 'quota_exceeded');
    expect(refused).toMatchObject({ limit: 100, used: 100 });
    expect(refused.detail).toMatch(/can hold 100 live trigger subscriptions and yours holds 100\. Turn off or delete the flows that no longer need/);
    // Deleting one (a flow turned off) makes room for one.
    const made = racing.find((r) => r.statusCode === 201)!;
    expect(
      (await t.app.inject({ method: 'DELETE', url: new URL(String(made.headers.location)).pathname, headers: { 'x-api-key': first.secret } })).statusCode,
    ).toBe(200);
    expect((await subscribe(first.secret, '/triggers/key-revoked', '/many-again')).statusCode).toBe(201);
    const second = await createKey(t, owner, { name: 'second-connection' });
    expectProblem(await subscribe(second.secret, '/triggers/key-revoked', '/one-too-many'), 403, 'quota_exceeded');
    // The first key's revocation stops its 100 subscriptions: they no longer count.
    expect((await t.app.inject({ method: 'POST', url: `/api/keys/${first.id}/revoke`, headers: { cookie: owner.cookie } })).statusCode).toBe(200);
    expect((await subscribe(second.secret, '/triggers/key-revoked', '/after-revocation')).statusCode).toBe(201);
  });

  it('a subscription stopped with its key is deleted with its delivery log after 30 days; live and recently stopped ones stay', async () => {
    const idOf = (response: { headers: Record<string, unknown> }) => new URL(String(response.headers.location)).pathname.split('/').pop()!;
    const endpoints = () => t.services.db.selectFrom('webhookEndpoints').select('id').where('kind', '=', 'trigger').execute();
    const deliveriesOf = (id: string) => t.services.db.selectFrom('webhookDeliveries').select('id').where('endpointId', '=', id).execute();
    const old = await createKey(t, admin, { name: 'retired-connection' });
    const stopped = idOf(await subscribe(old.secret, '/triggers/key-revoked', '/retired'));
    expect((await t.app.inject({ method: 'POST', url: `/api/keys/${old.id}/revoke`, headers: { cookie: admin.cookie } })).statusCode).toBe(200);
    await expect.poll(() => receiver.on('/retired').length).toBe(1);
    await t.services.deliveries.idle();
    expect(await deliveriesOf(stopped)).toHaveLength(1);
    const live = idOf(await subscribe(connection.secret, '/triggers/key-revoked', '/still-wanted'));

    clock.advance(29 * DAY);
    await t.services.webhooks.pruneStoppedTriggers();
    expect((await endpoints()).map((e) => e.id)).toEqual(expect.arrayContaining([stopped, live]));

    clock.advance(2 * DAY);
    expect(await t.services.webhooks.pruneStoppedTriggers()).toBeGreaterThanOrEqual(1);
    const left = (await endpoints()).map((e) => e.id);
    expect(left).not.toContain(stopped);
    expect(left).toContain(live);
    expect(await deliveriesOf(stopped)).toEqual([]);
  });
});
