/**
 * The authorisation matrix of CONTRACT §5: every `/api` route, tried by every kind of actor —
 * nobody, a Viewer, a Member (on their own key and on someone else's), an Admin, and the Admin
 * of another organisation — with the exact status and problem `code` each must get.
 *
 * The role table is written down once (PERMISSIONS) and every expectation is derived from it,
 * so a row reads as "this route needs that permission". Actions that change state get fresh
 * keys / people per case, so the order of the cases does not matter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseChecker } from './support/openapi.js';
import {
  PASSWORD,
  addMember,
  callGateway,
  cookieOf,
  createKey,
  expectProblem,
  invitationToken,
  signup,
  startTestApp,
  uniqueEmail,
  type Session,
  type TestApp,
} from './support/harness.js';

// ---------------------------------------------------------------------------------------------
// The contract's role table
// ---------------------------------------------------------------------------------------------

/** How much of a permission each role has: everything, only what they own, or nothing. */
type Reach = 'all' | 'own' | 'none';
type Role = 'admin' | 'member' | 'viewer';

/** CONTRACT §5 "Roles". `signedIn` is anything a signed-in person may do about themselves. */
const PERMISSIONS = {
  view: { admin: 'all', member: 'all', viewer: 'all' }, // view keys, usage, subscription (and the team)
  createKeys: { admin: 'all', member: 'all', viewer: 'none' },
  manageKeys: { admin: 'all', member: 'own', viewer: 'none' }, // suspend/resume/rotate/revoke/delete/rename, bulk, a rotation's self-revocation
  labelFlows: { admin: 'all', member: 'all', viewer: 'none' }, // a flow is the organisation's, not one key's
  transferKeys: { admin: 'all', member: 'none', viewer: 'none' }, // hand a (deactivated) person's keys to someone else
  manageTeam: { admin: 'all', member: 'none', viewer: 'none' }, // invite, deactivate, change roles
  audit: { admin: 'all', member: 'own', viewer: 'none' },
  changePlan: { admin: 'all', member: 'none', viewer: 'none' },
  orgSettings: { admin: 'all', member: 'none', viewer: 'none' }, // what a leak report does to a live key
  manageWebhooks: { admin: 'all', member: 'none', viewer: 'none' }, // CONTRACT §11: webhook endpoints are Admin-only
  signedIn: { admin: 'all', member: 'all', viewer: 'all' },
} as const satisfies Record<string, Record<Role, Reach>>;

type Permission = keyof typeof PERMISSIONS | 'public';

/**
 * Who is asking, and — for routes about one key — whose key they act on.
 * An Admin acts on a Member's key, to prove "all keys" rather than "own keys".
 */
type ActorId = 'anonymous' | 'viewer' | 'member' | 'member-own-key' | 'member-others-key' | 'member-admins-key' | 'admin' | 'foreign-admin';

const ACTOR_LABEL: Record<ActorId, string> = {
  anonymous: 'someone not signed in',
  viewer: 'a Viewer',
  member: 'a Member',
  'member-own-key': 'a Member on their own key',
  'member-others-key': "a Member on another Member's key",
  'member-admins-key': "a Member on the Admin's key",
  admin: 'an Admin',
  'foreign-admin': 'the Admin of another organisation',
};

/** What a route acts on: nothing in particular, one key of the first org, one person of it, or one of its invitations. */
type Resource = 'none' | 'key' | 'user' | 'invitation' | 'webhook' | 'flow';

interface Expected {
  status: number;
  code?: string;
}

const UNAUTHENTICATED: Expected = { status: 401, code: 'unauthenticated' };
const FORBIDDEN: Expected = { status: 403, code: 'forbidden' };
const NOT_FOUND: Expected = { status: 404, code: 'not_found' };

function actorsFor(resource: Resource): ActorId[] {
  const members: ActorId[] = resource === 'key' ? ['member-own-key', 'member-others-key', 'member-admins-key'] : ['member'];
  return ['anonymous', 'viewer', ...members, 'admin', 'foreign-admin'];
}

