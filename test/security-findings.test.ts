/**
 * The security findings of the isolation and hardening issue, each reproduced and closed:
 * raced sign-in throttling and account lock-out, the guard skipped by percent-encoding, flows
 * made by refused requests, unthrottled sign-up that named existing accounts, missing headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, callGateway, createKey, expectProblem, signup, startTestApp, uniqueEmail, type Session, type TestApp } from './support/harness.js';

describe('sign-in throttling', () => {
  let t: TestApp;
  let admin: Session;
  let deviceCookie: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signup(t, 'Throttled Ltd');
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/auth/signin',
      payload: { email: admin.email, password: PASSWORD },
      remoteAddress: '10.0.0.1',
    });
    expect(first.statusCode).toBe(200);
    const device = first.cookies.find((c) => c.name === 'bdoc_device');
    expect(device?.httpOnly).toBe(true);
    deviceCookie = `bdoc_device=${device!.value}`;
  });
  afterAll(() => t.close());

  it('25 wrong passwords at once: no more than the limit are even checked, the rest get 429 with Retry-After', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/api/auth/signin',
          payload: { email: admin.email, password: `wrong password ${i}` },
          remoteAddress: `192.0.2.${i + 1}`,
        }),
      ),
    );
    const unauthorised = attempts.filter((r) => r.statusCode === 401).length;
    const throttled = attempts.filter((r) => r.statusCode === 429);
    expect(unauthorised).toBe(10);
    expect(throttled).toHaveLength(15);
    for (const response of throttled) expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('the right password from a browser that signed in before still gets in; from an unknown one it waits', async () => {
    const known = await t.app.inject({
      method: 'POST',
      url: '/api/auth/signin',
      headers: { cookie: deviceCookie },
      payload: { email: admin.email, password: PASSWORD },
      remoteAddress: '10.0.0.1',
    });
    expect(known.statusCode, known.body).toBe(200);
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/auth/signin',
      payload: { email: admin.email, password: PASSWORD },
      remoteAddress: '10.0.0.2',
    });
    expectProblem(unknown, 429, 'rate_limited');
    const forged = await t.app.inject({
      method: 'POST',
      url: '/api/auth/signin',
      headers: { cookie: 'bdoc_device=made-up-value' },
      payload: { email: admin.email, password: PASSWORD },
      remoteAddress: '10.0.0.3',
    });
    expectProblem(forged, 429, 'rate_limited');
  });
});

describe('sign-up', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SIGNUPS_PER_IP_PER_HOUR: '3' } });
  });
  afterAll(() => t.close());

  const signupFrom = (ip: string, email: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      payload: { email, password: PASSWORD, name: 'Sam', organisation: 'Probe Ltd' },
      remoteAddress: ip,
    });

  it('does not say that an account exists, and is throttled per address (attempts on taken emails count too)', async () => {
    const email = uniqueEmail('taken');
    expect((await signupFrom('198.51.100.1', email)).statusCode).toBe(201);
    const again = expectProblem(await signupFrom('198.51.100.1', email), 409, 'conflict');
    expect(again.detail).not.toMatch(/exists|already/i);
    expect((await signupFrom('198.51.100.1', uniqueEmail('new'))).statusCode).toBe(201);
    const fourth = expectProblem(await signupFrom('198.51.100.1', uniqueEmail('new')), 429, 'rate_limited');
    expect(fourth.detail).toMatch(/Try again/);
    expect((await signupFrom('198.51.100.2', uniqueEmail('other'))).statusCode).toBe(201);
  });
});

describe('the session and origin guard', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signup(t, 'Guarded Ltd');
  });
  afterAll(() => t.close());

  it('matches the routed path: /%61pi/keys meets the same guard as /api/keys', async () => {
    const crossSite = await t.app.inject({
      method: 'POST',
      url: '/%61pi/keys',
      headers: { cookie: admin.cookie, origin: 'https://evil.example' },
      payload: { name: 'prod-evil-flow-ops' },
    });
    expectProblem(crossSite, 403, 'csrf_rejected');
    expectProblem(await t.app.inject({ method: 'GET', url: '/%61pi/keys' }), 401, 'unauthenticated');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/%6Beys' }), 401, 'unauthenticated');
    const list = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { cookie: admin.cookie } });
    expect(list.json().items).toEqual([]);
  });
});

describe('flows', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await startTestApp({ env: { FLOWS_PER_KEY_MAX: '3' } });
    admin = await signup(t, 'Flows Ltd');
  });
  afterAll(() => t.close());

  const flowsOf = async (id: string) => {
    await t.services.usage.flush();
    return (await t.app.inject({ method: 'GET', url: `/api/keys/${id}/flows`, headers: { cookie: admin.cookie } })).json().items as {
      workflowName: string;
      calls: number;
    }[];
  };

  it('refused requests make no flow; a key keeps at most FLOWS_PER_KEY_MAX flows while every call is still counted', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-flows-flow-ops' });
    await t.app.inject({ method: 'POST', url: `/api/keys/${id}/suspend`, headers: { cookie: admin.cookie } });
    for (let i = 0; i < 20; i++) expect((await callGateway(t, secret, { 'x-ms-workflow-name': `made-up-${i}` })).statusCode).toBe(401);
    expect(await flowsOf(id)).toEqual([]);

    await t.app.inject({ method: 'POST', url: `/api/keys/${id}/resume`, headers: { cookie: admin.cookie } });
    for (let i = 0; i < 5; i++) expect((await callGateway(t, secret, { 'x-ms-workflow-name': `flow-${i}` })).statusCode).toBe(200);
    await t.services.usage.flush();
    for (let i = 0; i < 5; i++) await callGateway(t, secret, { 'x-ms-workflow-name': `flow-${i}` });
    const flows = await flowsOf(id);
    expect(flows).toHaveLength(3);
    expect(flows.every((flow) => flow.calls === 2)).toBe(true);
    const usage = (await t.app.inject({ method: 'GET', url: `/api/keys/${id}/usage`, headers: { cookie: admin.cookie } })).json();
    const successes = usage.items.filter((i: { outcome: string }) => i.outcome === 'success').reduce((n: number, i: { count: number }) => n + i.count, 0);
    expect(successes).toBe(10);
  });
});

describe('security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL: 'https://keys.example.com' } });
  });
  afterAll(() => t.close());

  it('nosniff and a Content-Security-Policy on every answer; HSTS when the portal is https', async () => {
    for (const url of ['/healthz', '/api/me', '/v1/connection', '/privacy', '/api/docs', '/api/docs/static/index.html', '/api/openapi.json', '/nothing-here']) {
      const response = await t.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['content-security-policy'], url).toBeTruthy();
      expect(response.headers['strict-transport-security'], url).toMatch(/max-age=\d+/);
    }
    const privacy = await t.app.inject({ method: 'GET', url: '/privacy' });
    expect(privacy.headers['content-security-policy']).toMatch(/default-src 'none'/);
    const docs = await t.app.inject({ method: 'GET', url: '/api/docs/static/index.html' });
    expect(docs.headers['content-security-policy']).toMatch(/script-src/);
  });

  it('no HSTS over plain http', async () => {
    const plain = await startTestApp();
    try {
      const response = await plain.app.inject({ method: 'GET', url: '/healthz' });
      expect(response.headers['strict-transport-security']).toBeUndefined();
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    } finally {
      await plain.close();
    }
  });
});
