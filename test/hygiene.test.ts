import { afterEach, describe, expect, it } from 'vitest';
import { DAY, ManualClock } from '../src/lib/clock.js';
import { PASSWORD, addMember, callGateway, cookieOf, createKey, expectProblem, signup, startTestApp, type Session, type TestApp } from './support/harness.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function api(who: Session, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) {
  return t!.app.inject({ method, url, headers: { cookie: who.cookie }, ...(payload ? { payload } : {}) });
}

/** Signs in again (sessions end while the clock jumps months ahead). */
async function fresh(who: Session): Promise<Session> {
  const response = await t!.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { email: who.email, password: PASSWORD } });
  return { ...who, cookie: cookieOf(response) };
}

async function use(secret: string, headers: Record<string, string> = {}) {
  await callGateway(t!, secret, headers);
  await t!.services.usage.flush();
}

type Finding = { kind: string; action: string; keys: Array<{ id: string; flows: Array<{ workflowName: string }> }> };

describe('key hygiene', () => {
  it('finds never used, idle, expiring, old, owner deactivated and revoked-but-still-called keys, each with the action that fixes it', async () => {
    const start = Date.parse('2025-01-01T00:00:00.000Z');
    const clock = new ManualClock(new Date(start));
    const at = (days: number) => clock.set(new Date(start + days * DAY));
    t = await startTestApp({ clock });
    let admin = await signup(t, 'Hygiene Ltd');
    const member = await addMember(t, admin, 'member', 'Leaving Person');
    const old = await createKey(t, admin, { name: 'prod-old-flow-ops' });
    const orphan = await createKey(t, member, { name: 'prod-orphan-flow-ops' });
    await api(admin, 'POST', `/api/members/${member.userId}/deactivate`);
    at(200);
    admin = await fresh(admin);
    const idle = await createKey(t, admin, { name: 'prod-idle-flow-ops', expiresInDays: 365 });
    const dead = await createKey(t, admin, { name: 'prod-dead-flow-ops' });
    await use(dead.secret, { 'x-ms-workflow-name': 'still-calling' });
    await api(admin, 'POST', `/api/keys/${dead.id}/revoke`);
    at(305);
    admin = await fresh(admin);
    await use(idle.secret);
    at(320);
    admin = await fresh(admin);
    const expiring = await createKey(t, admin, { name: 'prod-expiring-flow-ops', expiresInDays: 90 });
    at(390);
    admin = await fresh(admin);
    const never = await createKey(t, admin, { name: 'prod-never-flow-ops' });
    await use(expiring.secret);
    await use(old.secret);
    await use(orphan.secret);
    at(398);
    await use(dead.secret, { 'x-ms-workflow-name': 'still-calling' });
    at(400);
    admin = await fresh(admin);

    const response = await api(admin, 'GET', '/api/hygiene');
    expect(response.statusCode, response.body).toBe(200);
    const findings: Finding[] = response.json().findings;
    const of = (kind: string) => findings.find((f) => f.kind === kind);
    const ids = (kind: string) =>
      of(kind)
        ?.keys.map((k) => k.id)
        .sort() ?? [];
    expect(ids('never_used')).toEqual([never.id]);
    expect(ids('idle')).toEqual([idle.id]);
    expect(ids('expiring')).toEqual([expiring.id]);
    expect(ids('old')).toEqual([old.id, orphan.id].sort());
    expect(ids('owner_deactivated')).toEqual([orphan.id]);
    expect(ids('revoked_still_called')).toEqual([dead.id]);
    expect(of('revoked_still_called')!.keys[0]!.flows.map((f) => f.workflowName)).toEqual(['still-calling']);
    expect(Object.fromEntries(findings.map((f) => [f.kind, f.action]))).toEqual({
      never_used: 'revoke',
      idle: 'revoke',
      expiring: 'rotate',
      old: 'set_expiry',
      owner_deactivated: 'reassign_owner',
      revoked_still_called: 'replace',
    });

    // The fixes clear the findings: an expiry for the old key, the orphan handed to the Admin.
    const expiry = await t.app.inject({ method: 'PATCH', url: `/api/keys/${old.id}`, headers: { cookie: admin.cookie }, payload: { expiresInDays: 90 } });
    expect(expiry.statusCode, expiry.body).toBe(200);
    const transferred = await api(admin, 'POST', `/api/members/${member.userId}/transfer-keys`, { toUserId: admin.userId });
    expect(transferred.statusCode, transferred.body).toBe(200);
    const after: Finding[] = (await api(admin, 'GET', '/api/hygiene')).json().findings;
    expect(after.find((f) => f.kind === 'owner_deactivated')).toBeUndefined();
    expect(after.find((f) => f.kind === 'old')?.keys.map((k) => k.id)).toEqual([orphan.id]);
  });

  it('a deactivated member’s keys go to another member: each key audited, only Admins may, and strangers get 404', async () => {
    t = await startTestApp();
    const admin = await signup(t, 'Transfer Ltd');
    const leaving = await addMember(t, admin, 'member', 'Leaving Person');
    const staying = await addMember(t, admin, 'member', 'Staying Person');
    const keys = [await createKey(t, leaving, { name: 'prod-one-flow-ops' }), await createKey(t, leaving, { name: 'prod-two-flow-ops' })];
    await api(admin, 'POST', `/api/members/${leaving.userId}/deactivate`);

    expectProblem(await api(staying, 'POST', `/api/members/${leaving.userId}/transfer-keys`, { toUserId: staying.userId }), 403, 'forbidden');
    const stranger = await signup(t, 'Stranger Ltd');
    expectProblem(await api(stranger, 'POST', `/api/members/${leaving.userId}/transfer-keys`, { toUserId: stranger.userId }), 404, 'not_found');
    expectProblem(await api(admin, 'POST', `/api/members/${leaving.userId}/transfer-keys`, { toUserId: stranger.userId }), 404, 'not_found');
    expectProblem(await api(admin, 'POST', `/api/members/${staying.userId}/transfer-keys`, { toUserId: leaving.userId }), 409, 'conflict');

    const moved = await api(admin, 'POST', `/api/members/${leaving.userId}/transfer-keys`, { toUserId: staying.userId });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().items.map((k: { createdBy: { id: string } }) => k.createdBy.id)).toEqual([staying.userId, staying.userId]);
    // The new owner manages them now; the keys kept working throughout.
    expect((await api(staying, 'POST', `/api/keys/${keys[0]!.id}/suspend`)).statusCode).toBe(200);
    expect((await callGateway(t, keys[1]!.secret)).statusCode).toBe(200);
    const audit = (await api(admin, 'GET', '/api/audit?eventType=key.transferred')).json();
    expect(audit.items.map((e: { resourceId: string }) => e.resourceId).sort()).toEqual(keys.map((k) => k.id).sort());
  });
});

