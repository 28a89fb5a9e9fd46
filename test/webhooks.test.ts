/**
 * Webhooks of CONTRACT §11 against a real local receiver: Standard Webhooks 1.0 signatures
 * checked by an independent verifier, retries on the contract's schedule (moved by the clock),
 * 410, restarts, secret rotation, the delivery log, Admin-only access, and the SSRF checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, HOUR, MINUTE } from '../src/lib/clock.js';
import { sendWebhook } from '../src/webhooks/sender.js';
import { checkWebhookUrl, isBlockedAddress } from '../src/webhooks/url-guard.js';
import {
  PASSWORD,
  addMember,
  callGateway,
  cookieOf,
  createKey,
  databaseBytes,
  expectProblem,
  signup,
  startTestApp,
  type Session,
  type TestApp,
} from './support/harness.js';
import { verifiedBy, WebhookReceiver } from './support/webhook-receiver.js';

describe('webhooks: signed deliveries to a real receiver', () => {
  const clock = new ManualClock('2026-07-01T10:00:00.000Z');
  const receiver = new WebhookReceiver();
  let base: string;
  let t: TestApp;
  let admin: Session;
  const env = { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '20' };
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, who: Session = admin) =>
    t.app.inject({ method, url, headers: { cookie: who.cookie }, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function endpoint(path: string, eventTypes: string[]): Promise<{ id: string; secret: string }> {
    const response = await api('POST', '/api/webhooks', { url: `${base}${path}`, eventTypes, description: `receiver ${path}` });
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    return { id: body.endpoint.id, secret: body.secret };
  }

  async function deliveries(id: string) {
    const response = await api('GET', `/api/webhooks/${id}/deliveries?limit=50`);
    expect(response.statusCode).toBe(200);
    return response.json();
  }

  beforeAll(async () => {
    base = await receiver.open();
    t = await startTestApp({ clock, env });
    admin = await signup(t, 'Contoso');
  });
  afterAll(async () => {
    await t?.close();
    await receiver.close();
  });

  it('an Admin adds an endpoint and gets its whsec_ secret once; the database never holds it', async () => {
    const { id, secret } = await endpoint('/created', ['api_key.created']);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    const shown = (await api('GET', `/api/webhooks/${id}`)).json();
    expect(shown).toMatchObject({ id, url: `${base}/created`, eventTypes: ['api_key.created'], enabled: true });
    expect(JSON.stringify(shown)).not.toContain(secret.slice(6));
    expect(JSON.stringify((await api('GET', '/api/webhooks')).json())).not.toContain(secret.slice(6));
    const bytes = await databaseBytes(t);
    expect(bytes).not.toContain(secret.slice(6));
    expect(bytes).not.toContain(Buffer.from(secret.slice(6), 'base64').toString('hex'));
    expect(t.logs.text).not.toContain(secret.slice(6));
  });

  it('a key change is delivered as its event, signed per Standard Webhooks (checked independently)', async () => {
    const { secret } = await endpoint('/signed', ['api_key.created', 'api_key.revoked']);
    const { id: keyId } = await createKey(t, admin, { name: 'signed-key' });
    await expect.poll(() => receiver.on('/signed').length).toBe(1);
    const [delivery] = receiver.on('/signed');
    const event = JSON.parse(delivery!.body);
    expect(event).toMatchObject({ type: 'api_key.created', organisationId: admin.orgId, data: { key: { id: keyId, name: 'signed-key' } } });
    expect(event.id).toMatch(/^evt_/);
    expect(delivery!.headers['webhook-id']).toBe(event.id);
    expect(delivery!.headers['webhook-timestamp']).toBe(String(Math.floor(clock.nowMs() / 1000)));
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(verifiedBy(delivery!, [secret])).toEqual([secret]);
    // A different secret, or a changed body, does not verify.
    expect(verifiedBy(delivery!, [`whsec_${Buffer.alloc(32, 1).toString('base64')}`])).toEqual([]);
    expect(verifiedBy({ ...delivery!, body: delivery!.body.replace('signed-key', 'other-key') }, [secret])).toEqual([]);
    expect(delivery!.body).not.toMatch(/bdoc_[0-9A-Za-z]{20,}/);
  });

  it('a failing receiver is retried after about 5 s, then 5 min; the delivery log shows each attempt', async () => {
    let calls = 0;
    receiver.answer = (r) => (r.path === '/flaky' ? (++calls <= 2 ? 503 : 200) : 200);
    const { id } = await endpoint('/flaky', ['api_key.created']);
    await createKey(t, admin, { name: 'flaky-key' });
    await expect.poll(() => receiver.on('/flaky').length).toBe(1);
    await expect.poll(async () => (await deliveries(id)).items[0]?.attempts).toBe(1);
    let log = (await deliveries(id)).items[0];
    expect(log).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503, eventType: 'api_key.created' });
    expect(Date.parse(log.nextAttemptAt) - clock.nowMs()).toBe(5_000);
    clock.advance(4_000);
    // A claim round at 4 s (as the worker's timer would run): nothing is due yet.
    t.services.deliveries.kick();
    await t.services.deliveries.idle();
    expect(receiver.on('/flaky')).toHaveLength(1);
    clock.advance(1_000);
    await expect.poll(() => receiver.on('/flaky').length).toBe(2);
    await expect.poll(async () => (await deliveries(id)).items[0]?.attempts).toBe(2);
    log = (await deliveries(id)).items[0];
    expect(Date.parse(log.nextAttemptAt) - clock.nowMs()).toBe(5 * MINUTE);
    clock.advance(5 * MINUTE);
    await expect.poll(async () => (await deliveries(id)).items[0]?.status).toBe('succeeded');
    log = (await deliveries(id)).items[0];
    expect(log).toMatchObject({ attempts: 3, lastStatusCode: 200, nextAttemptAt: null });
    expect(log.attemptLog.map((a: { statusCode: number }) => a.statusCode)).toEqual([503, 503, 200]);
    // The same event each time (same webhook-id), so the receiver can drop duplicates.
    expect(new Set(receiver.on('/flaky').map((r) => r.headers['webhook-id'])).size).toBe(1);
    receiver.answer = () => 200;
  });

  it('410 Gone disables the endpoint: no more deliveries', async () => {
    receiver.answer = (r) => (r.path === '/gone' ? 410 : 200);
    const { id } = await endpoint('/gone', ['api_key.created']);
    await createKey(t, admin, { name: 'gone-key-1' });
    await expect.poll(async () => (await api('GET', `/api/webhooks/${id}`)).json().enabled).toBe(false);
    expect((await api('GET', `/api/webhooks/${id}`)).json().disabledReason).toBe('gone');
    expect((await deliveries(id)).items[0]).toMatchObject({ status: 'failed', lastStatusCode: 410 });
    await createKey(t, admin, { name: 'gone-key-2' });
    clock.advance(HOUR);
    await t.services.deliveries.idle();
    expect(receiver.on('/gone')).toHaveLength(1);
    receiver.answer = () => 200;
  });

  it('a rotated secret: both signatures for 24 hours, then only the new one', async () => {
    const { id, secret: old } = await endpoint('/rotating', ['api_key.created']);
    const rotated = await api('POST', `/api/webhooks/${id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    const fresh = rotated.json().secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect(rotated.json().endpoint.secretRotatedUntil).toBe(new Date(clock.nowMs() + 24 * HOUR).toISOString());
    expect((await api('POST', `/api/webhooks/${id}/test`)).statusCode).toBe(202);
    await expect.poll(() => receiver.on('/rotating').length).toBe(1);
    const during = receiver.on('/rotating')[0]!;
    expect(JSON.parse(during.body)).toMatchObject({ type: 'webhook.test', organisationId: admin.orgId });
    expect(verifiedBy(during, [old, fresh])).toEqual([old, fresh]);
    clock.advance(24 * HOUR + 1000);
    // The session ended with the day that passed: sign in again.
    const signin = await t.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { email: admin.email, password: PASSWORD } });
    admin = { ...admin, cookie: cookieOf(signin) };
    expect((await api('POST', `/api/webhooks/${id}/test`)).statusCode).toBe(202);
    await expect.poll(() => receiver.on('/rotating').length).toBe(2);
    expect(verifiedBy(receiver.on('/rotating')[1]!, [old, fresh])).toEqual([fresh]);
  });

  it('deliveries survive a restart: a delivery pending when the node stops is sent by the next one', async () => {
    receiver.answer = (r) => (r.path === '/restart' ? 500 : 200);
    const { id } = await endpoint('/restart', ['api_key.created']);
    await createKey(t, admin, { name: 'restart-key' });
    await expect.poll(async () => (await deliveries(id)).items[0]?.attempts).toBe(1);
    const shared: Record<string, string> = t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : { DATA_DIR: t.dataDir };
    await t.services.deliveries.stop();
    receiver.answer = () => 200;
    const next = await startTestApp({ clock, env: { ...env, ...shared } });
    try {
      clock.advance(5_000);
      await expect.poll(() => receiver.on('/restart').length).toBe(2);
      const row = (await next.app.inject({ method: 'GET', url: `/api/webhooks/${id}/deliveries`, headers: { cookie: admin.cookie } })).json().items[0];
      await expect.poll(async () => (await deliveries(id)).items[0]?.status).toBe('succeeded');
      expect(row.eventType).toBe('api_key.created');
    } finally {
      await next.close();
      t.services.deliveries.start();
    }
  });

  it('a receiver that never answers does not hold up the gateway', async () => {
    receiver.answer = (r) => (r.path === '/slow' ? 'hold' : 200);
    await endpoint('/slow', ['api_key.created', 'api_key.revoked_key_used']);
    const { secret } = await createKey(t, admin, { name: 'slow-key' });
    await expect.poll(() => receiver.on('/slow').length).toBe(1);
    for (let i = 0; i < 5; i++) expect((await callGateway(t, secret)).statusCode).toBe(200);
    receiver.answer = () => 200;
  });

  it('the delivery log is paginated, newest first', async () => {
    const { id } = await endpoint('/paged', ['api_key.created']);
    for (let i = 0; i < 3; i++) expect((await api('POST', `/api/webhooks/${id}/test`)).statusCode).toBe(202);
    await expect.poll(() => receiver.on('/paged').length).toBe(3);
    const first = (await api('GET', `/api/webhooks/${id}/deliveries?limit=2&offset=0`)).json();
    const second = (await api('GET', `/api/webhooks/${id}/deliveries?limit=2&offset=2`)).json();
    expect(first).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect(first.items).toHaveLength(2);
    expect(second.items).toHaveLength(1);
    expect(new Set([...first.items, ...second.items].map((d: { id: string }) => d.id)).size).toBe(3);
  });

  it('the endpoint list is paginated like every list: limit and offset, total, newest first', async () => {
    const owner = await signup(t, 'Paged Endpoints Ltd');
    const urls: string[] = [];
    for (let i = 0; i < 7; i++) {
      const created = await api('POST', '/api/webhooks', { url: `${base}/list-${i}`, eventTypes: ['api_key.created'] }, owner);
      expect(created.statusCode, created.body).toBe(201);
      urls.push(created.json().endpoint.url);
      clock.advance(1_000);
    }
    const first = await api('GET', '/api/webhooks?limit=5', undefined, owner);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ total: 7, limit: 5, offset: 0 });
    expect(first.json().items.map((e: { url: string }) => e.url)).toEqual(urls.toReversed().slice(0, 5));
    const second = (await api('GET', '/api/webhooks?limit=5&offset=5', undefined, owner)).json();
    expect(second).toMatchObject({ total: 7, limit: 5, offset: 5 });
    expect(second.items.map((e: { url: string }) => e.url)).toEqual(urls.toReversed().slice(5));
    // Without a limit, the first 50 (the same default as every list); out of range is refused.
    expect((await api('GET', '/api/webhooks', undefined, owner)).json()).toMatchObject({ total: 7, limit: 50, offset: 0 });
    expectProblem(await api('GET', '/api/webhooks?limit=201', undefined, owner), 400, 'validation_failed');
    expectProblem(await api('GET', '/api/webhooks?limit=0', undefined, owner), 400, 'validation_failed');
  });

  it('an organisation has at most 20 webhook endpoints, paused ones included: the 21st is refused with the limit and what to do', async () => {
    const owner = await signup(t, 'Many Endpoints Ltd');
    const add = (i: number) => api('POST', '/api/webhooks', { url: `${base}/capped-${i}`, eventTypes: ['api_key.created'] }, owner);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await add(i);
      expect(created.statusCode, created.body).toBe(201);
      ids.push(created.json().endpoint.id);
    }
    expect((await api('PATCH', `/api/webhooks/${ids[0]}`, { enabled: false }, owner)).statusCode).toBe(200);
    const refused = expectProblem(await add(20), 403, 'quota_exceeded');
    expect(refused).toMatchObject({ limit: 20, used: 20 });
    expect(refused.detail).toMatch(/can have 20 webhook endpoints and yours has 20\. Delete an endpoint you no longer use/);
    expect((await api('GET', '/api/webhooks?limit=1', undefined, owner)).json().total).toBe(20);
    // The limit is the organisation's: another one adds its own.
    const other = await signup(t, 'Few Endpoints Ltd');
    expect((await api('POST', '/api/webhooks', { url: `${base}/capped-other`, eventTypes: ['api_key.created'] }, other)).statusCode).toBe(201);
    // Deleting one makes room for one.
    expect((await api('DELETE', `/api/webhooks/${ids[0]}`, undefined, owner)).statusCode).toBe(204);
    expect((await add(22)).statusCode).toBe(201);
    expectProblem(await add(23), 403, 'quota_exceeded');
  });

  it('concurrent creates cannot pass the webhook endpoint limit', async () => {
    const owner = await signup(t, 'Racing Endpoints Ltd');
    for (let i = 0; i < 17; i++) {
      expect((await api('POST', '/api/webhooks', { url: `${base}/race-${i}`, eventTypes: ['api_key.created'] }, owner)).statusCode).toBe(201);
    }
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => api('POST', '/api/webhooks', { url: `${base}/race-more-${i}`, eventTypes: ['api_key.created'] }, owner)),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 201, 201, 403, 403, 403, 403, 403]);
    for (const refused of answers.filter((a) => a.statusCode === 403)) expect(refused.json().code).toBe('quota_exceeded');
    expect((await api('GET', '/api/webhooks', undefined, owner)).json().total).toBe(20);
  });

  it('only Admins manage webhooks; another organisation gets 404; bad input gets 400', async () => {
    const member = await addMember(t, admin, 'member');
    const { id } = await endpoint('/private', ['api_key.created']);
    expectProblem(await api('GET', '/api/webhooks', undefined, member), 403, 'forbidden');
    const stranger = await signup(t, 'Fabrikam');
    expectProblem(await api('GET', `/api/webhooks/${id}`, undefined, stranger), 404, 'not_found');
    expectProblem(await api('DELETE', `/api/webhooks/${id}`, undefined, stranger), 404, 'not_found');
    expectProblem(await api('POST', '/api/webhooks', { url: `${base}/x`, eventTypes: ['nope.nothing'] }), 400, 'validation_failed');
    expectProblem(await api('POST', '/api/webhooks', { url: 'not a url', eventTypes: ['api_key.created'] }), 400, 'validation_failed');
    expectProblem(await api('POST', '/api/webhooks', { url: `${base}/x`, eventTypes: [] }), 400, 'validation_failed');
    expect((await api('PATCH', `/api/webhooks/${id}`, { enabled: false })).json()).toMatchObject({ enabled: false, disabledReason: 'paused' });
    expect((await api('DELETE', `/api/webhooks/${id}`)).statusCode).toBe(204);
    expectProblem(await api('GET', `/api/webhooks/${id}`), 404, 'not_found');
  });
});

describe('webhooks: SSRF checks without WEBHOOKS_ALLOW_PRIVATE', () => {
  let t: TestApp;
  let admin: Session;
  const receiver = new WebhookReceiver();
  let base: string;

  beforeAll(async () => {
    base = await receiver.open();
    t = await startTestApp();
    admin = await signup(t, 'Northwind');
  });
  afterAll(async () => {
    await t?.close();
    await receiver.close();
  });

  it.each([
    ['plain http', 'http://example.com/hook'],
    ['loopback', 'https://127.0.0.1/hook'],
    ['localhost', 'https://localhost/hook'],
    ['private 10/8', 'https://10.1.2.3/hook'],
    ['private 192.168/16', 'https://192.168.1.1/hook'],
    ['link-local (cloud metadata)', 'https://169.254.169.254/latest'],
    ['IPv6 loopback', 'https://[::1]/hook'],
    ['IPv6 unique-local', 'https://[fd00::1]/hook'],
    ['IPv6 link-local', 'https://[fe80::1]/hook'],
    ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/hook'],
    ['credentials in the URL', 'https://user:pass@example.com/hook'],
  ])('refuses %s at creation', async (_label, url) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/webhooks',
      headers: { cookie: admin.cookie },
      payload: { url, eventTypes: ['api_key.created'] },
    });
    expectProblem(response, 400, 'validation_failed');
  });

  it.each([
    ['a public IPv4 address', 'https://93.184.216.34/hook'],
    ['a public IPv6 address', 'https://[2606:4700:4700::1111]/hook'],
  ])('accepts %s', async (_label, url) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/webhooks',
      headers: { cookie: admin.cookie },
      payload: { url, eventTypes: ['api_key.created'] },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().endpoint.url).toBe(url);
  });

  it('tells public from reserved addresses in either family and in every spelling of a mapped one', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '20.42.65.92', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e'])
      expect(isBlockedAddress(address), address).toBe(false);
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:8.8.8.8',
      '::FFFF:127.0.0.1',
      '0:0:0:0:0:ffff:0808:0808',
      '64:ff9b::a00:1',
      'not-an-address',
    ])
      expect(isBlockedAddress(address), address).toBe(true);
  });

  it('refuses a private address again at delivery time (a host that now resolves privately is never contacted)', async () => {
    const result = await sendWebhook(`${base}/never`, '{}', {}, { allowPrivate: false, timeoutMs: 15_000 });
    expect(result.statusCode).toBeNull();
    expect(result.error).toMatch(/URL refused/);
    expect(receiver.received).toHaveLength(0);
    expect((await checkWebhookUrl('https://localhost/x', { allowPrivate: false })).ok).toBe(false);
  });

  it('does not follow redirects: a 3xx is a failed attempt and the target is never called', async () => {
    receiver.answer = (r) => (r.path === '/redirect' ? { status: 302, headers: { location: `${base}/target` } } : 200);
    const result = await sendWebhook(`${base}/redirect`, '{}', {}, { allowPrivate: true, timeoutMs: 15_000 });
    expect(result.statusCode).toBe(302);
    expect(receiver.on('/target')).toHaveLength(0);
  });
});

/** Two nodes on one database (`WEBHOOK_POLL_MS` as given) and a receiver, opened and closed around the calling describe. */
function twoNodes(pollMs: string) {
  const nodes = { receiver: new WebhookReceiver(), base: '', a: undefined as unknown as TestApp, b: undefined as unknown as TestApp };
  beforeAll(async () => {
    nodes.base = await nodes.receiver.open();
    const env = { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: pollMs };
    nodes.a = await startTestApp({ env });
    const shared: Record<string, string> = nodes.a.config.databaseUrl ? { DATABASE_URL: nodes.a.config.databaseUrl } : { DATA_DIR: nodes.a.dataDir };
    nodes.b = await startTestApp({ env: { ...env, ...shared } });
  });
  afterAll(async () => {
    await nodes.b?.close();
    await nodes.a?.close();
    await nodes.receiver.close();
  });
  return nodes;
}

