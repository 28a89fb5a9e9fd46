import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UserView } from '../api/views.js';
import { AppError } from '../errors/catalogue.js';
import { sendProblem } from './problem.js';
import type { App } from './types.js';

export const SESSION_COOKIE = 'bdoc_session';

/** Turns a session cookie's token into its person, extending the session on use (`auth.resolveSession`). */
export type SessionLookup = (token: string) => Promise<{ user: UserView; orgId: string; renewedUntil: string | null } | undefined>;

export interface CookieSettings {
  secure: boolean;
}

export function setSessionCookie(reply: FastifyReply, token: string, expiresAt: string, settings: CookieSettings): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: settings.secure,
    path: '/',
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(reply: FastifyReply, settings: CookieSettings): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: settings.secure, path: '/' });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The edge of `/api`: refuses cross-origin mutations, then turns the session cookie into
 * `request.actor`. Routes marked `config.public` skip the session check, not the origin check.
 */
export function installSessionGuard(app: App, deps: { resolveSession: SessionLookup; publicUrl: string; cookie: CookieSettings }): void {
  const publicOrigin = new URL(deps.publicUrl).origin;

  app.decorateRequest('actor', undefined);
  app.decorateRequest('user', undefined);

  // Callback style: every request passes here, most leave at once (not /api) without a promise.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    // The route Fastify matched, not the raw URL: `/%61pi/keys` reaches the /api/keys route and must meet the guard too.
    // Unknown paths under /api (no route, or the portal's catch-all) are guarded too: a stranger learns no route names from 404s.
    const matched = request.routeOptions.url;
    const route = matched && matched !== '/*' ? matched : decodedPath(request.url);
    if (!route.startsWith('/api/')) {
      done();
      return;
    }
    if (!SAFE_METHODS.has(request.method) && !sameOrigin(request, publicOrigin)) {
      sendProblem(
        reply,
        new AppError('csrf_rejected', 'This request came from another website, so it was refused. Use the Build a Doc portal itself.'),
        deps.publicUrl,
      );
      return;
    }
    if (request.routeOptions.config?.public) {
      done();
      return;
    }
    const token = request.cookies[SESSION_COOKIE];
    if (!token) {
      refuseUnauthenticated(reply, undefined);
      return;
    }
    deps.resolveSession(token).then((session) => {
      let admitted: boolean;
      try {
        admitted = admit(request, reply, token, session);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (admitted) done();
    }, done);
  });

  /** The session's person becomes the request's actor; no session is refused (false). */
  function admit(request: FastifyRequest, reply: FastifyReply, token: string, session: Awaited<ReturnType<SessionLookup>>): boolean {
    if (!session) {
      refuseUnauthenticated(reply, token);
      return false;
    }
    if (session.renewedUntil) setSessionCookie(reply, token, session.renewedUntil, deps.cookie);
    request.user = session.user;
    request.actor = { orgId: session.orgId, userId: session.user.id, email: session.user.email, role: session.user.role, ip: request.ip };
    return true;
  }

  function refuseUnauthenticated(reply: FastifyReply, token: string | undefined): void {
    if (token) clearSessionCookie(reply, deps.cookie);
    sendProblem(reply, new AppError('unauthenticated', 'You are not signed in, or your session ended. Sign in to the Build a Doc portal.'), deps.publicUrl);
  }
}

/** A browser names the page's origin in `Origin` (or at least `Sec-Fetch-Site`); other clients send neither. */
function sameOrigin(request: FastifyRequest, publicOrigin: string): boolean {
  const origin = request.headers.origin;
  if (origin) {
    if (origin === publicOrigin) return true;
    return origin === `${request.protocol}://${request.headers.host ?? ''}`;
  }
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

function decodedPath(url: string): string {
  const path = url.split('?')[0] ?? '';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** The actor of a guarded route; the guard guarantees it is there. */
export function actorOf(request: FastifyRequest) {
  if (!request.actor) throw new AppError('unauthenticated', 'You are not signed in.');
  return request.actor;
}
