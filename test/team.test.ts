/**
 * The team (CONTRACT §5 "Team", "Roles"): one-time invitation links valid for 7 days whose
 * token is never stored, role changes that apply on the very next request, deactivation that
 * ends sessions but keeps the person's keys working, and an organisation that always keeps
 * an Admin — each step in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, MINUTE, ManualClock } from '../src/lib/clock.js';
import {
  PASSWORD,
  addMember,
  callGateway,
  cookieOf,
  createKey,
  databaseBytes,
  invitationToken,
  sessionCookieOf,
  signup,
  uniqueEmail,
  startTestApp,
  type Session,
  type TestApp,
} from './support/harness.js';

let t: TestApp;
let admin: Session;

beforeAll(async () => {
  t = await startTestApp();
  admin = await signup(t, 'Contoso', undefined, { plan: 'enterprise' });
});

afterAll(async () => {
  await t?.close();
});

function as(who: Session | string) {
  const cookie = typeof who === 'string' ? who : who.cookie;
  return {
    get: (url: string) => t.app.inject({ method: 'GET', url, headers: { cookie } }),
    post: (url: string, payload?: Record<string, unknown>) => t.app.inject({ method: 'POST', url, headers: { cookie }, ...(payload ? { payload } : {}) }),
    patch: (url: string, payload: Record<string, unknown>) => t.app.inject({ method: 'PATCH', url, headers: { cookie }, payload }),
  };
}

async function invite(app: TestApp, by: Session, role: 'admin' | 'member' | 'viewer', email = uniqueEmail(role)) {
  const response = await app.app.inject({ method: 'POST', url: '/api/invitations', headers: { cookie: by.cookie }, payload: { email, role } });
  expect(response.statusCode, response.body).toBe(201);
  const url: string = response.json().url;
  const token = invitationToken(url);
  expect(token.length).toBeGreaterThan(10);
  return { email, url, token, invitation: response.json().invitation };
}

function accept(app: TestApp, token: string, name = 'Invited Person') {
  return app.app.inject({ method: 'POST', url: '/api/invitations/accept', payload: { token, name, password: PASSWORD } });
}

function signin(email: string) {
  return t.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { email, password: PASSWORD } });
}

async function membersWithEmail(email: string): Promise<unknown[]> {
  const response = await as(admin).get('/api/members?limit=200');
  return response.json().items.filter((m: { email: string }) => m.email === email);
}

describe('invitations', () => {
  it('an invitation link signs the invited person in, in the inviting organisation, with the invited role', async () => {
    const { token, email } = await invite(t, admin, 'viewer');
    const accepted = await accept(t, token, 'Vera Viewer');
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ user: { email, name: 'Vera Viewer', role: 'viewer', status: 'active' }, organisation: { id: admin.orgId } });

    expect(sessionCookieOf(accepted)).toBeDefined();
    const me = await as(cookieOf(accepted)).get('/api/me');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ user: { email, role: 'viewer' }, organisation: { id: admin.orgId } });
  });

  it('an invitation link works only once', async () => {
    const { token, email } = await invite(t, admin, 'member');
    expect((await accept(t, token, 'First Use')).statusCode).toBe(200);

    const again = await accept(t, token, 'Second Use');
    expect([404, 409]).toContain(again.statusCode);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.json().code).toBe(again.statusCode === 404 ? 'not_found' : 'conflict');
    expect(sessionCookieOf(again)).toBeUndefined();
    expect(await membersWithEmail(email)).toHaveLength(1);
  });

  it('an invitation link is valid for 7 days and refused after', async () => {
    const clock = new ManualClock('2026-03-02T09:00:00.000Z');
    const app = await startTestApp({ clock });
    try {
      const owner = await signup(app, 'Tailspin');
      const early = await invite(app, owner, 'member');
      const late = await invite(app, owner, 'member');
      expect(Date.parse(early.invitation.expiresAt) - clock.now().getTime()).toBe(7 * DAY);

      clock.advance(7 * DAY - MINUTE);
      const inTime = await accept(app, early.token);
      expect(inTime.statusCode, inTime.body).toBe(200);

      clock.advance(2 * MINUTE);
      const tooLate = await accept(app, late.token);
      expect(tooLate.statusCode).toBe(404);
      expect(tooLate.json().code).toBe('not_found');
      expect(tooLate.json().detail).toMatch(/expired|7 days/i);
      expect(sessionCookieOf(tooLate)).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it("only the token's hash is stored: the token is nowhere in the database file", async () => {
    const { token, url, email } = await invite(t, admin, 'member');
    let bytes = await databaseBytes(t);
    expect(bytes).toContain(email); // the invitation is there…
    expect(bytes).not.toContain(token); // …its token is not
    expect(bytes).not.toContain(url);

    expect((await accept(t, token)).statusCode).toBe(200);
    bytes = await databaseBytes(t);
    expect(bytes).not.toContain(token);
  });

  it('someone who already has an account cannot be invited again (409)', async () => {
    const member = await addMember(t, admin, 'member');
    const response = await as(admin).post('/api/invitations', { email: member.email.toUpperCase(), role: 'viewer' });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('conflict');
  });
});

describe('roles', () => {
  it('a role change takes effect on the very next request of the same session', async () => {
    const person = await addMember(t, admin, 'viewer');
    const before = await as(person).post('/api/keys', { name: 'prod-invoice-flow-finance' });
    expect(before.statusCode).toBe(403);

    const promoted = await as(admin).patch(`/api/members/${person.userId}`, { role: 'member' });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json().role).toBe('member');

    const after = await as(person).post('/api/keys', { name: 'prod-invoice-flow-finance' });
    expect(after.statusCode, after.body).toBe(201);
    expect((await as(person).get('/api/me')).json().user.role).toBe('member');

    const demoted = await as(admin).patch(`/api/members/${person.userId}`, { role: 'viewer' });
    expect(demoted.statusCode).toBe(200);
    const refused = await as(person).post(`/api/keys/${after.json().key.id}/suspend`);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('forbidden');
  });

  it('a role that does not exist is a 400 naming the roles there are, for an invitation and for a role change', async () => {
    const person = await addMember(t, admin, 'viewer');
    for (const response of [
      await as(admin).post('/api/invitations', { email: uniqueEmail('owner'), role: 'owner' }),
      await as(admin).patch(`/api/members/${person.userId}`, { role: 'Admin' }),
    ]) {
      expect(response.statusCode, response.body).toBe(400);
      const body = response.json();
      expect(body.errors).toEqual([{ path: '/role', message: 'must be one of "admin", "member", "viewer"' }]);
      expect(body.detail).toContain('/role must be one of "admin", "member", "viewer"');
    }
  });

  it('a person made Admin may manage the team at once', async () => {
    const person = await addMember(t, admin, 'member');
    expect((await as(person).post('/api/invitations', { email: uniqueEmail('x'), role: 'viewer' })).statusCode).toBe(403);
    expect((await as(admin).patch(`/api/members/${person.userId}`, { role: 'admin' })).statusCode).toBe(200);
    expect((await as(person).post('/api/invitations', { email: uniqueEmail('x'), role: 'viewer' })).statusCode).toBe(201);
  });
});

describe('deactivation', () => {
  it("ends the person's sessions at once, they cannot sign in, and the keys they created keep working, flagged", async () => {
    const person = await addMember(t, admin, 'member', 'Dee Parted');
    const signedIn = await signin(person.email);
    expect(sessionCookieOf(signedIn)).toBeDefined();
    const secondSession = cookieOf(signedIn);
    const key = await createKey(t, person, { name: 'prod-payroll-flow-hr' });
    expect((await callGateway(t, key.secret)).statusCode).toBe(200);

    const deactivated = await as(admin).post(`/api/members/${person.userId}/deactivate`);
    expect(deactivated.statusCode, deactivated.body).toBe(200);
    expect(deactivated.json()).toMatchObject({ id: person.userId, status: 'deactivated' });
    expect(deactivated.json().deactivatedAt).toEqual(expect.any(String));

    for (const cookie of [person.cookie, secondSession]) {
      const me = await as(cookie).get('/api/me');
      expect(me.statusCode).toBe(401);
      expect(me.json().code).toBe('unauthenticated');
    }

    const signIn = await signin(person.email);
    expect(signIn.statusCode).toBe(401);
    expect(signIn.json().code).toBe('unauthenticated');
    expect(sessionCookieOf(signIn)).toBeUndefined();

    expect((await callGateway(t, key.secret)).statusCode).toBe(200);
    const view = await as(admin).get(`/api/keys/${key.id}`);
    expect(view.json().status).toBe('active');
    expect(view.json().createdBy).toMatchObject({ id: person.userId, deactivated: true });
    const listed = (await as(admin).get('/api/keys?limit=200')).json().items.find((k: { id: string }) => k.id === key.id);
    expect(listed.createdBy.deactivated).toBe(true);

    const member = (await membersWithEmail(person.email))[0] as { status: string };
    expect(member.status).toBe('deactivated');
  });

  it('keys of people still active are not flagged', async () => {
    const person = await addMember(t, admin, 'member');
    const key = await createKey(t, person);
    expect((await as(admin).get(`/api/keys/${key.id}`)).json().createdBy).toMatchObject({ id: person.userId, deactivated: false });
  });
});

describe('an organisation always keeps an Admin', () => {
  it('the last Admin cannot be demoted or deactivated (409); while another Admin exists, one may step down', async () => {
    const first = await signup(t, 'Litware');
    const second = await addMember(t, first, 'admin');

    const lastDemote = async (who: Session) => as(who).patch(`/api/members/${who.userId}`, { role: 'member' });

    // Two Admins: the second may be demoted.
    const demoted = await as(first).patch(`/api/members/${second.userId}`, { role: 'member' });
    expect(demoted.statusCode, demoted.body).toBe(200);

    // Now `first` is the only Admin.
    const refusedDemotion = await lastDemote(first);
    expect(refusedDemotion.statusCode).toBe(409);
    expect(refusedDemotion.json().code).toBe('conflict');
    const refusedDeactivation = await as(first).post(`/api/members/${first.userId}/deactivate`);
    expect(refusedDeactivation.statusCode).toBe(409);
    expect(refusedDeactivation.json().code).toBe('conflict');

    const me = await as(first).get('/api/me');
    expect(me.statusCode).toBe(200);
    expect(me.json().user).toMatchObject({ role: 'admin', status: 'active' });
  });

  it('a deactivated Admin does not count: the remaining Admin is the last one', async () => {
    const first = await signup(t, 'Adventure Works');
    const second = await addMember(t, first, 'admin');
    expect((await as(first).post(`/api/members/${second.userId}/deactivate`)).statusCode).toBe(200);
    const refused = await as(first).patch(`/api/members/${first.userId}`, { role: 'viewer' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('conflict');
  });
});

describe('the audit log records the team changes', () => {
  it('user.invited, user.joined, user.role_changed and user.deactivated', async () => {
    const owner = await signup(t, 'Wingtip');
    const { token, email, invitation } = await invite(t, owner, 'member');
    const joined = await accept(t, token, 'Audrey Audit');
    expect(joined.statusCode).toBe(200);
    const userId: string = joined.json().user.id;
    expect((await as(owner).patch(`/api/members/${userId}`, { role: 'viewer' })).statusCode).toBe(200);
    expect((await as(owner).post(`/api/members/${userId}/deactivate`)).statusCode).toBe(200);

    const entries = async (eventType: string) => (await as(owner).get(`/api/audit?eventType=${eventType}`)).json().items as Array<Record<string, any>>;

    const invited = await entries('user.invited');
    expect(invited).toHaveLength(1);
    expect(invited[0]).toMatchObject({ userId: owner.userId, resourceId: invitation.id, details: { email, role: 'member' } });
    expect(JSON.stringify(invited[0])).not.toContain(token);

    expect(await entries('user.joined')).toEqual([expect.objectContaining({ userId, resourceId: userId })]);
    expect(await entries('user.role_changed')).toEqual([
      expect.objectContaining({ userId: owner.userId, resourceId: userId, details: expect.objectContaining({ from: 'member', to: 'viewer' }) }),
    ]);
    expect(await entries('user.deactivated')).toEqual([expect.objectContaining({ userId: owner.userId, resourceId: userId })]);
  });
});