async function addEndpoint(t: TestApp, who: Session, url: string, eventTypes: string[]): Promise<string> {
  const created = await t.app.inject({ method: 'POST', url: '/api/webhooks', headers: { cookie: who.cookie }, payload: { url, eventTypes } });
  expect(created.statusCode).toBe(201);
  return created.json().endpoint.id;
}

describe('webhooks: two nodes on one database', () => {
  const nodes = twoNodes('10');

  it('each delivery is sent by one node only, though both look for due ones', async () => {
    const { a, b, receiver } = nodes;
    const admin = await signup(a, 'Contoso', undefined, { plan: 'enterprise' });
    await addEndpoint(a, admin, `${nodes.base}/both`, ['api_key.created']);
    // Twenty keys made on both nodes, four at a time (the key limit's row lock queues an organisation's
    // creations; twenty at once on a loaded CI machine can wait past the pool's connect timeout).
    const made: Awaited<ReturnType<typeof createKey>>[] = [];
    for (let from = 0; from < 20; from += 4) {
      made.push(...(await Promise.all([0, 1, 2, 3].map((j) => createKey((from + j) % 2 ? a : b, admin, { name: `two-nodes-${from + j}` })))));
    }
    await expect.poll(() => receiver.on('/both').length).toBe(20);
    await Promise.all([a.services.deliveries.idle(), b.services.deliveries.idle()]);
    expect(receiver.on('/both')).toHaveLength(20);
    const names = receiver.on('/both').map((r) => JSON.parse(r.body).data.key.name);
    expect(new Set(names)).toEqual(new Set(made.map((k) => k.key.name)));
  });
});

