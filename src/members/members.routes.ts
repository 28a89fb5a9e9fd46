import { Type } from 'typebox';
import { actorOf } from '../http/session-guard.js';
import { InvitationPreviewSchema, InvitationSchema, KeySchema, MemberSchema, RoleSchema, UserSchema } from '../api/views.js';
import { EmailSchema, PageQuery, Paged, page, problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { MembersService } from './members.service.js';

const InvitationIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const UserIdParam = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) });

export function membersRoutes(app: App, members: MembersService): void {
  const tags = ['Team'];
  app.get(
    '/api/members',
    {
      schema: {
        tags,
        summary: 'List the people of the organisation',
        querystring: Type.Object(PageQuery),
        response: { 200: Paged(MemberSchema), ...problems(401, 403) },
      },
    },
    async (request) => {
      const paging = page(request.query);
      return { ...(await members.list(actorOf(request), paging)), ...paging };
    },
  );

  app.post(
    '/api/invitations',
    {
      schema: {
        tags,
        summary: 'Invite someone by email with a role (a one-time link, valid 7 days)',
        body: Type.Object({ email: EmailSchema, role: RoleSchema }, { additionalProperties: false }),
        response: { 201: Type.Object({ invitation: InvitationSchema, url: Type.String() }), ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(await members.invite(actorOf(request), request.body));
    },
  );

  app.get(
    '/api/invitations',
    {
      schema: {
        tags,
        operationId: 'listInvitations',
        summary: 'List pending invitations (not accepted, withdrawn or expired)',
        querystring: Type.Object(PageQuery),
        response: { 200: Paged(InvitationSchema), ...problems(401, 403) },
      },
    },
    async (request) => {
      const paging = page(request.query);
      return { ...(await members.listInvitations(actorOf(request), paging)), ...paging };
    },
  );

  app.post(
    '/api/invitations/:id/resend',
    {
      schema: {
        tags,
        operationId: 'resendInvitation',
        summary: 'Send an invitation again: a new link, valid 7 days; the old link stops working',
        params: InvitationIdParam,
        response: { 200: Type.Object({ invitation: InvitationSchema, url: Type.String() }), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return members.resendInvitation(actorOf(request), request.params.id);
    },
  );

  app.delete(
    '/api/invitations/:id',
    {
      schema: {
        tags,
        operationId: 'revokeInvitation',
        summary: 'Withdraw a pending invitation',
        params: InvitationIdParam,
        response: { 204: Type.Null(), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await members.revokeInvitation(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/invitations/:token',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'previewInvitation',
        summary: 'What an invitation link offers: the organisation, the role and who sent it',
        params: Type.Object({ token: Type.String({ minLength: 10, maxLength: 200 }) }),
        response: { 200: InvitationPreviewSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return members.previewInvitation(request.params.token);
    },
  );

  app.patch(
    '/api/members/:userId',
    {
      schema: {
        tags,
        summary: "Change a person's role",
        params: UserIdParam,
        body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
        response: { 200: UserSchema, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => members.changeRole(actorOf(request), request.params.userId, request.body.role),
  );

  app.post(
    '/api/members/:userId/deactivate',
    {
      schema: {
        tags,
        summary: 'Deactivate a person (their sessions end; their keys keep working)',
        params: UserIdParam,
        response: { 200: UserSchema, ...problems(401, 403, 404, 409) },
      },
    },
    async (request) => members.deactivate(actorOf(request), request.params.userId),
  );

  app.post(
    '/api/members/:userId/transfer-keys',
    {
      schema: {
        tags,
        summary: 'Hand every key a person created (e.g. someone deactivated) to another member of the team',
        params: UserIdParam,
        body: Type.Object({ toUserId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(KeySchema) }), ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => members.transferKeys(actorOf(request), request.params.userId, request.body.toUserId),
  );
}
