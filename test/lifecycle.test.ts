import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, ManualClock } from '../src/lib/clock.js';
import { PASSWORD, callGateway, cookieOf, createKey, signup, startTestApp, type Session, type TestApp } from './support/harness.js';

describe('the life of an API key', () => {
  const clock = new ManualClock('2026-05-04T08:00:00.000Z');
  let t: TestApp;
  let admin: Session;
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: { cookie: admin.cookie }, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    t = await startTestApp({ clock });
    admin = await signup(t, 'Litware');
  });
  afterAll(() => t.close());

  it('create → use → suspend (401) → resume (200) → revoke (401 on the very next request) → delete', async () => {
    const created = await api('POST', '/api/keys', { name: '  prod-invoice-flow-finance  ', environment: 'production', team: 'Finance', expiresInDays: 90 });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { key, secret } = created.json();
    expect(secret).toMatch(/^bdoc_[0-9A-Za-z]{36}$/);
    expect(key).toMatchObject({
      name: 'prod-invoice-flow-finance',
      start: secret.slice(0, 9),
      last4: secret.slice(-4),
      status: 'active',
      environment: 'production',
      team: 'Finance',
      createdAt: '2026-05-04T08:00:00.000Z',
      createdBy: { id: admin.userId, email: admin.email, name: 'Ada Admin', deactivated: false },
      expiresAt: '2026-08-02T08:00:00.000Z',
      lastUsedAt: null,
      revokedAt: null,
      replacesKeyId: null,
    });

    expect((await callGateway(t, secret)).statusCode).toBe(200);

    const suspended = await api('POST', `/api/keys/${key.id}/suspend`);
    expect(suspended.json()).toMatchObject({ status: 'suspended', suspendedAt: '2026-05-04T08:00:00.000Z' });
    expect((await callGateway(t, secret)).json().code).toBe('api_key_suspended');

    expect((await api('POST', `/api/keys/${key.id}/resume`)).json()).toMatchObject({ status: 'active', suspendedAt: null });
    expect((await callGateway(t, secret)).statusCode).toBe(200);

    const revoked = await api('POST', `/api/keys/${key.id}/revoke`);
    expect(revoked.json()).toMatchObject({ status: 'revoked', revokedAt: '2026-05-04T08:00:00.000Z', revokedBy: { id: admin.userId } });
    expect((await callGateway(t, secret)).json().code).toBe('api_key_revoked');

    // Revoked is final.
    expect((await api('POST', `/api/keys/${key.id}/resume`)).json().code).toBe('conflict');
    expect((await api('POST', `/api/keys/${key.id}/revoke`)).json().code).toBe('conflict');

    expect((await api('DELETE', `/api/keys/${key.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/api/keys/${key.id}`)).statusCode).toBe(404);
    const list = (await api('GET', '/api/keys')).json();
    expect(list.items.map((k: { id: string }) => k.id)).not.toContain(key.id);
    expect((await callGateway(t, secret)).json().code).toBe('api_key_revoked');

    const events = (await api('GET', `/api/audit?resourceId=${key.id}`)).json().items.map((e: { eventType: string }) => e.eventType);
    expect(events.sort()).toEqual(['key.created', 'key.deleted', 'key.resumed', 'key.revoked', 'key.suspended']);
  });

  it('delete revokes a live key first, immediately', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-delete-flow-ops' });
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    expect((await api('DELETE', `/api/keys/${id}`)).statusCode).toBe(204);
    expect((await callGateway(t, secret)).json().code).toBe('api_key_revoked');
    const audit = (await api('GET', `/api/audit?resourceId=${id}&eventType=key.deleted`)).json().items;
    expect(audit[0].details).toMatchObject({ revokedNow: true });
  });

  it('expiry: a key stops at expiresAt, shows as expired, and "key expired" is audited once', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'test-expiry-flow-qa', expiresInDays: 30 });
    clock.advance(30 * DAY - 1000);
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    clock.advance(1000);
    expect((await callGateway(t, secret)).json().code).toBe('api_key_expired');
    const { recordExpiredKeys } = await import('../src/keys/expiry-sweeper.js');
    const deps = { db: t.services.db, clock, audit: t.services.audit, events: t.services.events };
    expect(await recordExpiredKeys(deps)).toBeGreaterThanOrEqual(1);
    expect(await recordExpiredKeys(deps)).toBe(0);
    clock.advance(-30 * DAY);
    admin = await signup(t, 'Litware again');
    const audit = await t.services.audit.list(
      t.services.db,
      (await t.services.db.selectFrom('apiKeys').select('orgId').where('id', '=', id).executeTakeFirstOrThrow()).orgId,
      { resourceId: id, eventType: 'key.expired' },
      { limit: 10, offset: 0 },
    );
    expect(audit.total).toBe(1);
    expect(audit.items[0]).toMatchObject({ eventType: 'key.expired', severity: 'warning', userId: null });
  });

  it('expiry choices are 30, 60, 90, 365 days or never; anything else is refused and creates nothing', async () => {
    for (const [days, expected] of [
      [60, '2026-07-03T08:00:00.000Z'],
      [365, '2027-05-04T08:00:00.000Z'],
      [null, null],
    ] as const) {
      const response = await api('POST', '/api/keys', { name: `prod-expiry-${days}-ops`, expiresInDays: days });
      expect(response.json().key.expiresAt).toBe(expected);
    }
    const before = (await api('GET', '/api/keys')).json().total;
    for (const days of [7, 0, -1, 'ninety', 400]) {
      const response = await api('POST', '/api/keys', { name: 'prod-bad-expiry-ops', expiresInDays: days });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ path: '/expiresInDays' })] });
    }
    expect((await api('GET', '/api/keys')).json().total).toBe(before);
  });

  it('names: trimmed, 1–100 characters, no control characters; vague or duplicate names warn', async () => {
    for (const name of ['', '   ', 'x'.repeat(101), 'line\nbreak', 'tab\there']) {
      const response = await api('POST', '/api/keys', { name });
      expect(response.statusCode, JSON.stringify(name)).toBe(400);
      expect(response.json().code).toBe('validation_failed');
    }
    const vague = await api('POST', '/api/keys', { name: 'MyKey' });
    expect(vague.statusCode).toBe(201);
    expect(vague.json().warnings.join(' ')).toMatch(/does not say where the key is used.*prod-invoice-flow-finance/);
    const twin = await api('POST', '/api/keys', { name: 'MyKey' });
    expect(twin.json().warnings.join(' ')).toMatch(/1 other live key has this name/);
    const good = await api('POST', '/api/keys', { name: 'prod-payroll-flow-hr' });
    expect(good.json().warnings).toEqual([]);
  });

  it('rename changes the name, is audited with before and after, and keeps the key working', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-old-name-ops' });
    const renamed = await api('PATCH', `/api/keys/${id}`, { name: 'prod-new-name-ops', team: 'Ops' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().key).toMatchObject({ name: 'prod-new-name-ops', team: 'Ops' });
    expect((await callGateway(t, secret)).json().keyName).toBe('prod-new-name-ops');
    const audit = (await api('GET', `/api/audit?resourceId=${id}&eventType=key.renamed`)).json().items;
    expect(audit[0].details).toMatchObject({ from: 'prod-old-name-ops', to: 'prod-new-name-ops' });
    expect((await api('PATCH', `/api/keys/${id}`, {})).statusCode).toBe(400);
  });

  it('rotate: a successor with the same name, shown once, linked both ways; the old key works until revoked', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-rotate-flow-ops', environment: 'production', team: 'Ops', expiresInDays: 90 });
    const rotated = await api('POST', `/api/keys/${id}/rotate`, {});
    expect(rotated.statusCode).toBe(201);
    const successor = rotated.json();
    expect(successor.secret).toMatch(/^bdoc_/);
    expect(successor.secret).not.toBe(secret);
    expect(successor.key).toMatchObject({ name: 'prod-rotate-flow-ops', environment: 'production', team: 'Ops', replacesKeyId: id, status: 'active' });
    expect(Date.parse(successor.key.expiresAt) - Date.parse(successor.key.createdAt)).toBe(90 * DAY);
    expect((await api('GET', `/api/keys/${id}`)).json()).toMatchObject({ replacedByKeyId: successor.key.id, status: 'active', graceEndsAt: null });
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    expect((await callGateway(t, successor.secret)).statusCode).toBe(200);
    expect((await api('POST', `/api/keys/${id}/rotate`, {})).json().code).toBe('conflict');
    await api('POST', `/api/keys/${id}/revoke`);
    expect((await callGateway(t, secret)).json().code).toBe('api_key_revoked');
    expect((await callGateway(t, successor.secret)).statusCode).toBe(200);
  });

  it('rotate with a grace period: the old key stops when the grace ends', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-grace-flow-ops' });
    const rotated = await api('POST', `/api/keys/${id}/rotate`, { graceHours: 24 });
    expect((await api('GET', `/api/keys/${id}`)).json().graceEndsAt).toBe('2026-05-05T08:00:00.000Z');
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    clock.advance(DAY);
    const refused = (await callGateway(t, secret)).json();
    expect(refused.code).toBe('api_key_revoked');
    expect(refused.detail).toMatch(/grace period ended on 2026-05-05/);
    expect((await callGateway(t, rotated.json().secret)).statusCode).toBe(200);
    clock.advance(-DAY);
  });

  it("a key past its grace or its expiry is no longer live: it leaves the key limit and the member's key count", async () => {
    const owner = await signup(t, 'Grace Ltd', undefined, { plan: 'free' });
    let cookie = owner.cookie;
    const as = (method: 'GET' | 'POST', url: string, payload?: object) =>
      t.app.inject({ method, url, headers: { cookie }, ...(payload === undefined ? {} : { payload }) });
    // Days pass between the steps: the session would have ended.
    const signInAgain = async () => {
      cookie = cookieOf(await t.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { email: owner.email, password: PASSWORD } }));
    };
    const liveCount = async () => (await as('GET', '/api/members')).json().items.find((m: { id: string }) => m.id === owner.userId).activeKeyCount as number;
    await createKey(t, owner, { name: 'prod-expiring-ops', expiresInDays: 30 });
    const rotating = await createKey(t, owner, { name: 'prod-rotating-ops' });
    expect((await as('POST', `/api/keys/${rotating.id}/rotate`, { graceHours: 24 })).statusCode).toBe(201);
    // The Free plan allows 2 live keys; a rotation may go one over while its predecessor is in its grace.
    expect(await liveCount()).toBe(3);
    expect((await as('POST', '/api/keys', { name: 'prod-refused-ops' })).json().code).toBe('key_limit_reached');

    clock.advance(DAY);
    await signInAgain();
    // The grace ended: the old key no longer counts (2 live, still at the limit).
    expect(await liveCount()).toBe(2);
    expect((await as('POST', '/api/keys', { name: 'prod-refused-ops' })).json().code).toBe('key_limit_reached');

    clock.advance(29 * DAY);
    await signInAgain();
    // The first key expired: a place is free.
    expect(await liveCount()).toBe(1);
    expect((await as('POST', '/api/keys', { name: 'prod-allowed-ops' })).statusCode).toBe(201);
    expect(await liveCount()).toBe(2);
    clock.advance(-30 * DAY);
  });

  it('a lost key cannot be retrieved by any route: only create and rotate ever return it', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-secret-flow-ops' });
    await callGateway(t, secret, { 'x-ms-workflow-name': 'flow-guid-1' });
    await t.services.usage.flush();
    const reads = [
      '/api/keys',
      `/api/keys/${id}`,
      `/api/keys/${id}/usage`,
      `/api/keys/${id}/flows`,
      '/api/audit',
      '/api/audit/export.csv',
      '/api/me',
      '/api/members',
      '/api/subscription',
      '/api/openapi.json',
    ];
    for (const url of reads) {
      const response = await api('GET', url);
      expect(response.statusCode, url).toBe(200);
      expect(response.body, url).not.toContain(secret);
      expect(response.body, url).not.toContain(secret.slice(9, -4));
    }
  });

  it('the key list is paginated, searchable, filterable and sortable', async () => {
    const org = await signup(t, 'Paging Ltd');
    for (let i = 0; i < 7; i++) await createKey(t, org, { name: `prod-page-${i}-ops`, environment: i % 2 ? 'test' : 'production' });
    const get = (query: string) => t.app.inject({ method: 'GET', url: `/api/keys?${query}`, headers: { cookie: org.cookie } }).then((r) => r.json());
    const first = await get('limit=3&sort=name&order=asc');
    expect(first).toMatchObject({ total: 7, limit: 3, offset: 0 });
    expect(first.items.map((k: { name: string }) => k.name)).toEqual(['prod-page-0-ops', 'prod-page-1-ops', 'prod-page-2-ops']);
    const third = await get('limit=3&offset=6&sort=name&order=asc');
    expect(third.items.map((k: { name: string }) => k.name)).toEqual(['prod-page-6-ops']);
    expect((await get('environment=test')).total).toBe(3);
    expect((await get('q=PAGE-4')).items.map((k: { name: string }) => k.name)).toEqual(['prod-page-4-ops']);
    expect((await get('status=revoked')).total).toBe(0);
    expect((await t.app.inject({ method: 'GET', url: '/api/keys?limit=1000', headers: { cookie: org.cookie } })).statusCode).toBe(400);
  });

  it('a whole key finds itself by its SHA-256 (the key is never sent), and by its last four characters', async () => {
    const org = await signup(t, 'Hash Search Ltd');
    const wanted = await createKey(t, org, { name: 'prod-wanted-flow-ops' });
    await createKey(t, org, { name: 'prod-other-flow-ops' });
    const get = (query: string) => t.app.inject({ method: 'GET', url: `/api/keys?${query}`, headers: { cookie: org.cookie } });
    const hash = createHash('sha256').update(wanted.secret).digest('hex');
    const byHash = (await get(`hash=${hash}`)).json();
    expect(byHash.items.map((k: { id: string }) => k.id)).toEqual([wanted.id]);
    expect((await get(`hash=${hash.toUpperCase()}`)).json().total).toBe(1);
    expect((await get(`last4=${wanted.secret.slice(-4)}`)).json().items.map((k: { id: string }) => k.id)).toContain(wanted.id);
    // A key that is not theirs, or no key at all, finds nothing.
    expect((await get(`hash=${createHash('sha256').update('bdoc_not-a-key').digest('hex')}`)).json().total).toBe(0);
    const stranger = await signup(t, 'Someone Else Ltd');
    const theirs = await t.app.inject({ method: 'GET', url: `/api/keys?hash=${hash}`, headers: { cookie: stranger.cookie } });
    expect(theirs.json().total).toBe(0);
    // Only a hash is accepted: a whole key in `hash=` is refused, and never echoed back.
    const refused = await get(`hash=${wanted.secret}`);
    expect(refused.statusCode).toBe(400);
    expect(refused.body).not.toContain(wanted.secret);
    expect((await get('last4=abc')).statusCode).toBe(400);
  });

  it('revoked keys can be hidden, shown (the default) or listed alone', async () => {
    const org = await signup(t, 'Revoked Filter Ltd', undefined, { plan: 'enterprise' });
    const live = await createKey(t, org, { name: 'prod-live-flow-ops' });
    const ended = await createKey(t, org, { name: 'prod-ended-flow-ops' });
    const rotated = await createKey(t, org, { name: 'prod-rotated-flow-ops' });
    const revoke = await t.app.inject({ method: 'POST', url: `/api/keys/${ended.id}/revoke`, headers: { cookie: org.cookie } });
    expect(revoke.statusCode).toBe(200);
    // A rotation with a grace period: the old key stays live until it ends.
    const rotate = await t.app.inject({ method: 'POST', url: `/api/keys/${rotated.id}/rotate`, headers: { cookie: org.cookie }, payload: { graceHours: 1 } });
    expect(rotate.statusCode).toBe(201);
    const ids = async (query: string) =>
      ((await t.app.inject({ method: 'GET', url: `/api/keys?${query}`, headers: { cookie: org.cookie } })).json().items as Array<{ id: string }>).map(
        (k) => k.id,
      );
    expect(await ids('')).toEqual(expect.arrayContaining([live.id, ended.id, rotated.id]));
    expect(await ids('revoked=show')).toHaveLength(4);
    const hidden = await ids('revoked=hide');
    expect(hidden).toEqual(expect.arrayContaining([live.id, rotated.id]));
    expect(hidden).not.toContain(ended.id);
    expect(await ids('revoked=only')).toEqual([ended.id]);
    clock.advance(2 * 3600 * 1000);
    // Past its grace period the rotated key counts as revoked too.
    expect(await ids('revoked=only')).toEqual(expect.arrayContaining([ended.id, rotated.id]));
    expect(await ids('revoked=hide')).not.toContain(rotated.id);
    expect((await t.app.inject({ method: 'GET', url: '/api/keys?revoked=maybe', headers: { cookie: org.cookie } })).statusCode).toBe(400);
  });
});