/** The contract's answer for one actor on one route. */
function expectedFor(route: RouteCase, actor: ActorId): Expected {
  const allowed: Expected = { status: route.success };
  if (route.permission === 'public') return allowed;
  if (actor === 'anonymous') return UNAUTHENTICATED;
  // "No request ever reads or changes another organisation's data: it gets 404."
  if (actor === 'foreign-admin') return route.resource === 'none' ? allowed : NOT_FOUND;
  const role: Role = actor === 'admin' ? 'admin' : actor === 'viewer' ? 'viewer' : 'member';
  const reach: Reach = PERMISSIONS[route.permission][role];
  if (reach === 'all') return allowed;
  if (reach === 'none') return FORBIDDEN;
  // 'own': a Member's own key is theirs; anybody else's is not. For the audit log "own"
  // narrows what is shown, tested on its own below.
  if (route.resource !== 'key') return allowed;
  return actor === 'member-own-key' ? allowed : FORBIDDEN;
}

// ---------------------------------------------------------------------------------------------
// The routes
// ---------------------------------------------------------------------------------------------

interface PreparedRequest {
  url: string;
  payload?: unknown;
  /** Overrides the actor's usual cookie (sign-out needs a session of its own). */
  cookie?: string | null;
}

interface CaseContext {
  actor: ActorId;
  /** A fresh active key of the first organisation, owned as the actor's case needs. */
  key(): Promise<string>;
  /** A fresh suspended key, owned like `key()`. */
  suspendedKey(): Promise<string>;
  /** A fresh key with one recorded flow. */
  keyWithFlow(): Promise<{ keyId: string; flowId: string }>;
  /** A fresh key, owned like `key()`, that the Admin rotated. */
  rotatedKey(): Promise<string>;
  /** A fresh Member of the first organisation to act on. */
  person(): Promise<Session>;
  /** A fresh webhook endpoint of the first organisation. */
  webhook(): Promise<string>;
}

interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As registered, with `:params`. */
  path: string;
  permission: Permission;
  resource: Resource;
  /** The status when allowed. */
  success: number;
  prepare(ctx: CaseContext): Promise<PreparedRequest>;
}

