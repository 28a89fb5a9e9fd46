import type { UserView } from '../api/views.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../domain/actor.js';
import type { Db, DbOrTrx, Trx } from '../db/database.js';
import type { Role, UserRow } from '../db/schema.js';
import { AppError, validationFailed } from '../errors/catalogue.js';
import { commitWithEvents, type EventBus } from '../events/event-bus.js';
import { HOUR, MINUTE, type Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import type { IdGenerator } from '../lib/ids.js';
import { randomToken } from '../lib/random.js';
import { DUMMY_HASH_PROMISE, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import type { FailureThrottle } from './throttle.js';
import * as sessions from './sessions.repository.js';
import * as users from './users.repository.js';
import { createOrganisation } from '../orgs/orgs.repository.js';

export type { UserView } from '../api/views.js';

/** A session may be extended for this long at most after sign-in. */
const ABSOLUTE_SESSION_MS = 30 * 24 * HOUR;
/** Sliding expiry is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 5 * MINUTE;

export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  /** The browser's device cookie, when it sent one. */
  deviceToken?: string | null;
}

export interface SignedIn {
  token: string;
  expiresAt: string;
  orgId: string;
  user: UserView;
  /** A new device cookie to set (this browser was not known yet), or null. */
  newDeviceToken?: string | null;
}

export interface SessionInfo {
  user: UserView;
  orgId: string;
  sessionId: string;
  /** Set when the sliding expiry moved and the cookie should be sent again. */
  renewedUntil: string | null;
}

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    createdAt: row.createdAt,
    deactivatedAt: row.deactivatedAt,
  };
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface AuthServiceDeps {
  db: Db;
  clock: Clock;
  newId: IdGenerator;
  events: EventBus;
  audit: AuditService;
  ipThrottle: FailureThrottle;
  accountThrottle: FailureThrottle;
  /** Sign-ups per IP address and hour (SIGNUPS_PER_IP_PER_HOUR), conflicts included. */
  signupThrottle: FailureThrottle;
  sessionIdleMs: number;
}

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: AuthServiceDeps) {
  const { db, clock, audit } = deps;

  async function startSession(trx: DbOrTrx, user: UserRow, ctx: RequestContext): Promise<SignedIn> {
    const token = randomToken();
    const now = clock.now();
    const expiresAt = new Date(now.getTime() + deps.sessionIdleMs).toISOString();
    await sessions.insertSession(trx, {
      id: deps.newId('ses'),
      tokenHash: sha256Hex(token),
      userId: user.id,
      orgId: user.orgId,
      createdAt: now.toISOString(),
      expiresAt,
      lastSeenAt: now.toISOString(),
      ip: ctx.ip,
      userAgent: ctx.userAgent?.slice(0, 300) ?? null,
    });
    return { token, expiresAt, orgId: user.orgId, user: toUserView(user) };
  }

  async function isKnownDevice(userId: string, token: string): Promise<boolean> {
    const hash = sha256Hex(token);
    if ((await sessions.knownDeviceOwner(db, hash)) !== userId) return false;
    await sessions.touchKnownDevice(db, hash, clock.now().toISOString());
    return true;
  }

  /** A new device cookie for this browser; only its hash is kept. */
  async function rememberDevice(trx: DbOrTrx, userId: string): Promise<string> {
    const token = randomToken();
    const now = clock.now().toISOString();
    await sessions.insertKnownDevice(trx, { tokenHash: sha256Hex(token), userId, createdAt: now, lastUsedAt: now });
    return token;
  }

  function actorOf(user: UserRow, ctx: RequestContext): Actor {
    return { orgId: user.orgId, userId: user.id, email: user.email, role: user.role, ip: ctx.ip };
  }

  return {
    startSession,

    /** Creates an organisation on the Free plan with its first Admin, and signs them in. */
    async signup(input: { email: string; password: string; name: string; organisation: string }, ctx: RequestContext): Promise<SignedIn> {
      const email = normaliseEmail(input.email);
      const problem = passwordProblem(input.password, email);
      if (problem) throw validationFailed([{ path: '/password', message: problem }], problem);
      // Every attempt counts, so nobody can try many addresses from one place to learn who has an account.
      const wait = await deps.signupThrottle.take(`ip:${ctx.ip ?? 'unknown'}`);
      if (wait > 0) {
        throw new AppError('rate_limited', `Too many sign-ups from this network. Try again in ${Math.ceil(wait / 60)} minute(s).`, {
          headers: { 'retry-after': String(wait) },
        });
      }
      const passwordHash = await hashPassword(input.password);
      return commitWithEvents(db, deps.events, async (trx, emit) => {
        if (await users.emailTaken(trx, email)) {
          // Says no more than a sign-up with this address is not possible (not that an account exists).
          throw new AppError(
            'conflict',
            'A new organisation cannot be created with this email address. Sign in if it is yours, or sign up with another email.',
          );
        }
        const orgId = await createOrganisation(trx, deps, input.organisation.trim(), 'free');
        const user = await insertUser(trx, deps, { orgId, email, name: input.name.trim(), passwordHash, role: 'admin' });
        const actor = actorOf(user, ctx);
        emit({ type: 'organisation.created', organisationId: orgId, data: { organisation: { id: orgId, name: input.organisation.trim() } } });
        emit({ type: 'member.joined', organisationId: orgId, data: { member: toUserView(user) } });
        await audit.record(trx, actor, {
          eventType: 'org.created',
          resourceType: 'organisation',
          resourceId: orgId,
          action: 'create',
          details: { name: input.organisation.trim(), plan: 'free' },
        });
        await audit.record(trx, actor, {
          eventType: 'auth.signed_in',
          resourceType: 'user',
          resourceId: user.id,
          action: 'sign_in',
          details: { method: 'signup' },
        });
        return startSession(trx, user, ctx);
      });
    },

    async signin(input: { email: string; password: string }, ctx: RequestContext): Promise<SignedIn> {
      const email = normaliseEmail(input.email);
      const ipSubject = `ip:${ctx.ip ?? 'unknown'}`;
      const accountSubject = `account:${email}`;
      const user = await users.findUserByEmail(db, email);
      // A browser this person signed in from before is not held back by failures elsewhere:
      // nobody can lock an account out by failing on purpose.
      const knownDevice = user && ctx.deviceToken ? await isKnownDevice(user.id, ctx.deviceToken) : false;
      // Counted before the (slow) password check, so parallel attempts cannot all slip through.
      const [ipWait, accountWait] = await Promise.all([deps.ipThrottle.take(ipSubject), knownDevice ? 0 : deps.accountThrottle.take(accountSubject)]);
      if (ipWait > 0 || accountWait > 0) {
        await Promise.all([
          ipWait === 0 && deps.ipThrottle.giveBack(ipSubject),
          accountWait === 0 && !knownDevice && deps.accountThrottle.giveBack(accountSubject),
        ]);
        const wait = Math.max(ipWait, accountWait);
        throw new AppError(
          'rate_limited',
          `Too many failed sign-in attempts. Try again in ${Math.ceil(wait / 60)} minute(s), or ask an Admin to invite you again if you forgot your password.`,
          {
            headers: { 'retry-after': String(wait) },
          },
        );
      }
      const ok = await verifyPassword(input.password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE));
      if (!user || !ok || user.status !== 'active') {
        if (user) {
          const reason = !ok ? 'wrong_password' : 'deactivated';
          await audit.record(db, actorOf(user, ctx), {
            eventType: 'auth.sign_in_failed',
            resourceType: 'user',
            resourceId: user.id,
            action: 'sign_in',
            details: { reason },
            severity: 'warning',
          });
        }
        if (user && ok && user.status !== 'active') {
          throw new AppError(
            'unauthenticated',
            'This account was deactivated by an Admin of your organisation. Ask them to invite you again if you need access.',
          );
        }
        throw new AppError('unauthenticated', 'The email or password is not correct.');
      }
      await Promise.all([deps.ipThrottle.giveBack(ipSubject), !knownDevice && deps.accountThrottle.reset(accountSubject)]);
      return db.transaction().execute(async (trx) => {
        await audit.record(trx, actorOf(user, ctx), { eventType: 'auth.signed_in', resourceType: 'user', resourceId: user.id, action: 'sign_in' });
        const signed = await startSession(trx, user, ctx);
        return { ...signed, newDeviceToken: knownDevice ? null : await rememberDevice(trx, user.id) };
      });
    },

    async signout(token: string, actor: Actor): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await sessions.deleteSessionByTokenHash(trx, sha256Hex(token));
        await audit.record(trx, actor, { eventType: 'auth.signed_out', resourceType: 'user', resourceId: actor.userId, action: 'sign_out' });
      });
    },

    /** The session of a cookie token, extended on use; undefined when absent, expired or the user is gone. */
    async resolveSession(token: string): Promise<SessionInfo | undefined> {
      const now = clock.now();
      const row = await sessions.findSessionWithUser(db, sha256Hex(token));
      if (!row || row.expiresAt <= now.toISOString() || row.status !== 'active') return undefined;
      let renewedUntil: string | null = null;
      if (now.getTime() - Date.parse(row.lastSeenAt) > TOUCH_EVERY_MS) {
        const until = Math.min(now.getTime() + deps.sessionIdleMs, Date.parse(row.sessionCreatedAt) + ABSOLUTE_SESSION_MS);
        renewedUntil = new Date(until).toISOString();
        await sessions.extendSession(db, row.sessionId, now.toISOString(), renewedUntil);
      }
      return { user: toUserView(row), orgId: row.orgId, sessionId: row.sessionId, renewedUntil };
    },
  };
}

export async function insertUser(
  trx: Trx,
  deps: { clock: Clock; newId: IdGenerator },
  fields: { orgId: string; email: string; name: string; passwordHash: string; role: Role },
): Promise<UserRow> {
  const row: UserRow = {
    id: deps.newId('usr'),
    ...fields,
    status: 'active',
    createdAt: deps.clock.now().toISOString(),
    deactivatedAt: null,
  };
  await users.insertUser(trx, row);
  return row;
}