describe('bulk revoke and suspend', () => {
  it('is all or nothing: an unknown, foreign, forbidden or already revoked key changes none', async () => {
    t = await startTestApp();
    const admin = await signup(t, 'Bulk Ltd');
    const member = await addMember(t, admin, 'member');
    const keys = [
      await createKey(t, member, { name: 'prod-bulk-one-ops' }),
      await createKey(t, member, { name: 'prod-bulk-two-ops' }),
      await createKey(t, member, { name: 'prod-bulk-three-ops' }),
    ];
    const adminsKey = await createKey(t, admin, { name: 'prod-bulk-admin-ops' });
    const stranger = await signup(t, 'Stranger Ltd');
    const foreign = await createKey(t, stranger, { name: 'prod-foreign-ops' });
    const ids = keys.map((k) => k.id);

    expectProblem(await api(admin, 'POST', '/api/keys/bulk', { action: 'revoke', keyIds: [...ids, foreign.id] }), 404, 'not_found');
    expectProblem(await api(admin, 'POST', '/api/keys/bulk', { action: 'revoke', keyIds: [...ids, 'key_unknown'] }), 404, 'not_found');
    expectProblem(await api(member, 'POST', '/api/keys/bulk', { action: 'suspend', keyIds: [...ids, adminsKey.id] }), 403, 'forbidden');
    await api(admin, 'POST', `/api/keys/${ids[2]}/revoke`);
    expectProblem(await api(admin, 'POST', '/api/keys/bulk', { action: 'suspend', keyIds: ids }), 409, 'conflict');
    for (const key of keys.slice(0, 2)) expect((await callGateway(t, key.secret)).statusCode).toBe(200);
    expect((await callGateway(t, foreign.secret)).statusCode).toBe(200);

    const suspended = await api(member, 'POST', '/api/keys/bulk', { action: 'suspend', keyIds: ids.slice(0, 2) });
    expect(suspended.statusCode, suspended.body).toBe(200);
    expect(suspended.json().items.map((k: { status: string }) => k.status)).toEqual(['suspended', 'suspended']);
    const revoked = await api(admin, 'POST', '/api/keys/bulk', { action: 'revoke', keyIds: ids.slice(0, 2) });
    expect(revoked.json().items.map((k: { status: string }) => k.status)).toEqual(['revoked', 'revoked']);
    for (const key of keys.slice(0, 2)) expect((await callGateway(t, key.secret)).json().code).toBe('api_key_revoked');
    const audit = (await api(admin, 'GET', '/api/audit?eventType=key.revoked')).json();
    expect(audit.items.map((e: { resourceId: string }) => e.resourceId).sort()).toEqual([...ids].sort());
  });
});