const ROUTES: RouteCase[] = [
  // Sessions
  {
    method: 'POST',
    path: '/api/auth/signup',
    permission: 'public',
    resource: 'none',
    success: 201,
    prepare: async () => ({
      url: '/api/auth/signup',
      payload: { email: uniqueEmail('signup'), password: PASSWORD, name: 'New Person', organisation: 'Northwind' },
    }),
  },
  {
    method: 'POST',
    path: '/api/auth/signin',
    permission: 'public',
    resource: 'none',
    success: 200,
    prepare: async () => ({ url: '/api/auth/signin', payload: { email: world.signinTarget.email, password: PASSWORD } }),
  },
  {
    method: 'POST',
    path: '/api/auth/signout',
    permission: 'signedIn',
    resource: 'none',
    success: 204,
    // Signing out ends the session, so each case signs in afresh as that actor.
    prepare: async ({ actor }) => ({ url: '/api/auth/signout', cookie: actor === 'anonymous' ? null : await freshSessionOf(actor) }),
  },
  { method: 'GET', path: '/api/session', permission: 'public', resource: 'none', success: 200, prepare: async () => ({ url: '/api/session' }) },
  { method: 'GET', path: '/api/me', permission: 'signedIn', resource: 'none', success: 200, prepare: async () => ({ url: '/api/me' }) },
  // The organisation's settings (CONTRACT §11: revoke or only notify on a leak report).
  {
    method: 'GET',
    path: '/api/organisation/settings',
    permission: 'orgSettings',
    resource: 'none',
    success: 200,
    prepare: async () => ({ url: '/api/organisation/settings' }),
  },
  {
    method: 'PUT',
    path: '/api/organisation/settings',
    permission: 'orgSettings',
    resource: 'none',
    success: 200,
    prepare: async () => ({ url: '/api/organisation/settings', payload: { leakResponse: 'revoke' } }),
  },
  // Each person's own mail choices (CONTRACT §11).
  {
    method: 'GET',
    path: '/api/me/mail-preferences',
    permission: 'signedIn',
    resource: 'none',
    success: 200,
    prepare: async () => ({ url: '/api/me/mail-preferences' }),
  },
  {
    method: 'PUT',
    path: '/api/me/mail-preferences',
    permission: 'signedIn',
    resource: 'none',
    success: 200,
    prepare: async () => ({ url: '/api/me/mail-preferences', payload: { expiryReminders: true } }),
  },
  {
    method: 'POST',
    path: '/api/invitations/accept',
    permission: 'public',
    resource: 'none',
    success: 200,
    prepare: async () => ({
      url: '/api/invitations/accept',
      payload: { token: await freshInvitationToken('member'), name: 'Invited Person', password: PASSWORD },
    }),
  },

  // API keys
  { method: 'GET', path: '/api/keys', permission: 'view', resource: 'none', success: 200, prepare: async () => ({ url: '/api/keys' }) },
  {
    method: 'POST',
    path: '/api/keys',
    permission: 'createKeys',
    resource: 'none',
    success: 201,
    prepare: async () => ({ url: '/api/keys', payload: { name: 'prod-matrix-flow-finance' } }),
  },
  { method: 'GET', path: '/api/keys/:id', permission: 'view', resource: 'key', success: 200, prepare: async (c) => ({ url: `/api/keys/${await c.key()}` }) },
  {
    method: 'PATCH',
    path: '/api/keys/:id',
    permission: 'manageKeys',
    resource: 'key',
    success: 200,
    prepare: async (c) => ({ url: `/api/keys/${await c.key()}`, payload: { name: 'prod-renamed-flow-finance' } }),
  },
  {
    method: 'POST',
    path: '/api/keys/:id/suspend',
    permission: 'manageKeys',
    resource: 'key',
    success: 200,
    prepare: async (c) => ({ url: `/api/keys/${await c.key()}/suspend` }),
  },
  {
    method: 'POST',
    path: '/api/keys/:id/resume',
    permission: 'manageKeys',
    resource: 'key',
    success: 200,
    prepare: async (c) => ({ url: `/api/keys/${await c.suspendedKey()}/resume` }),
  },
  {
    method: 'POST',
    path: '/api/keys/:id/revoke',
    permission: 'manageKeys',
    resource: 'key',
    success: 200,
    prepare: async (c) => ({ url: `/api/keys/${await c.key()}/revoke` }),
  },
  {
    method: 'DELETE',
    path: '/api/keys/:id',
    permission: 'manageKeys',
    resource: 'key',
    success: 204,
    prepare: async (c) => ({ url: `/api/keys/${await c.key()}` }),
  },
  {
    method: 'POST',
    path: '/api/keys/:id/rotate',
    permission: 'manageKeys',
    resource: 'key',
    success: 201,
    prepare: async (c) => ({ url: `/api/keys/${await c.key()}/rotate`, payload: { graceHours: 24 } }),
  },
  {
    method: 'GET',
    path: '/api/keys/:id/usage',
    permission: 'view',
    resource: 'key',
    success: 200,
    prepare: async (c) => ({ url: `/api/keys/${await c.key()}/usage` }),
  },
  {
    method: 'GET',
    path: '/api/keys/:id/flows',
    permission: 'view',
    resource: 'key',
    success: 200,
    prepare: async (c) => ({ url: `/api/keys/${await c.key()}/flows` }),
  },
  {
    method: 'POST',
    path: '/api/keys/bulk',
    permission: 'manageKeys',
    resource: 'key',
    success: 200,
    prepare: async (c) => ({ url: '/api/keys/bulk', payload: { action: 'revoke', keyIds: [await c.key()] } }),
  },
  {
    method: 'GET',
    path: '/api/keys/:id/rotation',
    permission: 'view',
    resource: 'key',
    success: 200,
    prepare: async (c) => ({ url: `/api/keys/${await c.rotatedKey()}/rotation` }),
  },
  {
    method: 'PATCH',
    path: '/api/keys/:id/rotation',
    permission: 'manageKeys',
    resource: 'key',
    success: 200,
    prepare: async (c) => ({ url: `/api/keys/${await c.rotatedKey()}/rotation`, payload: { revokeWhenDrained: true } }),
  },
  { method: 'GET', path: '/api/hygiene', permission: 'view', resource: 'none', success: 200, prepare: async () => ({ url: '/api/hygiene' }) },

  // Flows (CONTRACT §10)
  { method: 'GET', path: '/api/flows', permission: 'view', resource: 'none', success: 200, prepare: async () => ({ url: '/api/flows' }) },
  {
    method: 'GET',
    path: '/api/flows/:id',
    permission: 'view',
    resource: 'flow',
    success: 200,
    prepare: async (c) => ({ url: `/api/flows/${(await c.keyWithFlow()).flowId}` }),
  },
  {
    method: 'PATCH',
    path: '/api/flows/:id',
    permission: 'labelFlows',
    resource: 'flow',
    success: 200,
    prepare: async (c) => ({ url: `/api/flows/${(await c.keyWithFlow()).flowId}`, payload: { label: 'Invoice approval flow' } }),
  },

  // Team
  { method: 'GET', path: '/api/members', permission: 'view', resource: 'none', success: 200, prepare: async () => ({ url: '/api/members' }) },
  {
    method: 'POST',
    path: '/api/invitations',
    permission: 'manageTeam',
    resource: 'none',
    success: 201,
    prepare: async () => ({ url: '/api/invitations', payload: { email: uniqueEmail('invitee'), role: 'member' } }),
  },
  { method: 'GET', path: '/api/invitations', permission: 'manageTeam', resource: 'none', success: 200, prepare: async () => ({ url: '/api/invitations' }) },
  {
    method: 'POST',
    path: '/api/invitations/:id/resend',
    permission: 'manageTeam',
    resource: 'invitation',
    success: 200,
    prepare: async () => ({ url: `/api/invitations/${(await freshInvitation('member')).id}/resend` }),
  },
  {
    method: 'DELETE',
    path: '/api/invitations/:id',
    permission: 'manageTeam',
    resource: 'invitation',
    success: 204,
    prepare: async () => ({ url: `/api/invitations/${(await freshInvitation('member')).id}` }),
  },
  {
    // The accept page reads it before anyone has an account: the link's token is the credential.
    method: 'GET',
    path: '/api/invitations/:token',
    permission: 'public',
    resource: 'none',
    success: 200,
    prepare: async () => ({ url: `/api/invitations/${(await freshInvitation('viewer')).token}` }),
  },
  {
    method: 'PATCH',
    path: '/api/members/:userId',
    permission: 'manageTeam',
    resource: 'user',
    success: 200,
    prepare: async (c) => ({ url: `/api/members/${(await c.person()).userId}`, payload: { role: 'viewer' } }),
  },
  {
    method: 'POST',
    path: '/api/members/:userId/deactivate',
    permission: 'manageTeam',
    resource: 'user',
    success: 200,
    prepare: async (c) => ({ url: `/api/members/${(await c.person()).userId}/deactivate` }),
  },
  {
    method: 'POST',
    path: '/api/members/:userId/transfer-keys',
    permission: 'transferKeys',
    resource: 'user',
    success: 200,
    prepare: async (c) => ({ url: `/api/members/${(await c.person()).userId}/transfer-keys`, payload: { toUserId: world.otherMember.userId } }),
  },

  // Subscription, usage, audit
  { method: 'GET', path: '/api/subscription', permission: 'view', resource: 'none', success: 200, prepare: async () => ({ url: '/api/subscription' }) },
  // CONTRACT §5: "GET /api/usage (this period, per action type: used, limit, remaining, percent)".
  { method: 'GET', path: '/api/usage', permission: 'view', resource: 'none', success: 200, prepare: async () => ({ url: '/api/usage' }) },
  { method: 'GET', path: '/api/usage/export.csv', permission: 'view', resource: 'none', success: 200, prepare: async () => ({ url: '/api/usage/export.csv' }) },
  // Self-service plan changes are on in this app (SELF_SERVICE_PLANS), so only the role decides.
  {
    method: 'PUT',
    path: '/api/subscription',
    permission: 'changePlan',
    resource: 'none',
    success: 200,
    prepare: async () => ({ url: '/api/subscription', payload: { plan: 'large' } }),
  },
  { method: 'GET', path: '/api/audit', permission: 'audit', resource: 'none', success: 200, prepare: async () => ({ url: '/api/audit' }) },
  {
    method: 'GET',
    path: '/api/audit/export.csv',
    permission: 'audit',
    resource: 'none',
    success: 200,
    prepare: async () => ({ url: '/api/audit/export.csv' }),
  },

  // Webhooks (CONTRACT §11)
  { method: 'GET', path: '/api/webhooks', permission: 'manageWebhooks', resource: 'none', success: 200, prepare: async () => ({ url: '/api/webhooks' }) },
  {
    method: 'POST',
    path: '/api/webhooks',
    permission: 'manageWebhooks',
    resource: 'none',
    success: 201,
    prepare: async () => ({ url: '/api/webhooks', payload: { url: 'http://127.0.0.1:9/hook', eventTypes: ['api_key.revoked'] } }),
  },
  {
    method: 'GET',
    path: '/api/webhooks/:id',
    permission: 'manageWebhooks',
    resource: 'webhook',
    success: 200,
    prepare: async (c) => ({ url: `/api/webhooks/${await c.webhook()}` }),
  },
  {
    method: 'PATCH',
    path: '/api/webhooks/:id',
    permission: 'manageWebhooks',
    resource: 'webhook',
    success: 200,
    prepare: async (c) => ({ url: `/api/webhooks/${await c.webhook()}`, payload: { description: 'Renamed' } }),
  },
  {
    method: 'DELETE',
    path: '/api/webhooks/:id',
    permission: 'manageWebhooks',
    resource: 'webhook',
    success: 204,
    prepare: async (c) => ({ url: `/api/webhooks/${await c.webhook()}` }),
  },
  {
    method: 'POST',
    path: '/api/webhooks/:id/rotate-secret',
    permission: 'manageWebhooks',
    resource: 'webhook',
    success: 200,
    prepare: async (c) => ({ url: `/api/webhooks/${await c.webhook()}/rotate-secret` }),
  },
  {
    method: 'POST',
    path: '/api/webhooks/:id/test',
    permission: 'manageWebhooks',
    resource: 'webhook',
    success: 202,
    prepare: async (c) => ({ url: `/api/webhooks/${await c.webhook()}/test` }),
  },
  {
    method: 'GET',
    path: '/api/webhooks/:id/deliveries',
    permission: 'manageWebhooks',
    resource: 'webhook',
    success: 200,
    prepare: async (c) => ({ url: `/api/webhooks/${await c.webhook()}/deliveries` }),
  },

  // The API's own description is public, so tools can read it.
  { method: 'GET', path: '/api/openapi.json', permission: 'public', resource: 'none', success: 200, prepare: async () => ({ url: '/api/openapi.json' }) },
];

