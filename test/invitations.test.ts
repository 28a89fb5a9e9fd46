/**
 * Invitations can be listed, resent and withdrawn; a deactivated Admin's pending invitations
 * stop working; the accept page learns the organisation, role and inviter from the link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, addMember, expectProblem, invitationToken, signup, startTestApp, uniqueEmail, type Session, type TestApp } from './support/harness.js';

describe('invitations', () => {
  let t: TestApp;
  let admin: Session;
  let otherOrg: Session;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signup(t, 'Invites Ltd');
    otherOrg = await signup(t, 'Elsewhere Ltd');
  });
  afterAll(() => t.close());

  const invite = async (who: Session, role = 'member') => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/invitations',
      headers: { cookie: who.cookie },
      payload: { email: uniqueEmail('invitee'), role },
    });
    expect(response.statusCode, response.body).toBe(201);
    return { id: response.json().invitation.id as string, email: response.json().invitation.email as string, token: invitationToken(response.json().url) };
  };
  const accept = (token: string) =>
    t.app.inject({ method: 'POST', url: '/api/invitations/accept', payload: { token, name: 'New Person', password: PASSWORD } });
  const pending = async (who: Session) => (await t.app.inject({ method: 'GET', url: '/api/invitations', headers: { cookie: who.cookie } })).json();

  it('lists pending invitations with who sent them, paginated, newest first; accepted ones leave the list', async () => {
    const first = await invite(admin);
    const second = await invite(admin, 'viewer');
    const list = await pending(admin);
    expect(list).toMatchObject({ total: expect.any(Number), limit: expect.any(Number), offset: 0 });
    const ids = list.items.map((i: { id: string }) => i.id);
    expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(first.id));
    expect(list.items.find((i: { id: string }) => i.id === second.id)).toMatchObject({ role: 'viewer', invitedBy: { id: admin.userId, name: 'Ada Admin' } });
    expect((await accept(first.token)).statusCode).toBe(200);
    expect((await pending(admin)).items.map((i: { id: string }) => i.id)).not.toContain(first.id);
    const paged = (await t.app.inject({ method: 'GET', url: '/api/invitations?limit=1', headers: { cookie: admin.cookie } })).json();
    expect(paged.items).toHaveLength(1);
  });

  it('the accept page learns organisation, role and inviter from the link; a bad link is a clear 404', async () => {
    const { token, email } = await invite(admin, 'admin');
    const preview = await t.app.inject({ method: 'GET', url: `/api/invitations/${token}` });
    expect(preview.statusCode).toBe(200);
    expect(preview.json()).toEqual({ organisation: 'Invites Ltd', email, role: 'admin', inviterName: 'Ada Admin', expiresAt: expect.any(String) });
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/invitations/not-a-real-token-at-all' }), 404, 'not_found');
  });

  it('an address with a pending invitation is not invited twice; once it joins, its invitations elsewhere close and say why', async () => {
    const email = uniqueEmail('twice');
    const send = (who: Session) =>
      t.app.inject({ method: 'POST', url: '/api/invitations', headers: { cookie: who.cookie }, payload: { email, role: 'member' } });
    const first = await send(admin);
    expect(first.statusCode, first.body).toBe(201);
    expect(expectProblem(await send(admin), 409, 'conflict').detail).toMatch(/already has a pending invitation .*Send it again or withdraw it/);
    // Another organisation may invite the same person.
    const elsewhere = await send(otherOrg);
    expect(elsewhere.statusCode, elsewhere.body).toBe(201);
    expect((await accept(invitationToken(first.json().url))).statusCode).toBe(200);
    expect((await pending(otherOrg)).items.map((i: { email: string }) => i.email)).not.toContain(email);
    const stale = expectProblem(await accept(invitationToken(elsewhere.json().url)), 404, 'not_found');
    expect(stale.detail).toBe(`${email} has already joined Build a Doc with another invitation. Sign in instead.`);
  });

  it('resend: a new link works, the old one is dead and says why', async () => {
    const old = await invite(admin);
    const resent = await t.app.inject({ method: 'POST', url: `/api/invitations/${old.id}/resend`, headers: { cookie: admin.cookie } });
    expect(resent.statusCode, resent.body).toBe(200);
    const fresh = invitationToken(resent.json().url);
    expect(expectProblem(await accept(old.token), 404, 'not_found').detail).toMatch(/replaced by a newer one/);
    expect((await accept(fresh)).statusCode).toBe(200);
  });

  it('withdraw: the link stops working; audited; another organisation gets 404; a Member may not', async () => {
    const inv = await invite(admin);
    const member = await addMember(t, admin, 'member');
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/api/invitations/${inv.id}`, headers: { cookie: member.cookie } }), 403, 'forbidden');
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/api/invitations/${inv.id}`, headers: { cookie: otherOrg.cookie } }), 404, 'not_found');
    expectProblem(await t.app.inject({ method: 'POST', url: `/api/invitations/${inv.id}/resend`, headers: { cookie: otherOrg.cookie } }), 404, 'not_found');
    expect((await t.app.inject({ method: 'DELETE', url: `/api/invitations/${inv.id}`, headers: { cookie: admin.cookie } })).statusCode).toBe(204);
    expect(expectProblem(await accept(inv.token), 404, 'not_found').detail).toMatch(/withdrawn/);
    const audit = (await t.app.inject({ method: 'GET', url: '/api/audit?eventType=user.invitation_revoked', headers: { cookie: admin.cookie } })).json();
    expect(audit.items.some((e: { resourceId: string }) => e.resourceId === inv.id)).toBe(true);
  });

  it("a deactivated Admin's pending invitations can no longer be accepted", async () => {
    const second = await addMember(t, admin, 'admin', 'Second Admin');
    const sent = await invite(second);
    expect((await t.app.inject({ method: 'POST', url: `/api/members/${second.userId}/deactivate`, headers: { cookie: admin.cookie } })).statusCode).toBe(200);
    expect(expectProblem(await accept(sent.token), 404, 'not_found').detail).toMatch(/withdrawn/);
    expectProblem(await t.app.inject({ method: 'GET', url: `/api/invitations/${sent.token}` }), 404, 'not_found');
    expect((await pending(admin)).items.map((i: { id: string }) => i.id)).not.toContain(sent.id);
  });
});
