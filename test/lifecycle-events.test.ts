/**
 * CONTRACT §11 events produced by scheduled jobs and by the gateway: `api_key.expiring` (14, 7
 * and 1 days before), `quota.threshold` (80 % and 100 %), `api_key.revoked_key_used` (first call
 * of a revoked key per day). Two nodes share one database and one controllable clock; each job
 * runs on both at once, and each announcement is made exactly once.
 */
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainEventSchema, type DomainEvent } from '../src/events/domain-events.js';
import { readEvents } from '../src/events/event-log.js';
import { announceExpiringKeys } from '../src/keys/expiry-sweeper.js';
import { sweepQuotaThresholds } from '../src/limits/quota-events.js';
import { DAY, HOUR, ManualClock } from '../src/lib/clock.js';
import { addDailyCounts } from '../src/usage/usage.repository.js';
import { callGateway, createKey, signup, startTestApp, type Session, type TestApp } from './support/harness.js';

describe('lifecycle events from scheduled jobs, exactly once across two nodes', () => {
  const clock = new ManualClock('2026-03-01T09:00:00.000Z');
  let a: TestApp;
  let b: TestApp;
  let admin: Session;

  beforeAll(async () => {
    a = await startTestApp({ clock });
    const shared: Record<string, string> = a.config.databaseUrl ? { DATABASE_URL: a.config.databaseUrl } : { DATA_DIR: a.dataDir };
    b = await startTestApp({ clock, env: shared });
    admin = await signup(a, 'Fabrikam');
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  async function eventsOf(type: DomainEvent['type']): Promise<DomainEvent[]> {
    const rows = await readEvents(a.services.db, 0, [], 100_000);
    return rows.map((r) => r.event).filter((e) => e.type === type && e.organisationId === admin.orgId);
  }

  /** The job on both nodes at the same moment (no once-per-cluster lock: the marks alone must hold). */
  async function bothNodes<T>(job: (t: TestApp) => Promise<T>): Promise<T[]> {
    return Promise.all([job(a), job(b)]);
  }

  it('api_key.expiring: once at 14, 7 and 1 days before, with the key as the API shows it; nothing before or after', async () => {
    const { id } = await createKey(a, admin, { name: 'expiring-key', expiresInDays: 30 });
    const expire = (t: TestApp) => announceExpiringKeys({ db: t.services.db, clock, events: t.services.events });

    clock.advance(15 * DAY); // 15 days left
    expect((await bothNodes(expire)).flat()).toEqual([0, 0]);
    expect(await eventsOf('api_key.expiring')).toEqual([]);

    clock.advance(1 * DAY + HOUR); // under 14 days left
    await bothNodes(expire);
    await bothNodes(expire);
    clock.advance(5 * DAY); // under 9 days: nothing new
    await bothNodes(expire);
    clock.advance(2 * DAY); // under 7 days
    await bothNodes(expire);
    clock.advance(6 * DAY); // under 1 day
    await bothNodes(expire);
    await bothNodes(expire);
    clock.advance(2 * DAY); // expired: no more "expiring"
    await bothNodes(expire);

    const events = await eventsOf('api_key.expiring');
    expect(events.map((e) => (e as Extract<DomainEvent, { type: 'api_key.expiring' }>).data.daysBefore)).toEqual([14, 7, 1]);
    for (const event of events) {
      expect(Value.Check(DomainEventSchema, event)).toBe(true);
      expect(event.id).toMatch(/^evt_/);
      expect(event.data).toMatchObject({ key: { id, name: 'expiring-key', status: 'active' } });
      expect(JSON.stringify(event)).not.toMatch(/bdoc_[0-9A-Za-z]{20,}|keyHash|hash/);
    }
  });

  it('a key made with 3 days left is announced once, for the nearest mark', async () => {
    clock.set('2026-03-01T09:00:00.000Z');
    const before = (await eventsOf('api_key.expiring')).length;
    const { id } = await createKey(a, admin, { name: 'short-key', expiresInDays: 30 });
    clock.advance(27 * DAY);
    await bothNodes((t) => announceExpiringKeys({ db: t.services.db, clock, events: t.services.events }));
    const events = (await eventsOf('api_key.expiring')).slice(before).filter((e) => (e.data as { key: { id: string } }).key.id === id);
    expect(events.map((e) => (e as Extract<DomainEvent, { type: 'api_key.expiring' }>).data.daysBefore)).toEqual([7]);
  });

  it('quota.threshold: 80 % and 100 % of a monthly quota, once each per period, from the sweep on both nodes', async () => {
    clock.set('2026-04-10T12:00:00.000Z');
    const org = await signup(a, 'Tailspin', undefined, { plan: 'free' }); // 50 document actions a month
    const { id: keyId } = await createKey(a, org, { name: 'quota-key' });
    const sweep = (t: TestApp) =>
      sweepQuotaThresholds({ db: t.services.db, clock, audit: t.services.audit, events: t.services.events, plans: t.services.plans });
    const use = (count: number) =>
      addDailyCounts(a.services.db, [{ keyId, orgId: org.orgId, day: '2026-04-10', operation: 'MergePdf', actionType: 'document', outcome: 'success', count }]);
    const thresholds = async () => {
      const rows = await readEvents(a.services.db, 0, [], 100_000);
      return rows
        .map((r) => r.event)
        .filter((e): e is Extract<DomainEvent, { type: 'quota.threshold' }> => e.type === 'quota.threshold' && e.organisationId === org.orgId)
        .map((e) => e.data.quota);
    };

    await use(39);
    await bothNodes(sweep);
    expect(await thresholds()).toEqual([]);
    await use(1); // 40 of 50 = 80 %
    await bothNodes(sweep);
    await bothNodes(sweep);
    expect(await thresholds()).toEqual([
      { actionType: 'document', threshold: 80, used: 40, limit: 50, periodStart: '2026-04-01T00:00:00.000Z', periodEnd: '2026-05-01T00:00:00.000Z' },
    ]);
    await use(10);
    await bothNodes(sweep);
    await bothNodes(sweep);
    expect((await thresholds()).map((q) => q.threshold)).toEqual([80, 100]);

    // A new period starts the count again.
    clock.set('2026-05-02T12:00:00.000Z');
    await addDailyCounts(a.services.db, [
      { keyId, orgId: org.orgId, day: '2026-05-02', operation: 'MergePdf', actionType: 'document', outcome: 'success', count: 45 },
    ]);
    await bothNodes(sweep);
    expect((await thresholds()).map((q) => `${q.periodStart.slice(0, 7)}:${q.threshold}`)).toEqual(['2026-04:80', '2026-04:100', '2026-05:80']);
  });

  it('api_key.revoked_key_used: the first call of a revoked key per day, on either node, once', async () => {
    clock.set('2026-06-01T08:00:00.000Z');
    const owner = await signup(a, 'Litware');
    const { id, secret } = await createKey(a, owner, { name: 'revoked-then-used' });
    expect((await a.app.inject({ method: 'POST', url: `/api/keys/${id}/revoke`, headers: { cookie: owner.cookie } })).statusCode).toBe(200);
    await b.services.events.catchUp();
    const ofOwner = async () =>
      (await readEvents(a.services.db, 0, [], 100_000))
        .map((r) => r.event)
        .filter((e) => e.type === 'api_key.revoked_key_used' && e.organisationId === owner.orgId);
    const used = async () => (await ofOwner()).filter((e) => (e.data as { key: { id: string } }).key.id === id).map((e) => (e.data as { day: string }).day);
    const calls = () => Promise.all([callGateway(a, secret), callGateway(b, secret), callGateway(a, secret), callGateway(b, secret)]);
    for (const response of await calls()) expect(response.statusCode).toBe(401);
    await expect.poll(used).toEqual(['2026-06-01']);
    clock.advance(DAY);
    await calls();
    await expect.poll(used).toEqual(['2026-06-01', '2026-06-02']);
    await calls();
    const events = (await ofOwner()).filter((e) => (e.data as { key: { id: string } }).key.id === id);
    expect(events).toHaveLength(2);
    expect(events[0]!.data).toMatchObject({ key: { id, status: 'revoked' }, day: '2026-06-01' });
  });
});