/** Routes documented elsewhere than in the OpenAPI document (the document itself). */
const UNDOCUMENTED = new Set(['GET /api/openapi.json']);
/** The browsable documentation page is served by @fastify/swagger-ui under this prefix. */
const DOCS_UI_PREFIX = '/api/docs';

// ---------------------------------------------------------------------------------------------
// The world the cases run in
// ---------------------------------------------------------------------------------------------

let t: TestApp;
const world = {} as {
  admin: Session;
  member: Session;
  otherMember: Session;
  viewer: Session;
  foreignAdmin: Session;
  signinTarget: Session;
};

beforeAll(async () => {
  // Webhook endpoints point at a local address that refuses connections (no delivery ever lands).
  t = await startTestApp({ env: { SELF_SERVICE_PLANS: 'true', WEBHOOKS_ALLOW_PRIVATE: 'true' } });
  // Every case creates keys (about 75 live by the end, close to Large's 100), so both organisations get Enterprise's unlimited keys.
  world.admin = await signup(t, 'Contoso', undefined, { plan: 'enterprise' });
  world.member = await addMember(t, world.admin, 'member', 'Mo Member');
  world.otherMember = await addMember(t, world.admin, 'member', 'Olga Other');
  world.viewer = await addMember(t, world.admin, 'viewer', 'Vic Viewer');
  world.signinTarget = await addMember(t, world.admin, 'viewer', 'Sid Signin');
  world.foreignAdmin = await signup(t, 'Fabrikam', undefined, { plan: 'enterprise' });
});

