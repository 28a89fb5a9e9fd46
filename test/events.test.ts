import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainEventSchema, type DomainEvent } from '../src/events/domain-events.js';
import { commitWithEvents } from '../src/events/event-bus.js';
import { readEvents } from '../src/events/event-log.js';
import { recordExpiredKeys } from '../src/keys/expiry-sweeper.js';
import { DAY, ManualClock } from '../src/lib/clock.js';
import { addMember, callGateway, createKey, signup, startTestApp, type Session, type TestApp } from './support/harness.js';

describe('domain events', () => {
  const clock = new ManualClock('2026-05-04T08:00:00.000Z');
  let t: TestApp;
  let admin: Session;
  let seen = 0;
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: { cookie: admin.cookie }, ...(payload === undefined ? {} : { payload: payload as object }) });

  /** The events logged since the last call, in log order. */
  async function newEvents(): Promise<DomainEvent[]> {
    const rows = await readEvents(t.services.db, seen, [], 10_000);
    if (rows.length > 0) seen = rows.at(-1)!.position;
    return rows.map((r) => r.event);
  }

  beforeAll(async () => {
    t = await startTestApp({ clock });
    admin = await signup(t, 'Northwind');
  });
  afterAll(() => t.close());

  it('sign-up logs organisation.created and member.joined; a plan change logs subscription.changed', async () => {
    const all = (await newEvents()).filter((e) => e.organisationId === admin.orgId);
    expect(all.map((e) => e.type)).toEqual(['organisation.created', 'member.joined', 'subscription.changed']);
    const [org, joined, plan] = all;
    expect(org!.data).toEqual({ organisation: { id: admin.orgId, name: 'Northwind' } });
    expect(joined!.data).toMatchObject({ member: { id: admin.userId, email: admin.email, role: 'admin' } });
    expect(plan!.data).toMatchObject({ subscription: { organisation: { id: admin.orgId }, plan: 'large' } });
    expect(JSON.stringify(all)).not.toMatch(/passwordHash|\$argon|\$scrypt/i);
  });

  it('each key change writes its event, named for what happened, with the key as the API shows it', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'events-key' });
    expect((await api('PATCH', `/api/keys/${id}`, { name: 'events-key-2' })).statusCode).toBe(200);
    expect((await api('POST', `/api/keys/${id}/suspend`)).statusCode).toBe(200);
    expect((await api('POST', `/api/keys/${id}/resume`)).statusCode).toBe(200);
    const rotated = await api('POST', `/api/keys/${id}/rotate`, {});
    expect(rotated.statusCode).toBe(201);
    const successorId = rotated.json().key.id;
    expect((await api('POST', `/api/keys/${id}/revoke`)).statusCode).toBe(200);
    expect((await api('DELETE', `/api/keys/${successorId}`)).statusCode).toBe(204);

    const events = await newEvents();
    expect(events.map((e) => e.type)).toEqual([
      'api_key.created',
      'api_key.updated',
      'api_key.suspended',
      'api_key.resumed',
      'api_key.rotated',
      'api_key.revoked',
      'api_key.deleted',
    ]);
    for (const event of events) {
      expect(Value.Check(DomainEventSchema, event), JSON.stringify(event)).toBe(true);
      expect(event.id).toMatch(/^evt_[0-9A-Za-z]{21}$/);
      expect(event.timestamp).toBe('2026-05-04T08:00:00.000Z');
      expect(event.organisationId).toBe(admin.orgId);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const keyOf = (i: number) => (events[i]!.data as { key: { id: string; status: string; name: string } }).key;
    expect(keyOf(0)).toMatchObject({ id, name: 'events-key', status: 'active', start: secret.slice(0, 9), last4: secret.slice(-4) });
    expect(keyOf(1)).toMatchObject({ id, name: 'events-key-2' });
    expect(keyOf(2)).toMatchObject({ id, status: 'suspended' });
    expect(keyOf(3)).toMatchObject({ id, status: 'active' });
    expect(events[4]!.data).toMatchObject({ key: { id, replacedByKeyId: successorId }, successor: { id: successorId, replacesKeyId: id } });
    expect(keyOf(5)).toMatchObject({ id, status: 'revoked', revokedBy: { id: admin.userId } });
    expect(keyOf(6)).toMatchObject({ id: successorId, status: 'revoked' });
    // Views, never secrets: no plaintext key and no hash in any event.
    const text = JSON.stringify(events);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(rotated.json().secret);
    expect(text).not.toMatch(/"hash"/);
  });

  it('a refused change writes no event', async () => {
    const { id } = await createKey(t, admin);
    expect((await api('POST', `/api/keys/${id}/revoke`)).statusCode).toBe(200);
    await newEvents();
    expect((await api('POST', `/api/keys/${id}/revoke`)).statusCode).toBe(409);
    expect((await api('POST', `/api/keys/${id}/suspend`)).statusCode).toBe(409);
    expect((await api('PATCH', `/api/keys/nope`, { name: 'x' })).statusCode).toBe(404);
    expect(await newEvents()).toEqual([]);
  });

  it('a change that fails part-way writes neither the change nor its events', async () => {
    const { id, secret } = await createKey(t, admin);
    await newEvents();
    const { db, events } = t.services;
    await expect(
      commitWithEvents(db, events, async (trx, emit) => {
        await trx.updateTable('apiKeys').set({ status: 'revoked' }).where('id', '=', id).execute();
        emit({ type: 'api_key.revoked', organisationId: admin.orgId, data: { key: { id } as never } });
        throw new Error('the disk is full');
      }),
    ).rejects.toThrow('the disk is full');
    expect(await newEvents()).toEqual([]);
    expect((await db.selectFrom('apiKeys').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('active');
    expect((await callGateway(t, secret)).statusCode).toBe(200);
  });

  it('members: an invitation, its acceptance, a role change and a deactivation are events', async () => {
    await newEvents();
    const member = await addMember(t, admin, 'member');
    const joining = await newEvents();
    expect(joining.map((e) => e.type)).toEqual(['member.invited', 'member.joined']);
    expect(joining[0]!.data).toMatchObject({ invitation: { email: member.email, role: 'member' } });
    expect(joining[1]!.data).toMatchObject({ member: { id: member.userId, email: member.email, role: 'member' } });
    // The invitation link's token never travels in an event.
    expect(JSON.stringify(joining)).not.toMatch(/token/i);
    expect((await api('PATCH', `/api/members/${member.userId}`, { role: 'viewer' })).statusCode).toBe(200);
    expect((await api('POST', `/api/members/${member.userId}/deactivate`)).statusCode).toBe(200);
    const events = await newEvents();
    expect(events.map((e) => e.type)).toEqual(['member.role_changed', 'member.deactivated']);
    expect(events[0]!.data).toMatchObject({ member: { id: member.userId, role: 'viewer' }, from: 'member', to: 'viewer' });
    expect(events[1]!.data).toMatchObject({ member: { id: member.userId, status: 'deactivated' } });
  });

  it('an expiry is logged once as api_key.expired', async () => {
    const { id } = await createKey(t, admin, { expiresInDays: 30 });
    await newEvents();
    clock.advance(31 * DAY);
    try {
      const deps = { db: t.services.db, clock, audit: t.services.audit, events: t.services.events };
      await recordExpiredKeys(deps);
      await recordExpiredKeys(deps);
      const expired = (await newEvents()).filter((e) => e.type === 'api_key.expired');
      expect(expired.map((e) => (e.data as { key: { id: string } }).key.id)).toEqual([id]);
    } finally {
      clock.advance(-31 * DAY);
    }
  });

  it('events past their retention are pruned, newer ones kept', async () => {
    await createKey(t, admin);
    const before = (await readEvents(t.services.db, 0, [], 100_000)).length;
    expect(before).toBeGreaterThan(0);
    expect(await t.services.events.prune()).toBe(0);
    clock.advance(40 * DAY);
    try {
      expect(await t.services.events.prune()).toBe(before);
      expect(await readEvents(t.services.db, 0, [], 10)).toEqual([]);
    } finally {
      clock.advance(-40 * DAY);
    }
  });
});
