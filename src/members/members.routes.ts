import { Type } from 'typebox';
import { actorOf } from '../http/session-guard.js';
import { EmailSchema, PageQuery, Paged, RoleSchema, UserSchema, page, problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { MembersService } from './members.service.js';

const MemberSchema = Type.Intersect([UserSchema, Type.Object({ activeKeyCount: Type.Integer() })]);
const InvitationSchema = Type.Object({ id: Type.String(), email: Type.String(), role: RoleSchema, createdAt: Type.String(), expiresAt: Type.String(), acceptedAt: Type.Union([Type.String(), Type.Null()]) });
const UserIdParam = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) });

export function membersRoutes(app: App, members: MembersService): void {
  const tags = ['Team'];
  app.get('/api/members', {
    schema: { tags, summary: 'List the people of the organisation', querystring: Type.Object(PageQuery), response: { 200: Paged(MemberSchema), ...problems(401, 403) } },
  }, async (request) => {
    const paging = page(request.query);
    return { ...(await members.list(actorOf(request), paging)), ...paging };
  });

  app.post('/api/invitations', {
    schema: {
      tags,
      summary: 'Invite someone by email with a role (a one-time link, valid 7 days)',
      body: Type.Object({ email: EmailSchema, role: RoleSchema }, { additionalProperties: false }),
      response: { 201: Type.Object({ invitation: InvitationSchema, url: Type.String() }), ...problems(400, 401, 403, 409) },
    },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return reply.code(201).send(await members.invite(actorOf(request), request.body));
  });

  app.patch('/api/members/:userId', {
    schema: {
      tags,
      summary: "Change a person's role",
      params: UserIdParam,
      body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
      response: { 200: UserSchema, ...problems(400, 401, 403, 404, 409) },
    },
  }, async (request) => members.changeRole(actorOf(request), request.params.userId, request.body.role));

  app.post('/api/members/:userId/deactivate', {
    schema: {
      tags,
      summary: 'Deactivate a person (their sessions end; their keys keep working)',
      params: UserIdParam,
      response: { 200: UserSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => members.deactivate(actorOf(request), request.params.userId));
}