afterAll(async () => {
  await t?.close();
});

function sessionOf(actor: ActorId): Session | null {
  switch (actor) {
    case 'anonymous':
      return null;
    case 'viewer':
      return world.viewer;
    case 'admin':
      return world.admin;
    case 'foreign-admin':
      return world.foreignAdmin;
    default:
      return world.member;
  }
}

/** Whose key a case acts on. */
function keyOwnerFor(actor: ActorId): Session {
  switch (actor) {
    case 'member-own-key':
      return world.member;
    case 'member-others-key':
      return world.otherMember;
    case 'member-admins-key':
      return world.admin;
    default:
      return world.member; // the Admin, the Viewer, strangers: someone else's (a Member's) key
  }
}

async function freshSessionOf(actor: ActorId): Promise<string> {
  const who = sessionOf(actor)!;
  const response = await t.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { email: who.email, password: PASSWORD } });
  expect(response.statusCode).toBe(200);
  return cookieOf(response);
}

async function freshInvitation(role: Role): Promise<{ id: string; token: string }> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/invitations',
    headers: { cookie: world.admin.cookie },
    payload: { email: uniqueEmail('joiner'), role },
  });
  expect(response.statusCode).toBe(201);
  return { id: response.json().invitation.id, token: invitationToken(response.json().url) };
}

