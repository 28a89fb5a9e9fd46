import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { DEFAULT_PLANS, PlanCatalogue } from '../src/plans/catalogue.js';
import { makePdf } from './documents/fixtures.js';
import { callGateway, createKey, operatorOf, signup, startTestApp, type TestApp } from './support/harness.js';

const compute = { data: [{ a: 1 }, { a: 2 }], expression: 'Sum(a)' };

describe('plans, quotas and rate limits at the gateway (CONTRACT §4 checks 9–11, §6)', () => {
  const clock = new ManualClock('2026-04-10T10:00:00.000Z');
  // The catalogue is data: a test plan without the PDF feature, next to the real ones.
  const plans = new PlanCatalogue([
    {
      id: 'basic',
      name: 'Basic',
      documentActionsPerMonth: 5,
      utilityActionsPerMonth: 5,
      requestsPerMinute: 600,
      maxKeys: 5,
      features: ['connection', 'compute'],
    },
    ...DEFAULT_PLANS,
  ]);
  let t: TestApp;
  let pdfs: { merge: object };

  const post = (secret: string, url: string, payload: object) => t.app.inject({ method: 'POST', url: `/v1${url}`, headers: { 'x-api-key': secret }, payload });
  async function orgWithKey(name: string, plan: string, overrides: Parameters<TestApp['services']['orgs']['setSubscription']>[1] = {}) {
    const admin = await signup(t, name);
    await t.services.orgs.setSubscription(operatorOf(admin.orgId), { plan, ...overrides });
    const key = await createKey(t, admin, { name: `prod-${plan}-flow-ops` });
    return { admin, key };
  }

  beforeAll(async () => {
    t = await startTestApp({ clock, plans });
    const pdf = (await makePdf(1)).toString('base64');
    pdfs = { merge: { files: [pdf, pdf] } };
  });
  afterAll(() => t.close());

  it('9. an action outside the plan → 403 feature_not_available naming the plan that has it', async () => {
    const { key } = await orgWithKey('Basic Ltd', 'basic');
    const response = await post(key.secret, '/pdf/merge', pdfs.merge);
    expect(response.statusCode).toBe(403);
    const body = response.json();
    expect(body).toMatchObject({ code: 'feature_not_available', plan: 'basic', availableIn: 'free' });
    expect(body.detail).toMatch(/^Feature not available for your subscription/);
    expect(body.detail).toMatch(/MergePdfs.*Basic plan.*included in the Free plan/);
    expect((await post(key.secret, '/data/compute', compute)).statusCode).toBe(200);
  });

  it('a Free organisation gets its 50 document actions, then a clear 403 with the reset date', async () => {
    const { admin, key } = await orgWithKey('Free Ltd', 'free');
    await t.services.orgs.setSubscription(operatorOf(admin.orgId), { overrides: { requestsPerMinute: 1000 } });
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) statuses.push((await post(key.secret, '/pdf/merge', pdfs.merge)).statusCode);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const refused = await post(key.secret, '/pdf/merge', pdfs.merge);
    expect(refused.statusCode).toBe(403);
    const body = refused.json();
    expect(body).toMatchObject({ code: 'quota_exceeded', actionType: 'document', used: 50, limit: 50, resetsAt: '2026-05-01T00:00:00.000Z' });
    expect(body.detail).toMatch(/used 50 of 50 document actions/);
    expect(body.detail).toMatch(/resets on 2026-05-01/);
    // Utility actions have their own quota; CheckConnection is not billed and tells what is left.
    expect((await post(key.secret, '/data/compute', compute)).statusCode).toBe(200);
    const connection = await callGateway(t, key.secret);
    expect(connection.statusCode).toBe(200);
    expect(connection.json()).toMatchObject({ documentActionsLeft: 0, utilityActionsLeft: 49 });

    await t.services.usage.flush();
    const usage = (await t.app.inject({ method: 'GET', url: '/api/usage', headers: { cookie: admin.cookie } })).json();
    expect(usage.quotas).toEqual([
      { actionType: 'document', used: 50, limit: 50, remaining: 0, percent: 100 },
      { actionType: 'utility', used: 1, limit: 50, remaining: 49, percent: 2 },
    ]);
    // The gateway answers without waiting for the announcement: it is written just after, so look until it is there.
    const thresholds = async () => {
      const events = (await t.app.inject({ method: 'GET', url: '/api/audit?eventType=quota.threshold_reached', headers: { cookie: admin.cookie } })).json();
      return events.items.map((e: { details: { threshold: number } }) => e.details.threshold).sort();
    };
    await expect.poll(thresholds, { timeout: 5000 }).toEqual([100, 80]);

    // The next period starts fresh.
    clock.set('2026-05-01T00:00:01.000Z');
    expect((await post(key.secret, '/pdf/merge', pdfs.merge)).statusCode).toBe(200);
    clock.set('2026-04-10T10:00:00.000Z');
  });

  it('a burst of N concurrent requests against a quota of N−k admits exactly N−k', async () => {
    const { key } = await orgWithKey('Burst Quota Ltd', 'enterprise', { overrides: { utilityActionsPerMonth: 17, requestsPerMinute: 100_000 } });
    const responses = await Promise.all(Array.from({ length: 25 }, () => post(key.secret, '/data/compute', compute)));
    const codes = responses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(17);
    expect(codes.filter((c) => c === 403)).toHaveLength(8);
    expect(responses.filter((r) => r.statusCode === 403).every((r) => r.json().code === 'quota_exceeded')).toBe(true);
  });

  it('failed actions do not consume quota', async () => {
    const { key } = await orgWithKey('Careful Ltd', 'enterprise', { overrides: { documentActionsPerMonth: 2, requestsPerMinute: 100_000 } });
    for (let i = 0; i < 5; i++) {
      const bad = await post(key.secret, '/pdf/merge', { files: ['bm90IGEgcGRm', 'bm90IGEgcGRm'] });
      expect(bad.statusCode).toBe(400);
    }
    expect((await post(key.secret, '/pdf/merge', pdfs.merge)).statusCode).toBe(200);
    expect((await post(key.secret, '/pdf/merge', pdfs.merge)).statusCode).toBe(200);
    expect((await post(key.secret, '/pdf/merge', pdfs.merge)).json()).toMatchObject({ code: 'quota_exceeded', used: 2, limit: 2 });
  });

  it("the limiter lets the plan's rate through, refuses beyond it with a correct Retry-After, and recovers smoothly", async () => {
    const { key } = await orgWithKey('Rate Ltd', 'enterprise', { overrides: { requestsPerMinute: 6 } });
    const first = await callGateway(t, key.secret);
    expect(first.headers['ratelimit-limit']).toBe('6');
    expect(first.headers['ratelimit-remaining']).toBe('5');
    for (let i = 0; i < 5; i++) expect((await callGateway(t, key.secret)).statusCode).toBe(200);
    const refused = await callGateway(t, key.secret);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'rate_limited', retryAfter: 10 });
    expect(refused.json().detail).toMatch(/allows 6 requests per minute. Retry after 10 seconds/);
    expect(refused.headers['retry-after']).toBe('10');
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    // Smooth: one request every 10 s comes back, not the whole minute at once.
    clock.advance(9_999);
    expect((await callGateway(t, key.secret)).statusCode).toBe(429);
    clock.advance(1);
    expect((await callGateway(t, key.secret)).statusCode).toBe(200);
    expect((await callGateway(t, key.secret)).statusCode).toBe(429);
    clock.advance(60_000);
    const recovered = await callGateway(t, key.secret);
    expect(recovered.statusCode).toBe(200);
    expect(recovered.headers['ratelimit-remaining']).toBe('5');
  });

  it('a plan change applies on the next request', async () => {
    const { admin, key } = await orgWithKey('Upgrade Ltd', 'free');
    await t.services.orgs.setSubscription(operatorOf(admin.orgId), { overrides: { requestsPerMinute: 1000 } });
    await t.services.orgs.setSubscription(operatorOf(admin.orgId), { overrides: { documentActionsPerMonth: 1 } });
    expect((await post(key.secret, '/pdf/merge', pdfs.merge)).statusCode).toBe(200);
    expect((await post(key.secret, '/pdf/merge', pdfs.merge)).json().code).toBe('quota_exceeded');
    await t.services.orgs.setSubscription(operatorOf(admin.orgId), { plan: 'standard', overrides: { documentActionsPerMonth: undefined } });
    expect((await callGateway(t, key.secret)).json().plan).toBe('standard');
    expect((await post(key.secret, '/pdf/merge', pdfs.merge)).statusCode).toBe(200);
    await t.services.orgs.setSubscription(operatorOf(admin.orgId), { plan: 'basic' });
    expect((await post(key.secret, '/pdf/merge', pdfs.merge)).json().code).toBe('feature_not_available');
  });

  it('refusals at checks 9–11 are counted against the key as rejected, never as successes', async () => {
    const { admin, key } = await orgWithKey('Counted Ltd', 'enterprise', { overrides: { documentActionsPerMonth: 1, requestsPerMinute: 100_000 } });
    await post(key.secret, '/pdf/merge', pdfs.merge);
    await post(key.secret, '/pdf/merge', pdfs.merge);
    await post(key.secret, '/pdf/merge', pdfs.merge);
    await t.services.usage.flush();
    const usage = (await t.app.inject({ method: 'GET', url: `/api/keys/${key.id}/usage`, headers: { cookie: admin.cookie } })).json();
    expect(usage.totals).toEqual({ success: 1, client_error: 0, server_error: 0, rejected: 2 });
  });

  it('quota counts survive a restart: they start from the database', async () => {
    const { admin, key } = await orgWithKey('Restart Ltd', 'enterprise', { overrides: { utilityActionsPerMonth: 3, requestsPerMinute: 100_000 } });
    for (let i = 0; i < 2; i++) expect((await post(key.secret, '/data/compute', compute)).statusCode).toBe(200);
    await t.services.usage.flush();
    const { QuotaTracker } = await import('../src/limits/quota-tracker.js');
    const fresh = new QuotaTracker(t.services.db);
    const org = { id: admin.orgId, periodStart: '2026-01-01T00:00:00.000Z', periodEnd: null };
    const first = await fresh.reserve(org, 'utility', 3, clock.nowMs());
    expect(first).toMatchObject({ ok: true, used: 2 });
    if (first.ok) first.reservation.commit();
    expect(await fresh.reserve(org, 'utility', 3, clock.nowMs())).toMatchObject({ ok: false, used: 3, limit: 3 });
  });

  it('the key limit of the plan applies at creation: 403 key_limit_reached with the number', async () => {
    const admin = await signup(t, 'Two Keys Ltd', undefined, { plan: 'free' });
    await createKey(t, admin, { name: 'prod-one-ops' });
    const second = await createKey(t, admin, { name: 'prod-two-ops' });
    const third = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: admin.cookie }, payload: { name: 'prod-three-ops' } });
    expect(third.statusCode).toBe(403);
    expect(third.json()).toMatchObject({ code: 'key_limit_reached', limit: 2, plan: 'free' });
    expect(third.json().detail).toMatch(/Free plan allows 2 live API keys/);
    // A rotation may go one over while its predecessor is live.
    const rotated = await t.app.inject({ method: 'POST', url: `/api/keys/${second.id}/rotate`, headers: { cookie: admin.cookie }, payload: {} });
    expect(rotated.statusCode).toBe(201);
    const again = await t.app.inject({ method: 'POST', url: `/api/keys/${rotated.json().key.id}/rotate`, headers: { cookie: admin.cookie }, payload: {} });
    expect(again.json().code).toBe('key_limit_reached');
    // Revoking frees a place.
    await t.app.inject({ method: 'POST', url: `/api/keys/${second.id}/revoke`, headers: { cookie: admin.cookie } });
    await t.app.inject({ method: 'POST', url: `/api/keys/${rotated.json().key.id}/revoke`, headers: { cookie: admin.cookie } });
    expect((await t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: admin.cookie }, payload: { name: 'prod-four-ops' } })).statusCode).toBe(
      201,
    );
  });

  it('periods follow the calendar month by default', async () => {
    const { currentPeriod } = await import('../src/plans/period.js');
    expect(currentPeriod({ periodStart: '2026-01-15T00:00:00.000Z', periodEnd: null }, new Date('2026-02-28T23:59:59.000Z'))).toEqual({
      start: '2026-02-01T00:00:00.000Z',
      end: '2026-03-01T00:00:00.000Z',
    });
    expect(currentPeriod({ periodStart: '2026-01-15T00:00:00.000Z', periodEnd: null }, new Date('2026-12-31T12:00:00.000Z'))).toEqual({
      start: '2026-12-01T00:00:00.000Z',
      end: '2027-01-01T00:00:00.000Z',
    });
  });

  it('organisations asked in turn each get their own period, and a period that changes is read anew', async () => {
    const { currentPeriod } = await import('../src/plans/period.js');
    const at = new Date('2026-06-20T12:00:00.000Z');
    // Three paid subscriptions with periods of their own, and one whose bounds are not toISOString's form.
    const subs = [
      { periodStart: '2026-06-10T00:00:00.000Z', periodEnd: '2026-07-10T00:00:00.000Z' },
      { periodStart: '2026-06-15T00:00:00.000Z', periodEnd: '2026-07-15T00:00:00.000Z' },
      { periodStart: '2026-05-20T00:00:00.000Z', periodEnd: '2026-06-20T00:00:00.000Z' }, // just ended: the calendar month
      { periodStart: '2026-06-01T00:00:00Z', periodEnd: '2026-07-01T00:00:00Z' },
    ];
    const expected = [
      { start: '2026-06-10T00:00:00.000Z', end: '2026-07-10T00:00:00.000Z' },
      { start: '2026-06-15T00:00:00.000Z', end: '2026-07-15T00:00:00.000Z' },
      { start: '2026-06-01T00:00:00.000Z', end: '2026-07-01T00:00:00.000Z' },
      { start: '2026-06-01T00:00:00Z', end: '2026-07-01T00:00:00Z' },
    ];
    for (let round = 0; round < 3; round++) for (const [i, sub] of subs.entries()) expect(currentPeriod(sub, at.getTime())).toEqual(expected[i]);
    // The same object renewed for the next period.
    const renewed = subs[2]!;
    renewed.periodStart = '2026-06-20T00:00:00.000Z';
    renewed.periodEnd = '2026-07-20T00:00:00.000Z';
    expect(currentPeriod(renewed, at)).toEqual({ start: '2026-06-20T00:00:00.000Z', end: '2026-07-20T00:00:00.000Z' });
  });
});

