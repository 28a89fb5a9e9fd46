import { Type } from 'typebox';
import { SESSION_COOKIE, actorOf, clearSessionCookie, setSessionCookie, type CookieSettings, type SessionLookup } from '../http/session-guard.js';
import { MeSchema, SessionSchema } from '../api/views.js';
import { EmailSchema, OrganisationNameSchema, PasswordSchema, PersonNameSchema, problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService, RequestContext, SignedIn } from './auth.service.js';
import type { OrgsService } from '../orgs/orgs.service.js';

export function requestContext(request: FastifyRequest): RequestContext {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? null, deviceToken: request.cookies[DEVICE_COOKIE] ?? null };
}

/** Marks a browser someone signed in from, so failures elsewhere cannot lock them out. */
export const DEVICE_COOKIE = 'bdoc_device';
const DEVICE_COOKIE_DAYS = 365;

/** Accepting an invitation (the members service): an account with the invited role, signed in. */
export type AcceptInvitation = (input: { token: string; name: string; password: string }, ctx: RequestContext) => Promise<SignedIn>;

export function authRoutes(
  app: App,
  deps: { auth: AuthService; orgs: OrgsService; acceptInvitation: AcceptInvitation; cookie: CookieSettings; resolveSession: SessionLookup },
): void {
  const tags = ['Sessions'];

  /** Sets the cookie of a new session and makes it this request's actor. */
  function signedIn(request: FastifyRequest, reply: FastifyReply, signed: SignedIn): void {
    setSessionCookie(reply, signed.token, signed.expiresAt, deps.cookie);
    if (signed.newDeviceToken) {
      reply.setCookie(DEVICE_COOKIE, signed.newDeviceToken, {
        httpOnly: true,
        sameSite: 'lax',
        secure: deps.cookie.secure,
        path: '/api/auth',
        expires: new Date(Date.now() + DEVICE_COOKIE_DAYS * 24 * 3600 * 1000),
      });
    }
    request.user = signed.user;
    request.actor = { orgId: signed.orgId, userId: signed.user.id, email: signed.user.email, role: signed.user.role, ip: request.ip };
  }

  async function me(request: FastifyRequest) {
    const actor = actorOf(request);
    const sub = await deps.orgs.subscription(actor);
    return {
      user: request.user!,
      organisation: { id: actor.orgId, name: sub.organisation.name, plan: sub.plan, subscriptionStatus: sub.status },
    };
  }

  app.post(
    '/api/auth/signup',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Create an organisation on the Free plan and its first Admin, and sign in',
        body: Type.Object(
          { email: EmailSchema, password: PasswordSchema, name: PersonNameSchema, organisation: OrganisationNameSchema },
          { additionalProperties: false },
        ),
        response: { 201: MeSchema, ...problems(400, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const signed = await deps.auth.signup(request.body, requestContext(request));
      signedIn(request, reply, signed);
      return reply.code(201).send(await me(request));
    },
  );

  app.post(
    '/api/auth/signin',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Sign in with email and password',
        body: Type.Object({ email: EmailSchema, password: PasswordSchema }, { additionalProperties: false }),
        response: { 200: MeSchema, ...problems(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const signed = await deps.auth.signin(request.body, requestContext(request));
      signedIn(request, reply, signed);
      return me(request);
    },
  );

  app.post(
    '/api/auth/signout',
    {
      schema: { tags, summary: 'Sign out (ends this session)', response: { 204: Type.Null(), ...problems(401, 403) } },
    },
    async (request, reply) => {
      await deps.auth.signout(request.cookies[SESSION_COOKIE]!, actorOf(request));
      clearSessionCookie(reply, deps.cookie);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/me',
    {
      schema: { tags, summary: 'The signed-in user and organisation', response: { 200: MeSchema, ...problems(401) } },
    },
    me,
  );

  app.get(
    '/api/session',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'getSession',
        summary: 'Whether this browser is signed in, and as whom (200 either way, so a signed-out visit logs no error)',
        response: { 200: SessionSchema },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const token = request.cookies[SESSION_COOKIE];
      const session = token ? await deps.resolveSession(token) : undefined;
      if (!session) {
        if (token) clearSessionCookie(reply, deps.cookie);
        return { signedIn: false as const };
      }
      if (session.renewedUntil && token) setSessionCookie(reply, token, session.renewedUntil, deps.cookie);
      request.user = session.user;
      request.actor = { orgId: session.orgId, userId: session.user.id, email: session.user.email, role: session.user.role, ip: request.ip };
      return { signedIn: true as const, ...(await me(request)) };
    },
  );

  app.post(
    '/api/invitations/accept',
    {
      config: { public: true },
      schema: {
        tags: ['Team'],
        summary: 'Accept an invitation: set a name and password, and sign in',
        body: Type.Object(
          { token: Type.String({ minLength: 10, maxLength: 200 }), name: PersonNameSchema, password: PasswordSchema },
          { additionalProperties: false },
        ),
        response: { 200: MeSchema, ...problems(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const signed = await deps.acceptInvitation(request.body, requestContext(request));
      signedIn(request, reply, signed);
      return me(request);
    },
  );
}
