/**
 * Signing up, in and out of the portal (CONTRACT §5 "Sessions"): what a sign-up creates, how
 * wrong passwords are answered and throttled, what the session cookie looks like, that only
 * hashes of session tokens are kept, that other websites cannot make changes, and that bad
 * input is refused field by field without creating anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, ManualClock } from '../src/lib/clock.js';
import {
  PASSWORD,
  cookieOf,
  createKey,
  databaseBytes,
  expectProblem,
  sessionCookieOf,
  signup,
  startTestApp,
  uniqueEmail,
  type Session,
  type TestApp,
} from './support/harness.js';

const PUBLIC_ORIGIN = 'http://portal.test'; // the harness's PUBLIC_URL
const EVIL_ORIGIN = 'https://evil.example';

let t: TestApp;
let admin: Session;

beforeAll(async () => {
  t = await startTestApp();
  admin = await signup(t, 'Contoso', undefined, { plan: 'enterprise' });
});

afterAll(async () => {
  await t?.close();
});

function signinRequest(app: TestApp, email: string, password: string, extra: { remoteAddress?: string; cookie?: string } = {}) {
  return app.app.inject({
    method: 'POST',
    url: '/api/auth/signin',
    payload: { email, password },
    ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}),
    ...(extra.cookie ? { headers: { cookie: extra.cookie } } : {}),
  });
}

function me(cookie: string, app: TestApp = t) {
  return app.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
}

async function counts(app: TestApp = t): Promise<{ users: number; organisations: number }> {
  const count = async (table: 'users' | 'organisations') =>
    Number(
      (
        await app.services.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return { users: await count('users'), organisations: await count('organisations') };
}

async function keyTotal(who: Session): Promise<number> {
  const response = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { cookie: who.cookie } });
  expect(response.statusCode).toBe(200);
  return response.json().total;
}

describe('sign-up', () => {
  it('creates an organisation on the Free plan, active, with its first Admin, and signs them in', async () => {
    const email = uniqueEmail('founder');
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      payload: { email, password: PASSWORD, name: 'Fay Founder', organisation: 'Northwind Traders' },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({
      user: { email, name: 'Fay Founder', role: 'admin', status: 'active' },
      organisation: { name: 'Northwind Traders', plan: 'free', subscriptionStatus: 'active' },
    });

    const cookie = cookieOf(response);
    const session = await me(cookie);
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({
      user: { email, role: 'admin' },
      organisation: { id: response.json().organisation.id, plan: 'free', subscriptionStatus: 'active' },
    });

    const subscription = await t.app.inject({ method: 'GET', url: '/api/subscription', headers: { cookie } });
    expect(subscription.json()).toMatchObject({ plan: 'free', status: 'active' });
  });

  it('an email that already has an account is a 409, whatever its case, and creates nothing', async () => {
    const before = await counts();
    for (const email of [admin.email, admin.email.toUpperCase()]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        payload: { email, password: PASSWORD, name: 'Copy Cat', organisation: 'Copycat Ltd' },
      });
      expectProblem(response, 409, 'conflict');
      expect(sessionCookieOf(response)).toBeUndefined();
    }
    expect(await counts()).toEqual(before);
  });
});

describe('bad input is a 400 validation_failed naming each field, and creates nothing', () => {
  const valid = () => ({ email: uniqueEmail('valid'), password: PASSWORD, name: 'Val Id', organisation: 'Valid Org' });
  const cases: Array<{ what: string; payload: string | Record<string, unknown>; path: string }> = [
    { what: 'a missing field', payload: (({ organisation: _omitted, ...rest }) => rest)(valid()), path: '/organisation' },
    { what: 'an email that is not one', payload: { ...valid(), email: 'not-an-email' }, path: '/email' },
    { what: 'a short password', payload: { ...valid(), password: 'short' }, path: '/password' },
    { what: 'an unknown field', payload: { ...valid(), role: 'admin' }, path: '/role' },
    { what: 'a body that is not JSON', payload: '{"email": "someone@example.com", "password":', path: '/' },
  ];

  for (const { what, payload, path } of cases) {
    it(`sign-up with ${what}`, async () => {
      const before = await counts();
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        headers: { 'content-type': 'application/json' },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      });
      const body = expectProblem(response, 400, 'validation_failed');
      expect(Array.isArray(body.errors)).toBe(true);
      expect(body.errors.length).toBeGreaterThan(0);
      for (const error of body.errors) {
        expect(error).toEqual({ path: expect.any(String), message: expect.any(String) });
        expect(error.message.length).toBeGreaterThan(0);
      }
      expect(body.errors.map((e: { path: string }) => e.path)).toContain(path);
      expect(sessionCookieOf(response)).toBeUndefined();
      expect(await counts()).toEqual(before);
    });
  }

  const keyCases: Array<{ what: string; payload: string | Record<string, unknown>; path: string }> = [
    { what: 'no name', payload: { team: 'finance' }, path: '/name' },
    { what: 'an unknown field', payload: { name: 'prod-invoice-flow-finance', ownerId: 'usr_someone' }, path: '/ownerId' },
    { what: 'an expiry that is not one of the choices', payload: { name: 'prod-invoice-flow-finance', expiresInDays: 7 }, path: '/expiresInDays' },
    { what: 'a body that is not JSON', payload: '{"name": ', path: '/' },
  ];

  for (const { what, payload, path } of keyCases) {
    it(`creating a key with ${what}`, async () => {
      const before = await keyTotal(admin);
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/keys',
        headers: { cookie: admin.cookie, 'content-type': 'application/json' },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      });
      const body = expectProblem(response, 400, 'validation_failed');
      expect(
        body.errors.every((e: unknown) => typeof (e as { path: unknown }).path === 'string' && typeof (e as { message: unknown }).message === 'string'),
      ).toBe(true);
      expect(body.errors.map((e: { path: string }) => e.path)).toContain(path);
      expect(body).not.toHaveProperty('secret');
      expect(await keyTotal(admin)).toBe(before);
    });
  }
});

describe('sign-in', () => {
  it('a wrong password is a 401 with no session, and an auth.sign_in_failed audit entry', async () => {
    const wrong = 'not the right password at all';
    const response = await signinRequest(t, admin.email, wrong);
    expectProblem(response, 401, 'unauthenticated');
    expect(sessionCookieOf(response)).toBeUndefined();

    const audit = await t.app.inject({ method: 'GET', url: '/api/audit?eventType=auth.sign_in_failed', headers: { cookie: admin.cookie } });
    expect(audit.statusCode).toBe(200);
    const entries: Array<Record<string, unknown>> = audit.json().items;
    expect(entries.length).toBeGreaterThanOrEqual(1);
    expect(entries[0]).toMatchObject({ eventType: 'auth.sign_in_failed', resourceId: admin.userId });
    expect(JSON.stringify(entries)).not.toContain(wrong);
  });

  it('10 failed sign-ins for one account: the next is a 429 rate_limited with Retry-After, until that time has passed', async () => {
    const clock = new ManualClock();
    const app = await startTestApp({ clock });
    try {
      const victim = await signup(app, 'Target Corp');
      const bystander = await signup(app, 'Bystander Inc');
      const remoteAddress = '203.0.113.7';
      for (let attempt = 1; attempt <= 10; attempt++) {
        clock.advance(1000);
        const response = await signinRequest(app, victim.email, `wrong password number ${attempt}`, { remoteAddress });
        expect(response.statusCode, `attempt ${attempt}`).toBe(401);
      }

      const locked = await signinRequest(app, victim.email, PASSWORD, { remoteAddress });
      expectProblem(locked, 429, 'rate_limited');
      expect(sessionCookieOf(locked)).toBeUndefined();
      const retryAfter = locked.headers['retry-after'];
      expect(String(retryAfter)).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThan(0);

      // The lock is on that account, not on everybody.
      expect((await signinRequest(app, bystander.email, PASSWORD, { remoteAddress })).statusCode).toBe(200);

      clock.advance(Number(retryAfter) * 1000);
      const later = await signinRequest(app, victim.email, PASSWORD, { remoteAddress });
      expect(later.statusCode, later.body).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('every sign-in starts a new session with a new token, even when an old cookie is sent along', async () => {
    const email = uniqueEmail('person');
    const signedUp = await t.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      payload: { email, password: PASSWORD, name: 'Sam Session', organisation: 'Sessions Ltd' },
    });
    const first = cookieOf(signedUp);
    const second = cookieOf(await signinRequest(t, email, PASSWORD));
    const third = cookieOf(await signinRequest(t, email, PASSWORD, { cookie: second }));
    expect(new Set([first, second, third]).size).toBe(3);
    expect((await me(third)).statusCode).toBe(200);
  });

  it('sign-out ends the session: the same cookie is then refused', async () => {
    const cookie = cookieOf(await signinRequest(t, admin.email, PASSWORD));
    expect((await me(cookie)).statusCode).toBe(200);
    const out = await t.app.inject({ method: 'POST', url: '/api/auth/signout', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expectProblem(await me(cookie), 401, 'unauthenticated');
  });
});

describe('the session cookie', () => {
  it('is HttpOnly and SameSite=Lax, and not Secure when PUBLIC_URL is http', async () => {
    const response = await signinRequest(t, admin.email, PASSWORD);
    const cookie = sessionCookieOf(response)!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie.secure).toBeFalsy();
    const raw = String(response.headers['set-cookie']);
    expect(raw).toMatch(/;\s*HttpOnly/i);
    expect(raw).toMatch(/;\s*SameSite=Lax/i);
  });

  it('is also Secure when PUBLIC_URL is https', async () => {
    const app = await startTestApp({ env: { PUBLIC_URL: 'https://portal.example' } });
    try {
      const response = await app.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        payload: { email: uniqueEmail('secure'), password: PASSWORD, name: 'Sue Secure', organisation: 'Secure Ltd' },
      });
      expect(response.statusCode, response.body).toBe(201);
      expect(sessionCookieOf(response)).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: true });
      expect(String(response.headers['set-cookie'])).toMatch(/;\s*Secure/i);
    } finally {
      await app.close();
    }
  });

  it('is stored only as a hash: no session token is in the database file', async () => {
    const email = uniqueEmail('hashed');
    const signedUp = await t.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      payload: { email, password: PASSWORD, name: 'Hal Hash', organisation: 'Hash Ltd' },
    });
    const tokens = [sessionCookieOf(signedUp)!.value, sessionCookieOf(await signinRequest(t, email, PASSWORD))!.value];
    const bytes = await databaseBytes(t);
    expect(bytes).toContain(email); // the account is there…
    for (const token of tokens) {
      expect(token.length).toBeGreaterThan(20);
      expect(bytes).not.toContain(token); // …its sessions' tokens are not
    }
    expect(bytes).not.toContain(PASSWORD);
  });
});

describe('requests from another website cannot change anything', () => {
  function createKeyWith(headers: Record<string, string>) {
    return t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: admin.cookie, ...headers }, payload: { name: 'prod-invoice-flow-finance' } });
  }

  it('a cross-origin request is a 403 csrf_rejected, and no key is created', async () => {
    const before = await keyTotal(admin);
    const response = await createKeyWith({ origin: EVIL_ORIGIN });
    expectProblem(response, 403, 'csrf_rejected');
    expect(await keyTotal(admin)).toBe(before);
  });

  it('a cross-origin request cannot rename, revoke or delete a key, or sign someone out', async () => {
    const key = await createKey(t, admin, { name: 'prod-kept-flow-finance' });
    const headers = { cookie: admin.cookie, origin: EVIL_ORIGIN };
    expectProblem(await t.app.inject({ method: 'PATCH', url: `/api/keys/${key.id}`, headers, payload: { name: 'pwned' } }), 403, 'csrf_rejected');
    expectProblem(await t.app.inject({ method: 'POST', url: `/api/keys/${key.id}/revoke`, headers }), 403, 'csrf_rejected');
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/api/keys/${key.id}`, headers }), 403, 'csrf_rejected');
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/auth/signout', headers }), 403, 'csrf_rejected');

    const after = await t.app.inject({ method: 'GET', url: `/api/keys/${key.id}`, headers: { cookie: admin.cookie } });
    expect(after.json()).toMatchObject({ name: 'prod-kept-flow-finance', status: 'active' });
    expect((await me(admin.cookie)).statusCode).toBe(200);
  });

  it('a cross-origin sign-up is refused and creates nothing', async () => {
    const before = await counts();
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      headers: { origin: EVIL_ORIGIN },
      payload: { email: uniqueEmail('csrf'), password: PASSWORD, name: 'Eve Evil', organisation: 'Evil Org' },
    });
    expectProblem(response, 403, 'csrf_rejected');
    expect(await counts()).toEqual(before);
  });

  it('Sec-Fetch-Site cross-site (or same-site) without an Origin is refused', async () => {
    const before = await keyTotal(admin);
    expectProblem(await createKeyWith({ 'sec-fetch-site': 'cross-site' }), 403, 'csrf_rejected');
    expectProblem(await createKeyWith({ 'sec-fetch-site': 'same-site' }), 403, 'csrf_rejected');
    expect(await keyTotal(admin)).toBe(before);
  });

  it("the portal's own origin (Origin equal to PUBLIC_URL) may change things", async () => {
    const response = await createKeyWith({ origin: PUBLIC_ORIGIN, 'sec-fetch-site': 'same-origin' });
    expect(response.statusCode, response.body).toBe(201);
  });

  it('a program that is not a browser (no Origin, no Sec-Fetch-Site) may change things', async () => {
    const response = await createKeyWith({});
    expect(response.statusCode, response.body).toBe(201);
  });

  it('the refusal happens before anything else: even a signed-out cross-origin request is csrf_rejected', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { origin: EVIL_ORIGIN }, payload: { name: 'x' } });
    expectProblem(response, 403, 'csrf_rejected');
  });
});

describe('sessions end on their own', () => {
  it('a session unused for longer than its idle time is refused', async () => {
    const clock = new ManualClock();
    const app = await startTestApp({ clock, env: { SESSION_IDLE_HOURS: '1' } });
    try {
      const who = await signup(app, 'Idle Ltd');
      clock.advance(30 * MINUTE);
      expect((await me(who.cookie, app)).statusCode).toBe(200);
      clock.advance(61 * MINUTE);
      expectProblem(await me(who.cookie, app), 401, 'unauthenticated');
    } finally {
      await app.close();
    }
  });
});

describe('the session probe the portal asks first', () => {
  it('answers a browser with no session 200 {signedIn:false}, so a first visit logs no error', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/session' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ signedIn: false });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers an ended or made-up session 200 {signedIn:false} and clears its cookie', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: 'bdoc_session=not-a-session' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ signedIn: false });
    expect(String(response.headers['set-cookie'])).toMatch(/bdoc_session=;/);
  });

  it('answers a signed-in browser with the person and organisation, as /api/me does', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: admin.cookie } });
    expect(response.statusCode).toBe(200);
    const meNow = (await me(admin.cookie)).json();
    expect(response.json()).toEqual({ signedIn: true, ...meNow });
  });

  it('answers signed out once the person has signed out', async () => {
    const session = await signup(t, 'Fabrikam');
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/signout', headers: { cookie: session.cookie } })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: session.cookie } })).json()).toEqual({ signedIn: false });
  });
});