describe('subscription and usage in the portal API', () => {
  let t: TestApp;
  // Each test starts its own app: close each one (on PostgreSQL, its database is dropped).
  afterEach(() => t?.close());

  it('an Admin may change the plan only when the operator allows self-service; every change is audited', async () => {
    t = await startTestApp();
    const admin = await signup(t, 'Self Service Off', undefined, { plan: 'free' });
    const refused = await t.app.inject({ method: 'PUT', url: '/api/subscription', headers: { cookie: admin.cookie }, payload: { plan: 'standard' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toMatch(/contact them to change your plan/);
    expect((await t.app.inject({ method: 'GET', url: '/api/subscription', headers: { cookie: admin.cookie } })).json()).toMatchObject({
      plan: 'free',
      selfService: false,
    });
    await t.close();

    t = await startTestApp({ env: { SELF_SERVICE_PLANS: 'true' } });
    const other = await signup(t, 'Self Service On', undefined, { plan: 'free' });
    const changed = await t.app.inject({ method: 'PUT', url: '/api/subscription', headers: { cookie: other.cookie }, payload: { plan: 'standard' } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({
      plan: 'standard',
      limits: { documentActionsPerMonth: 500, utilityActionsPerMonth: 5000, requestsPerMinute: 300, maxKeys: 10 },
    });
    const unknown = await t.app.inject({ method: 'PUT', url: '/api/subscription', headers: { cookie: other.cookie }, payload: { plan: 'platinum' } });
    expect(unknown.statusCode).toBe(400);
    expect(
      (await t.app.inject({ method: 'PUT', url: '/api/subscription', headers: { cookie: other.cookie }, payload: { plan: 'enterprise' } })).statusCode,
    ).toBe(403);
    const audit = (await t.app.inject({ method: 'GET', url: '/api/audit?eventType=subscription.changed', headers: { cookie: other.cookie } })).json();
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]).toMatchObject({ userId: other.userId, details: { from: { plan: 'free' }, to: { plan: 'standard' } } });
  });

  it("the usage API's numbers equal the requests made: per action type, per operation, per day, and as CSV", async () => {
    const clock = new ManualClock('2026-06-15T12:00:00.000Z');
    t = await startTestApp({ clock });
    const admin = await signup(t, 'Usage Numbers Ltd');
    const key = await createKey(t, admin, { name: 'prod-usage-numbers-ops' });
    const pdf = (await makePdf(1)).toString('base64');
    const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url: `/v1${url}`, headers: { 'x-api-key': key.secret }, payload });
    for (let i = 0; i < 3; i++) await post('/pdf/merge', { files: [pdf, pdf] });
    await post('/pdf/merge', { files: [] });
    for (let i = 0; i < 4; i++) await post('/data/compute', compute);
    for (let i = 0; i < 2; i++) await callGateway(t, key.secret);
    await t.services.usage.flush();
    const usage = (await t.app.inject({ method: 'GET', url: '/api/usage', headers: { cookie: admin.cookie } })).json();
    expect(usage.quotas).toEqual([
      { actionType: 'document', used: 3, limit: 5000, remaining: 4997, percent: 0.1 },
      { actionType: 'utility', used: 4, limit: 100000, remaining: 99996, percent: 0 },
    ]);
    expect(usage.operations).toEqual([
      { operation: 'CheckConnection', actionType: 'none', success: 2, clientError: 0, serverError: 0, rejected: 0 },
      { operation: 'ComputeData', actionType: 'utility', success: 4, clientError: 0, serverError: 0, rejected: 0 },
      { operation: 'MergePdfs', actionType: 'document', success: 3, clientError: 1, serverError: 0, rejected: 0 },
    ]);
    const today = '2026-06-15';
    expect(usage.daily).toEqual([{ day: today, document: 3, utility: 4, none: 2, failed: 1 }]);
    const csv = await t.app.inject({ method: 'GET', url: '/api/usage/export.csv', headers: { cookie: admin.cookie } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body.split('\r\n')).toEqual([
      'day,operation,actionType,outcome,count',
      `${today},CheckConnection,none,success,2`,
      `${today},ComputeData,utility,success,4`,
      `${today},MergePdfs,document,client_error,1`,
      `${today},MergePdfs,document,success,3`,
      '',
    ]);
  });
});
