import type { InvitationPreview, InvitationView, MemberView } from '../api/views.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../domain/actor.js';
import { normaliseEmail, insertUser, toUserView, type AuthService, type RequestContext, type SignedIn, type UserView } from '../auth/auth.service.js';
import { passwordProblem, hashPassword } from '../auth/passwords.js';
import { requirePermission } from '../domain/permissions.js';
import type { Db, DbOrTrx } from '../db/database.js';
import type { Role } from '../db/schema.js';
import { AppError, notFound, validationFailed } from '../errors/catalogue.js';
import { commitWithEvents, type EventBus } from '../events/event-bus.js';
import type { Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import type { IdGenerator } from '../lib/ids.js';
import { invitationsRepository as invitations } from './invitations.repository.js';
import { createInvitation, invitationUrl, toInvitationView, unusable } from './invitations.js';
import { deleteSessionsOfUser } from '../auth/sessions.repository.js';
import * as users from '../auth/users.repository.js';
import { liveKeyCountsByCreator } from '../keys/keys.repository.js';
import type { KeyView } from '../keys/key-view.js';
import type { KeyService } from '../keys/keys.service.js';
import { createOrganisation, organisationName } from '../orgs/orgs.repository.js';
import type { PlanCatalogue } from '../plans/catalogue.js';
import type { MailService } from '../mail/mail.service.js';
import { LINK_PLACEHOLDER } from '../mail/templates.js';
import { randomToken } from '../lib/random.js';
import { isEmailAddress } from '../domain/email.js';

export interface MembersServiceDeps {
  db: Db;
  clock: Clock;
  newId: IdGenerator;
  events: EventBus;
  audit: AuditService;
  auth: AuthService;
  plans: PlanCatalogue;
  /** Invitations go out by mail (the link is also answered to the Admin who made it). */
  mail: MailService;
  /** Hands a person's keys to someone else. */
  keys: KeyService;
  publicUrl: string;
}

export type MembersService = ReturnType<typeof createMembersService>;

export function createMembersService(deps: MembersServiceDeps) {
  const { db, clock, audit } = deps;

  async function target(actor: Actor, userId: string) {
    requirePermission(actor, 'members.manage');
    const user = await users.findUserInOrg(db, actor.orgId, userId);
    if (!user) throw notFound('The user');
    return user;
  }

  /** Queues the invitation mail with the one-time link, in the transaction that made the invitation. */
  // The mail carries a link of its own, made when it is sent: no usable link waits in the outbox.
  async function mailInvitation(trx: DbOrTrx, orgId: string, invitation: InvitationView, inviterId: string | null): Promise<void> {
    const content = {
      kind: 'invitation' as const,
      organisation: await organisationName(trx, orgId),
      inviterName: inviterId ? ((await users.userName(trx, inviterId)) ?? null) : null,
      role: invitation.role,
      url: LINK_PLACEHOLDER,
      expiresAt: invitation.expiresAt,
    };
    await deps.mail.queue(trx, orgId, invitation.id, [invitation.email], content, invitation.id);
  }

  deps.mail.makeLinksWith('invitation', (id) =>
    db.transaction().execute(async (trx) => {
      const invitation = await invitations.byId(trx, id);
      if (!invitation || unusable(invitation, clock.now().toISOString())) return null;
      const token = randomToken();
      await invitations.setMailTokenHash(trx, id, sha256Hex(token));
      return invitationUrl(deps.publicUrl, token);
    }),
  );

  return {
    /** The operator's `org create`: an organisation and a 7-day Admin invitation link. */
    async createOrganisationWithAdmin(input: { name: string; adminEmail: string; plan: string }): Promise<{ orgId: string; url: string; expiresAt: string }> {
      const { plans } = deps;
      if (!plans.get(input.plan)) throw new AppError('validation_failed', `Unknown plan "${input.plan}". Plans: ${plans.ids().join(', ')}.`);
      const email = input.adminEmail.trim().toLowerCase();
      if (!isEmailAddress(email))
        throw new AppError('validation_failed', `"${input.adminEmail.slice(0, 100)}" is not an email address: the Admin's invitation is sent there.`);
      if (await users.emailTaken(db, email)) {
        throw new AppError('conflict', `${email} already has a Build a Doc account.`);
      }
      return db.transaction().execute(async (trx) => {
        const orgId = await createOrganisation(trx, deps, input.name.trim(), input.plan);
        const { invitation, token } = await createInvitation(trx, deps, { orgId, email, role: 'admin', createdBy: null });
        const actor: Actor = { orgId, userId: null, email: null, role: 'operator', ip: null };
        await audit.record(trx, actor, {
          eventType: 'org.created',
          resourceType: 'organisation',
          resourceId: orgId,
          action: 'create',
          details: { name: input.name.trim(), plan: input.plan },
        });
        await audit.record(trx, actor, {
          eventType: 'user.invited',
          resourceType: 'invitation',
          resourceId: invitation.id,
          action: 'invite',
          details: { email, role: 'admin', expiresAt: invitation.expiresAt },
        });
        const url = invitationUrl(deps.publicUrl, token);
        await mailInvitation(trx, orgId, invitation, null);
        return { orgId, url, expiresAt: invitation.expiresAt };
      });
    },

    async list(actor: Actor, page: { limit: number; offset: number }): Promise<{ items: MemberView[]; total: number }> {
      requirePermission(actor, 'members.view');
      const { rows, total } = await users.listUsers(db, actor.orgId, page);
      const live = await liveKeyCountsByCreator(
        db,
        actor.orgId,
        rows.map((row) => row.id),
        clock.now(),
      );
      return { items: rows.map((row) => ({ ...toUserView(row), activeKeyCount: live.get(row.id) ?? 0 })), total };
    },

    async invite(actor: Actor, input: { email: string; role: Role }): Promise<{ invitation: InvitationView; url: string }> {
      requirePermission(actor, 'members.manage');
      const email = normaliseEmail(input.email);
      if (await users.emailTaken(db, email)) {
        throw new AppError('conflict', `${email} already has a Build a Doc account.`);
      }
      return commitWithEvents(db, deps.events, async (trx, emit) => {
        const earlier = await invitations.pendingFor(trx, actor.orgId, email, clock.now().toISOString());
        if (earlier) {
          throw new AppError(
            'conflict',
            `${email} already has a pending invitation (sent ${earlier.createdAt.slice(0, 10)}, as ${earlier.role}). Send it again or withdraw it under Pending invitations instead of inviting twice.`,
          );
        }
        const { invitation, token } = await createInvitation(trx, deps, { orgId: actor.orgId, email, role: input.role, createdBy: actor.userId });
        emit({ type: 'member.invited', organisationId: actor.orgId, data: { invitation } });
        await audit.record(trx, actor, {
          eventType: 'user.invited',
          resourceType: 'invitation',
          resourceId: invitation.id,
          action: 'invite',
          details: { email, role: input.role, expiresAt: invitation.expiresAt },
        });
        const url = invitationUrl(deps.publicUrl, token);
        await mailInvitation(trx, actor.orgId, invitation, actor.userId);
        return { invitation, url };
      });
    },

    /** Pending invitations (not accepted, withdrawn or expired), newest first. */
    async listInvitations(actor: Actor, page: { limit: number; offset: number }): Promise<{ items: InvitationView[]; total: number }> {
      requirePermission(actor, 'members.manage');
      const { items, total } = await invitations.pending(db, actor.orgId, clock.now().toISOString(), page);
      return { items: items.map((row) => toInvitationView(row, row.inviterName)), total };
    },

    /** A new link (valid 7 days again) replaces the old one, which stops working. */
    async resendInvitation(actor: Actor, id: string): Promise<{ invitation: InvitationView; url: string }> {
      requirePermission(actor, 'members.manage');
      const now = clock.now().toISOString();
      const old = await invitations.inOrg(db, actor.orgId, id);
      if (!old) throw notFound('The invitation');
      if (old.acceptedAt) throw new AppError('conflict', `${old.email} already accepted this invitation.`);
      return db.transaction().execute(async (trx) => {
        await invitations.revoke(trx, old.id, now, 'resent');
        const { invitation, token } = await createInvitation(trx, deps, { orgId: actor.orgId, email: old.email, role: old.role, createdBy: actor.userId });
        await audit.record(trx, actor, {
          eventType: 'user.invitation_resent',
          resourceType: 'invitation',
          resourceId: invitation.id,
          action: 'resend',
          details: { email: old.email, role: old.role, replaces: old.id, expiresAt: invitation.expiresAt },
        });
        const url = invitationUrl(deps.publicUrl, token);
        await mailInvitation(trx, actor.orgId, invitation, actor.userId);
        return { invitation, url };
      });
    },

    async revokeInvitation(actor: Actor, id: string): Promise<void> {
      requirePermission(actor, 'members.manage');
      const invitation = await invitations.inOrg(db, actor.orgId, id);
      if (!invitation) throw notFound('The invitation');
      if (invitation.acceptedAt) throw new AppError('conflict', `${invitation.email} already accepted this invitation; deactivate the person instead.`);
      if (invitation.revokedAt) return;
      await db.transaction().execute(async (trx) => {
        await invitations.revoke(trx, invitation.id, clock.now().toISOString(), 'revoked');
        await audit.record(trx, actor, {
          eventType: 'user.invitation_revoked',
          resourceType: 'invitation',
          resourceId: invitation.id,
          action: 'revoke',
          details: { email: invitation.email, role: invitation.role },
        });
      });
    },

    /** What the accept page shows: organisation, role and inviter; 404 for a link that cannot be used. */
    async previewInvitation(token: string): Promise<InvitationPreview> {
      const invitation = await invitations.byTokenHash(db, sha256Hex(token));
      const why = unusable(invitation, clock.now().toISOString());
      if (why || !invitation) throw new AppError('not_found', why ?? '');
      const organisation = await organisationName(db, invitation.orgId);
      const inviterName = invitation.createdBy ? ((await users.userName(db, invitation.createdBy)) ?? null) : null;
      return { organisation, email: invitation.email, role: invitation.role, inviterName, expiresAt: invitation.expiresAt };
    },

    /** Turns a valid invitation into an account with the invited role, and signs it in. */
    async accept(input: { token: string; name: string; password: string }, ctx: RequestContext): Promise<SignedIn> {
      const now = clock.now().toISOString();
      const invitation = await invitations.byTokenHash(db, sha256Hex(input.token));
      const why = unusable(invitation, now);
      if (why || !invitation) throw new AppError('not_found', why ?? '');
      const problem = passwordProblem(input.password, invitation.email);
      if (problem) throw validationFailed([{ path: '/password', message: problem }], problem);
      const passwordHash = await hashPassword(input.password);
      return commitWithEvents(db, deps.events, async (trx, emit) => {
        if (!(await invitations.claim(trx, invitation.id, now))) throw new AppError('conflict', 'This invitation was accepted or withdrawn a moment ago.');
        if (await users.emailTaken(trx, invitation.email)) {
          throw new AppError('conflict', `${invitation.email} already has a Build a Doc account. Sign in instead.`);
        }
        const user = await insertUser(trx, deps, {
          orgId: invitation.orgId,
          email: invitation.email,
          name: input.name.trim(),
          passwordHash,
          role: invitation.role,
        });
        await invitations.setAcceptedBy(trx, invitation.id, user.id);
        // The address has an account now: its other invitations (here or elsewhere) could only fail.
        await invitations.closePendingFor(trx, invitation.email, now, 'joined');
        emit({ type: 'member.joined', organisationId: user.orgId, data: { member: toUserView(user) } });
        const actor: Actor = { orgId: user.orgId, userId: user.id, email: user.email, role: user.role, ip: ctx.ip };
        await audit.record(trx, actor, {
          eventType: 'user.joined',
          resourceType: 'user',
          resourceId: user.id,
          action: 'accept_invitation',
          details: { invitationId: invitation.id, role: user.role },
        });
        return deps.auth.startSession(trx, user, ctx);
      });
    },

    async changeRole(actor: Actor, userId: string, role: Role): Promise<UserView> {
      const user = await target(actor, userId);
      if (user.role === role) return toUserView(user);
      if (user.role === 'admin' && user.status === 'active' && (await users.countActiveAdmins(db, actor.orgId)) <= 1) {
        throw new AppError('conflict', 'This is the last active Admin of the organisation; make someone else an Admin first.');
      }
      await commitWithEvents(db, deps.events, async (trx, emit) => {
        await users.setRole(trx, userId, role);
        await audit.record(trx, actor, {
          eventType: 'user.role_changed',
          resourceType: 'user',
          resourceId: userId,
          action: 'change_role',
          details: { email: user.email, from: user.role, to: role },
        });
        emit({ type: 'member.role_changed', organisationId: actor.orgId, data: { member: toUserView({ ...user, role }), from: user.role, to: role } });
      });
      return toUserView({ ...user, role });
    },

    /** Hands every key a person created (typically someone deactivated) to an active member of the team. */
    async transferKeys(actor: Actor, fromUserId: string, toUserId: string): Promise<{ items: KeyView[] }> {
      requirePermission(actor, 'keys.transfer');
      const from = await target(actor, fromUserId);
      const to = await users.findUserInOrg(db, actor.orgId, toUserId);
      if (!to) throw notFound('The person to receive the keys');
      if (to.status !== 'active') throw new AppError('conflict', `${to.name} is deactivated; hand the keys to an active member of the team.`);
      if (to.role === 'viewer') throw new AppError('conflict', `${to.name} is a Viewer and could not manage the keys; choose a Member or an Admin.`);
      if (from.id === to.id) throw new AppError('conflict', 'The keys already belong to this person.');
      return { items: await deps.keys.transferOwnership(actor, from, to) };
    },

    /** Ends the person's sessions at once; the keys they created keep working. */
    async deactivate(actor: Actor, userId: string): Promise<UserView> {
      const user = await target(actor, userId);
      if (user.id === actor.userId) throw new AppError('conflict', 'You cannot deactivate yourself; ask another Admin.');
      if (user.status === 'deactivated') return toUserView(user);
      if (user.role === 'admin' && (await users.countActiveAdmins(db, actor.orgId)) <= 1) {
        throw new AppError('conflict', 'This is the last active Admin of the organisation.');
      }
      const now = clock.now().toISOString();
      await commitWithEvents(db, deps.events, async (trx, emit) => {
        await users.deactivateUser(trx, userId, now);
        await deleteSessionsOfUser(trx, userId);
        // What a person sent goes with them: their pending invitations can no longer be accepted.
        const revoked = await invitations.revokeSentBy(trx, actor.orgId, userId, now, 'inviter_deactivated');
        await audit.record(trx, actor, {
          eventType: 'user.deactivated',
          resourceType: 'user',
          resourceId: userId,
          action: 'deactivate',
          details: { email: user.email, revokedInvitations: revoked.length },
          severity: 'warning',
        });
        emit({ type: 'member.deactivated', organisationId: actor.orgId, data: { member: toUserView({ ...user, status: 'deactivated', deactivatedAt: now }) } });
      });
      return toUserView({ ...user, status: 'deactivated', deactivatedAt: now });
    },
  };
}
