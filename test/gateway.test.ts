import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/keys/key-format.js';
import { DAY, ManualClock } from '../src/lib/clock.js';
import { callGateway, createKey, expectProblem, operatorOf, signup, startTestApp, type Session, type TestApp } from './support/harness.js';

describe('the gateway answers every bad key with the exact problem (CONTRACT §4)', () => {
  const clock = new ManualClock('2026-03-01T09:00:00.000Z');
  let t: TestApp;
  let admin: Session;

  beforeAll(async () => {
    t = await startTestApp({ clock });
    admin = await signup(t, 'Fabrikam');
  });
  afterAll(() => t.close());

  it('accepts a valid key and tells which key, organisation and plan it is', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-check-flow-ops' });
    const response = await callGateway(t, secret);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      keyName: 'prod-check-flow-ops',
      keyId: id,
      organisation: 'Fabrikam',
      organisationId: admin.orgId,
      plan: 'large',
      subscriptionStatus: 'active',
      documentActionsLeft: 5000,
      utilityActionsLeft: 100000,
    });
  });

  it('writes the answer as plain JSON of exactly its fields, whatever the names hold, and follows a rename and a plan change at once', async () => {
    // Quotes, a backslash, a line separator and an emoji: each must be escaped or kept as JSON says.
    const name = 'prod "quoted" \\ back\u2028sep 📄 flow';
    const { id, secret } = await createKey(t, admin, { name });
    const left = { large: [5000, 100000], midsize: [1200, 10000] } as const;
    const answer = (keyName: string, plan: keyof typeof left) => ({
      keyName,
      keyId: id,
      organisation: 'Fabrikam',
      organisationId: admin.orgId,
      plan,
      subscriptionStatus: 'active',
      documentActionsLeft: left[plan][0],
      utilityActionsLeft: left[plan][1],
    });
    const first = await callGateway(t, secret);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    // The same text, field for field and in the documented order, as JSON.stringify of the answer.
    expect(first.body).toBe(JSON.stringify(answer(name, 'large')));

    const renamed = await t.app.inject({
      method: 'PATCH',
      url: `/api/keys/${id}`,
      headers: { cookie: admin.cookie },
      payload: { name: 'prod-renamed-flow-ops' },
    });
    expect(renamed.statusCode).toBe(200);
    expect((await callGateway(t, secret)).body).toBe(JSON.stringify(answer('prod-renamed-flow-ops', 'large')));

    await t.services.orgs.setSubscription(operatorOf(admin.orgId), { plan: 'midsize' });
    expect((await callGateway(t, secret)).body).toBe(JSON.stringify(answer('prod-renamed-flow-ops', 'midsize')));
    await t.services.orgs.setSubscription(operatorOf(admin.orgId), { plan: 'large' });
  });

  it('1. no header → 401 api_key_missing saying to add the key to the connection', async () => {
    for (const header of [undefined, '']) {
      const body = expectProblem(await callGateway(t, header), 401, 'api_key_missing');
      expect(body.detail).toMatch(/No API key was sent/);
      expect(body.detail).toMatch(/paste your API key into it/);
    }
  });

  it('2. invisible spaces, quotes or a Bearer prefix → 401 api_key_malformed naming which; plain spaces around it are fine', async () => {
    const { secret } = await createKey(t, admin, { name: 'prod-paste-flow-ops' });
    expect((await callGateway(t, ` ${secret} `)).statusCode).toBe(200);
    const cases: Array<[string, RegExp]> = [
      [`${secret}\u200b`, /invisible character at its end/],
      [`"${secret}"`, /quotation marks/],
      [`Bearer ${secret}`, /"Bearer " prefix/],
    ];
    for (const [header, named] of cases) {
      const body = expectProblem(await callGateway(t, header), 401, 'api_key_malformed');
      expect(body.detail).toMatch(named);
      expect(body.detail).toMatch(/paste it into the connection, without it/);
      expect(JSON.stringify(body)).not.toContain(secret);
    }
  });

  it('3. wrong prefix, length, alphabet or checksum → 401 api_key_malformed with the length received', async () => {
    const key = generateApiKey();
    const lastChar = key.at(-1) === 'a' ? 'b' : 'a';
    const cases: Array<[string, RegExp]> = [
      [key.slice(0, 30), /has 30 characters/],
      [`${key}x`, /has 42 characters/],
      [`xdoc_${key.slice(5)}`, /does not start with "bdoc_"/],
      [`${key.slice(0, 40)}!`, /letters and digits/],
      [key.slice(0, 40) + lastChar, /check digits do not match/],
    ];
    for (const [header, named] of cases) {
      const body = expectProblem(await callGateway(t, header), 401, 'api_key_malformed');
      expect(body.detail).toMatch(/looks mistyped or truncated/);
      expect(body.detail).toMatch(/41 characters long and starts with "bdoc_"/);
      expect(body.detail).toMatch(named);
    }
  });

  it('a malformed key never reaches the database', async () => {
    const before = t.services.cache.size;
    for (let i = 0; i < 50; i++) await callGateway(t, `bdoc_${'x'.repeat(36)}`);
    expect(t.services.cache.size).toEqual(before);
  });

  it('4. well-formed but unknown → 401 api_key_invalid with how to get a key', async () => {
    const body = expectProblem(await callGateway(t, generateApiKey()), 401, 'api_key_invalid');
    expect(body.detail).toMatch(/^Invalid API key or API key not found/);
    expect(body.detail).toMatch(/create a new key in the Build a Doc portal/);
  });

  it('5. revoked → 401 api_key_revoked with the date, on the very next request', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-revoke-flow-ops' });
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    const revoked = await t.app.inject({ method: 'POST', url: `/api/keys/${id}/revoke`, headers: { cookie: admin.cookie } });
    expect(revoked.statusCode).toBe(200);
    const body = expectProblem(await callGateway(t, secret), 401, 'api_key_revoked');
    expect(body.detail).toMatch(/was revoked on 2026-03-01/);
    expect(body.detail).toMatch(/Create a new key/);
  });

  it('5. deleted → 401 api_key_revoked', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-delete-flow-ops' });
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/keys/${id}`, headers: { cookie: admin.cookie } })).statusCode).toBe(204);
    const body = expectProblem(await callGateway(t, secret), 401, 'api_key_revoked');
    expect(body.detail).toMatch(/was deleted on 2026-03-01/);
  });

  it('6. suspended → 401 api_key_suspended saying an admin can resume it', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-suspend-flow-ops' });
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    await t.app.inject({ method: 'POST', url: `/api/keys/${id}/suspend`, headers: { cookie: admin.cookie } });
    const body = expectProblem(await callGateway(t, secret), 401, 'api_key_suspended');
    expect(body.detail).toMatch(/is suspended/);
    expect(body.detail).toMatch(/An Admin of your organisation.*can resume it/);
  });

  it('7. expired → 401 api_key_expired "API key expired" on the date', async () => {
    const { secret } = await createKey(t, admin, { name: 'prod-expiry-flow-ops', expiresInDays: 30 });
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    clock.advance(30 * DAY);
    const body = expectProblem(await callGateway(t, secret), 401, 'api_key_expired');
    expect(body.detail).toMatch(/^API key expired on 2026-03-31/);
    expect(body.detail).toMatch(/Create a new key/);
    clock.advance(-30 * DAY);
  });

  it('8. subscription not active or trialing → 403 subscription_inactive naming the status', async () => {
    const other = await signup(t, 'Northwind');
    const { secret } = await createKey(t, other, { name: 'prod-sub-flow-ops' });
    const operator = operatorOf(other.orgId);
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    for (const status of ['past_due', 'cancelled', 'suspended'] as const) {
      await t.services.orgs.setSubscription(operator, { status });
      const body = expectProblem(await callGateway(t, secret), 403, 'subscription_inactive');
      expect(body.detail).toContain(`subscription is ${status.replace('_', ' ')}`);
      expect(body.detail).toMatch(/check the subscription in the Build a Doc portal/i);
      expect(body.subscriptionStatus).toBe(status);
    }
    await t.services.orgs.setSubscription(operator, { status: 'trialing' });
    expect((await callGateway(t, secret)).statusCode).toBe(200);
  });

  it('checks in order: a suspended key of an inactive subscription is answered as suspended', async () => {
    const other = await signup(t, 'Tailspin');
    const { id, secret } = await createKey(t, other, { name: 'prod-order-flow-ops', expiresInDays: 30 });
    await t.services.orgs.setSubscription(operatorOf(other.orgId), { status: 'cancelled' });
    await t.app.inject({ method: 'POST', url: `/api/keys/${id}/suspend`, headers: { cookie: other.cookie } });
    clock.advance(31 * DAY);
    expectProblem(await callGateway(t, secret), 401, 'api_key_suspended');
    // The session idled out over those 31 days; the operator revokes instead.
    await t.services.keys.revoke(operatorOf(other.orgId), id);
    expectProblem(await callGateway(t, secret), 401, 'api_key_revoked');
    clock.advance(-31 * DAY);
  });

  it('an unknown /v1 route is a problem+json 404', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expectProblem(response, 404, 'not_found');
  });

  it('a wrong method on an existing path is a problem+json 405 with Allow, under /v1 and /api alike; an unknown path stays 404', async () => {
    const { secret } = await createKey(t, admin, { name: 'prod-method-flow-ops' });
    const cases: Array<[string, string, string, Record<string, string>]> = [
      ['POST', '/v1/connection', 'GET, HEAD', {}],
      ['DELETE', '/v1/connection', 'GET, HEAD', { 'x-api-key': secret }],
      ['GET', '/v1/pdf/merge', 'POST', {}],
      ['PUT', '/v1/triggers/key-revoked', 'POST', {}],
      ['POST', '/v1/triggers/subscriptions/sub_anything', 'DELETE', {}],
      ['DELETE', '/api/keys', 'GET, HEAD, POST', { cookie: admin.cookie }],
      ['PUT', '/api/keys/key_anything?x=1', 'DELETE, GET, HEAD, PATCH', { cookie: admin.cookie }],
      ['PATCH', '/api/subscription', 'GET, HEAD, PUT', { cookie: admin.cookie }],
    ];
    for (const [method, url, allow, headers] of cases) {
      const response = await t.app.inject({ method: method as 'POST', url, headers });
      const body = expectProblem(response, 405, 'method_not_allowed');
      expect(response.headers.allow, `${method} ${url}`).toBe(allow);
      expect(body.allow, `${method} ${url}`).toEqual(allow.split(', '));
      expect(body.detail, `${method} ${url}`).toBe(`${url.split('?')[0]} does not answer ${method}; it answers ${allow}.`);
    }
    // Paths no route has, for any method (the portal's page fallback answers GET on every path and does not count).
    for (const [method, url] of [
      ['POST', '/v1/nothing-here'],
      ['POST', '/v1/connection/extra'],
      ['DELETE', '/api/keys/key_anything/nothing'],
      ['POST', '/some-portal-page'],
    ]) {
      expectProblem(await t.app.inject({ method: method as 'POST', url, headers: { cookie: admin.cookie } }), 404, 'not_found');
    }
    // /api keeps its route names from strangers: no session, no 405.
    expectProblem(await t.app.inject({ method: 'DELETE', url: '/api/keys' }), 401, 'unauthenticated');
  });
});