describe('webhooks: only an event that queued deliveries wakes a worker', () => {
  // The poll is as slow as it may be: a delivery sent within a test was sent because something woke the worker.
  const nodes = twoNodes('60000');

  it('events without endpoints run no claim query on any node; one with an endpoint is sent at once by the node that recorded it', async () => {
    const { a, b, receiver } = nodes;
    const quiet = await signup(a, 'Quiet Org', undefined, { plan: 'enterprise' });
    const loud = await signup(a, 'Loud Org', undefined, { plan: 'enterprise' });
    await addEndpoint(a, loud, `${nodes.base}/woken`, ['api_key.created']);
    await Promise.all([a.services.deliveries.idle(), b.services.deliveries.idle()]);
    const rounds = () => [a.services.deliveries.rounds, b.services.deliveries.rounds];
    const before = rounds();

    // Ten key events of an organisation without endpoints, recorded on both nodes and heard by both.
    await Promise.all(Array.from({ length: 10 }, (_, i) => createKey(i % 2 ? a : b, quiet, { name: `quiet-${i}` })));
    await Promise.all([a.services.events.catchUp(), b.services.events.catchUp()]);
    await new Promise((r) => setTimeout(r, 100));
    expect(rounds()).toEqual(before);

    // One that queued a delivery on A: A claims and sends it at once; B, which hears it too, runs no claim.
    await createKey(a, loud, { name: 'loud-key' });
    await expect.poll(() => receiver.on('/woken').length, { timeout: 5000 }).toBe(1);
    await Promise.all([a.services.events.catchUp(), b.services.events.catchUp(), a.services.deliveries.idle()]);
    expect(JSON.parse(receiver.on('/woken')[0]!.body).data.key.name).toBe('loud-key');
    expect(a.services.deliveries.rounds).toBeGreaterThan(before[0]!);
    expect(b.services.deliveries.rounds).toBe(before[1]);
  });

  it('Send test goes at once too', async () => {
    const { a, b, receiver } = nodes;
    const admin = await signup(a, 'Tester Org', undefined, { plan: 'enterprise' });
    const id = await addEndpoint(a, admin, `${nodes.base}/tested`, ['api_key.created']);
    const test = await b.app.inject({ method: 'POST', url: `/api/webhooks/${id}/test`, headers: { cookie: admin.cookie } });
    expect(test.statusCode).toBe(202);
    await expect.poll(() => receiver.on('/tested').length, { timeout: 5000 }).toBe(1);
    expect(JSON.parse(receiver.on('/tested')[0]!.body).type).toBe('webhook.test');
  });
});

describe('the webhook secret key', () => {
  it('is required, in one line, with a PostgreSQL database; generated once into DATA_DIR otherwise', async () => {
    const { loadSecretKey } = await import('../src/webhooks/secret-box.js');
    const { ConfigError } = await import('../src/config.js');
    expect(() => loadSecretKey({ configured: undefined, dataDir: '/nonexistent', postgres: true })).toThrow(ConfigError);
    expect(() => loadSecretKey({ configured: undefined, dataDir: '/nonexistent', postgres: true })).toThrow(/^WEBHOOK_SECRET_KEY is required[^\n]*$/);
    const { mkdtempSync, statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/bdoc-key-`);
    const first = loadSecretKey({ configured: undefined, dataDir: dir, postgres: false });
    expect(first).toHaveLength(32);
    expect(loadSecretKey({ configured: undefined, dataDir: dir, postgres: false }).equals(first)).toBe(true);
    expect(statSync(`${dir}/webhook-secret.key`).mode & 0o777).toBe(0o600);
  });
});