async function freshInvitationToken(role: Role): Promise<string> {
  return (await freshInvitation(role)).token;
}

async function adminPost(url: string): Promise<void> {
  const response = await t.app.inject({ method: 'POST', url, headers: { cookie: world.admin.cookie } });
  expect(response.statusCode, response.body).toBe(200);
}

let flowCounter = 0;

function contextFor(actor: ActorId): CaseContext {
  const owner = keyOwnerFor(actor);
  return {
    actor,
    key: async () => (await createKey(t, owner, { name: 'prod-matrix-flow-finance' })).id,
    suspendedKey: async () => {
      const { id } = await createKey(t, owner, { name: 'prod-matrix-flow-finance' });
      await adminPost(`/api/keys/${id}/suspend`);
      return id;
    },
    keyWithFlow: async () => {
      const { id, secret } = await createKey(t, owner, { name: 'prod-matrix-flow-finance' });
      const called = await callGateway(t, secret, { 'x-ms-workflow-name': `flow-${++flowCounter}`, 'x-ms-workflow-run-id': 'run-1' });
      expect(called.statusCode).toBe(200);
      await t.services.usage.flush();
      const flows = await t.app.inject({ method: 'GET', url: `/api/keys/${id}/flows`, headers: { cookie: world.admin.cookie } });
      const flowId = flows.json().items[0]?.id as string | undefined;
      expect(flowId, 'the gateway call should have recorded a flow').toBeTruthy();
      return { keyId: id, flowId: flowId! };
    },
    rotatedKey: async () => {
      const { id } = await createKey(t, owner, { name: 'prod-matrix-flow-finance' });
      const rotated = await t.app.inject({ method: 'POST', url: `/api/keys/${id}/rotate`, headers: { cookie: world.admin.cookie }, payload: {} });
      expect(rotated.statusCode, rotated.body).toBe(201);
      // The successor is revoked at once: the organisation stays under Large's key limit once the plan case switches to it.
      await adminPost(`/api/keys/${rotated.json().key.id}/revoke`);
      return id;
    },
    person: () => addMember(t, world.admin, 'member', 'Target Person'),
    // The organisation's newest endpoint, or a new one when it has none: a new one per case would pass the endpoint limit.
    webhook: async () => {
      const listed = await t.app.inject({ method: 'GET', url: '/api/webhooks?limit=1', headers: { cookie: world.admin.cookie } });
      const existing = listed.json().items[0]?.id as string | undefined;
      if (existing) return existing;
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/webhooks',
        headers: { cookie: world.admin.cookie },
        payload: { url: 'http://127.0.0.1:9/hook', eventTypes: ['api_key.created'] },
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json().endpoint.id as string;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

function describeExpected(expected: Expected): string {
  return expected.code ? `${expected.status} ${expected.code}` : `${expected.status}`;
}

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

let checker: ReturnType<typeof responseChecker> | undefined;
async function openapi() {
  checker ??= responseChecker((await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json());
  return checker;
}

describe('every /api route answers every kind of actor as the role table says', () => {
  for (const route of ROUTES) {
    describe(`${route.method} ${route.path}`, () => {
      for (const actor of actorsFor(route.resource)) {
        const expected = expectedFor(route, actor);
        it(`${ACTOR_LABEL[actor]} → ${describeExpected(expected)}`, async () => {
          const request = await route.prepare(contextFor(actor));
          const cookie = request.cookie !== undefined ? request.cookie : (sessionOf(actor)?.cookie ?? null);
          const response = await t.app.inject({
            method: route.method,
            url: request.url,
            headers: cookie ? { cookie } : {},
            ...(request.payload !== undefined ? { payload: request.payload as Record<string, unknown> } : {}),
          });
          expect(response.statusCode, response.body).toBe(expected.status);
          // Every refusal is RFC 9457 problem+json with the contract's fields.
          if (expected.code) expectProblem(response, expected.status, expected.code);
          // And every answer, success or refusal, is what the OpenAPI document says it is.
          if (!UNDOCUMENTED.has(`${route.method} ${route.path}`)) (await openapi())(route.method, route.path, response);
        });
      }
    });
  }
});

describe('no route can be left out of the matrix', () => {
  const inMatrix = () => new Set(ROUTES.map((r) => `${r.method} ${r.path}`));

  it('the matrix lists exactly the operations of the OpenAPI document', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries<Record<string, unknown>>(response.json().paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const method of Object.keys(operations)) documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
    const listed = [...inMatrix()].filter((r) => !UNDOCUMENTED.has(r));
    expect([...documented].sort()).toEqual(listed.sort());
  });

  it('the matrix lists exactly the /api routes the app registers (hidden ones too)', () => {
    const registered = registeredRoutes(t.app.printRoutes({ commonPrefix: false }))
      .filter((r) => r.path.startsWith('/api/') && r.path !== DOCS_UI_PREFIX && !r.path.startsWith(`${DOCS_UI_PREFIX}/`))
      .filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method} ${anyParam(r.path)}`);
    // Fastify prints routes that name the same segment differently as one (`/:id|:token`), so
    // parameter names are compared as "a parameter" here; the OpenAPI check above keeps the names.
    expect([...new Set(registered)].sort()).toEqual([...new Set([...inMatrix()].map((r) => anyParam(r)))].sort());
  });
});

function anyParam(path: string): string {
  return path.replace(/:[A-Za-z]+(\|:[A-Za-z]+)*/g, ':param');
}

/** Rebuilds full paths from Fastify's route tree ("├── /api/keys (GET, POST)", indented 4 per level). */
function registeredRoutes(tree: string): Array<{ method: string; path: string }> {
  const stack: string[] = [];
  const routes: Array<{ method: string; path: string }> = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    const path = stack.join('');
    for (const method of (match[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean))
      routes.push({ method, path });
  }
  return routes;
}

describe('the role table, beyond status codes', () => {
  it("a Member's audit log holds only their own actions, even when others acted", async () => {
    // Others act: the Admin and another Member each create a key.
    await createKey(t, world.admin, { name: 'prod-admin-flow-finance' });
    await createKey(t, world.otherMember, { name: 'prod-other-flow-finance' });
    await createKey(t, world.member, { name: 'prod-member-flow-finance' });

    const everything = await t.app.inject({ method: 'GET', url: '/api/audit?limit=200', headers: { cookie: world.admin.cookie } });
    const actors = new Set(everything.json().items.map((e: { userId: string }) => e.userId));
    expect(actors).toContain(world.admin.userId);
    expect(actors).toContain(world.otherMember.userId);

    for (const url of ['/api/audit?limit=200', `/api/audit?limit=200&userId=${world.admin.userId}`]) {
      const mine = await t.app.inject({ method: 'GET', url, headers: { cookie: world.member.cookie } });
      expect(mine.statusCode).toBe(200);
      const entries: Array<{ userId: string }> = mine.json().items;
      expect(
        entries.every((e) => e.userId === world.member.userId),
        url,
      ).toBe(true);
      if (!url.includes('userId=')) expect(entries.length).toBeGreaterThan(0);
    }

    const csv = await t.app.inject({ method: 'GET', url: '/api/audit/export.csv', headers: { cookie: world.member.cookie } });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain(world.member.userId);
    expect(csv.body).not.toContain(world.admin.userId);
    expect(csv.body).not.toContain(world.otherMember.userId);
  });

  it("the Admin of another organisation sees none of the first organisation's keys, people or audit log", async () => {
    const key = await createKey(t, world.member, { name: 'prod-secret-flow-finance' });
    const headers = { cookie: world.foreignAdmin.cookie };
    const keys = await t.app.inject({ method: 'GET', url: '/api/keys?limit=200', headers });
    expect(keys.statusCode).toBe(200);
    expect(keys.json().items.map((k: { id: string }) => k.id)).not.toContain(key.id);
    expect(keys.body).not.toContain(world.member.userId);

    const members = await t.app.inject({ method: 'GET', url: '/api/members?limit=200', headers });
    expect(members.json().items.map((m: { id: string }) => m.id)).toEqual([world.foreignAdmin.userId]);

    const audit = await t.app.inject({ method: 'GET', url: `/api/audit?limit=200&resourceId=${key.id}`, headers });
    expect(audit.json().items).toEqual([]);
    const auditByUser = await t.app.inject({ method: 'GET', url: `/api/audit?limit=200&userId=${world.admin.userId}`, headers });
    expect(auditByUser.json().items).toEqual([]);

    const subscription = await t.app.inject({ method: 'GET', url: '/api/subscription', headers });
    expect(subscription.json().organisation.id).toBe(world.foreignAdmin.orgId);
  });

  it('a key from another organisation is a 404 that does not even say whether it exists', async () => {
    const key = await createKey(t, world.member, { name: 'prod-secret-flow-finance' });
    const headers = { cookie: world.foreignAdmin.cookie };
    const real = await t.app.inject({ method: 'GET', url: `/api/keys/${key.id}`, headers });
    const madeUp = await t.app.inject({ method: 'GET', url: '/api/keys/key_doesnotexist000000000', headers });
    expect(real.statusCode).toBe(404);
    expect(madeUp.statusCode).toBe(404);
    expect(real.json().detail).toBe(madeUp.json().detail);
    // And the key is untouched by the foreign Admin's attempts to end it.
    await t.app.inject({ method: 'POST', url: `/api/keys/${key.id}/suspend`, headers });
    await t.app.inject({ method: 'POST', url: `/api/keys/${key.id}/revoke`, headers });
    await t.app.inject({ method: 'DELETE', url: `/api/keys/${key.id}`, headers });
    expect((await callGateway(t, key.secret)).statusCode).toBe(200);
    const after = await t.app.inject({ method: 'GET', url: `/api/keys/${key.id}`, headers: { cookie: world.admin.cookie } });
    expect(after.json().status).toBe('active');
  });

  it("a refused change leaves the key as it was: a Member cannot revoke another Member's key", async () => {
    const key = await createKey(t, world.otherMember, { name: 'prod-theirs-flow-finance' });
    const refused = await t.app.inject({ method: 'POST', url: `/api/keys/${key.id}/revoke`, headers: { cookie: world.member.cookie } });
    expect(refused.statusCode).toBe(403);
    expect((await callGateway(t, key.secret)).statusCode).toBe(200);
    const after = await t.app.inject({ method: 'GET', url: `/api/keys/${key.id}`, headers: { cookie: world.admin.cookie } });
    expect(after.json().status).toBe('active');
  });
});
