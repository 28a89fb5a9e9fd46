import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import type { DomainEvent } from '../src/events/domain-events.js';
import type { EventListener } from '../src/events/event-bus.js';
import { KeyCache } from '../src/gateway/key-cache.js';
import { systemClock } from '../src/lib/clock.js';
import { sha256Hex } from '../src/lib/hash.js';
import { PlanCatalogue } from '../src/plans/catalogue.js';
import { createKey, type Session, signup, startTestApp, type TestApp } from './support/harness.js';

/**
 * The key cache of another node: its own connection to the same database, told of changes only
 * by the events the app records (as the change feed delivers them).
 */
describe('the key cache of another node', () => {
  let t: TestApp;
  let admin: Session;
  const recorded: DomainEvent[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signup(t, 'Cache Ltd');
    t.services.events.subscribe({ event: (event) => recorded.push(event), reset: () => {} });
  });
  afterAll(() => t.close());

  /** A node's cache over its own connection; `listener` is how the node hears events. */
  function otherNode(): { cache: KeyCache; handle: DatabaseHandle; hear(event: DomainEvent): void } {
    const handle = openDatabase(loadConfig({ DATA_DIR: t.dataDir, ...(t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : {}) }));
    let listener: EventListener | undefined;
    const cache = new KeyCache(handle.db, systemClock, new PlanCatalogue(), {
      subscribe: (l) => {
        listener = l;
        return () => {};
      },
    });
    return { cache, handle, hear: (event) => listener!.event(event) };
  }

  async function change(keyId: string, action: 'revoke' | 'suspend'): Promise<DomainEvent> {
    const response = await t.app.inject({ method: 'POST', url: `/api/keys/${keyId}/${action}`, headers: { cookie: admin.cookie } });
    expect(response.statusCode).toBe(200);
    const type = action === 'revoke' ? 'api_key.revoked' : 'api_key.suspended';
    const event = recorded.findLast((e) => (e.type === 'api_key.revoked' || e.type === 'api_key.suspended') && e.type === type && e.data.key.id === keyId);
    expect(event).toBeDefined();
    return event!;
  }

  it('refuses a revoked key from the event alone: no database read, even with the database gone', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-cache-revoke-ops' });
    const node = otherNode();
    const hash = sha256Hex(secret);
    expect(await node.cache.key(hash)).toMatchObject({ id, status: 'active' });

    const revoked = await change(id, 'revoke');
    // The node's database is now out of reach: whatever it answers next comes from memory.
    await node.handle.db.destroy();
    node.hear(revoked);
    const after = node.cache.key(hash);
    expect(after).not.toBeInstanceOf(Promise);
    expect(after).toMatchObject({ id, status: 'revoked', revokedAt: revoked.type === 'api_key.revoked' ? revoked.data.key.revokedAt : null });
    expect(node.cache.peek(hash)?.status).toBe('revoked');
  });

  it('forgets a suspended key and reads it again (a suspension can be undone, so it is not applied in place)', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-cache-suspend-ops' });
    const node = otherNode();
    try {
      const hash = sha256Hex(secret);
      expect(await node.cache.key(hash)).toMatchObject({ status: 'active' });
      node.hear(await change(id, 'suspend'));
      expect(node.cache.peek(hash)).toBeUndefined();
      expect(await node.cache.key(hash)).toMatchObject({ id, status: 'suspended' });
    } finally {
      await node.handle.db.destroy();
    }
  });
});
