import { sha256Hex } from '../src/lib/hash.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callGateway, createKey, databaseBytes, invitationToken, PASSWORD, signup, startTestApp, type TestApp } from './support/harness.js';

describe('no plaintext key or password ever reaches the database or a log', () => {
  let t: TestApp;
  const secrets: string[] = [];
  let invitedToken = '';

  beforeAll(async () => {
    t = await startTestApp({ env: { LOG_LEVEL: 'trace' } });
    const admin = await signup(t, 'Secretive Ltd');
    secrets.push(PASSWORD);

    // A full scenario: keys created, used (well and badly), rotated, revoked; a member invited.
    const first = await createKey(t, admin, { name: 'prod-secret-flow-ops' });
    const second = await createKey(t, admin, { name: 'prod-other-flow-ops', expiresInDays: 30 });
    secrets.push(first.secret, second.secret);
    await callGateway(t, first.secret, { 'x-ms-workflow-name': 'flow-1' });
    await callGateway(t, ` ${first.secret} `);
    await callGateway(t, `Bearer ${second.secret}`);
    await t.app.inject({ method: 'GET', url: `/v1/connection?api_key=${first.secret}` });
    const rotated = await t.app.inject({ method: 'POST', url: `/api/keys/${first.id}/rotate`, headers: { cookie: admin.cookie }, payload: {} });
    secrets.push(rotated.json().secret);
    await t.app.inject({ method: 'POST', url: `/api/keys/${second.id}/revoke`, headers: { cookie: admin.cookie } });
    await callGateway(t, second.secret);
    const invited = await t.app.inject({
      method: 'POST',
      url: '/api/invitations',
      headers: { cookie: admin.cookie },
      payload: { email: 'new.person@example.com', role: 'member' },
    });
    invitedToken = invitationToken(invited.json().url);
    // The invitation page asks what the link offers: the token travels in the address.
    expect((await t.app.inject({ method: 'GET', url: `/api/invitations/${invitedToken}` })).statusCode).toBe(200);
    const memberPassword = 'another long passphrase 42';
    secrets.push(memberPassword);
    await t.app.inject({ method: 'POST', url: '/api/invitations/accept', payload: { token: invitedToken, name: 'New Person', password: memberPassword } });
    await t.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { email: 'new.person@example.com', password: 'a wrong password entirely' } });
    secrets.push('a wrong password entirely');
    await t.services.usage.flush();
  });
  afterAll(() => t.close());

  it('the database holds none of them', async () => {
    const bytes = await databaseBytes(t);
    // What was read really holds the scenario: every key's hash and the member's name are there.
    for (const secret of secrets.filter((s) => s.startsWith('bdoc_')))
      expect(bytes.includes(sha256Hex(secret)), 'a key hash is missing from what was read').toBe(true);
    expect(bytes).toContain('New Person');
    for (const secret of [...secrets, invitedToken]) {
      expect(bytes.includes(secret), `database contains ${secret.slice(0, 6)}…`).toBe(false);
      if (secret.startsWith('bdoc_')) expect(bytes.includes(secret.slice(9, -4))).toBe(false);
    }
  });

  it('the logs hold none of them, though they were written at trace level', () => {
    const logs = t.logs.text;
    expect(logs).toContain('request completed');
    for (const secret of [...secrets, invitedToken]) {
      expect(logs.includes(secret), `logs contain ${secret.slice(0, 6)}…`).toBe(false);
    }
  });

  it('an answer never echoes a key sent in the address, even a 404', async () => {
    const response = await t.app.inject({ method: 'GET', url: `/v1/${secrets[1]}` });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain(secrets[1]);
    expect(response.json().detail).toContain('bdoc_[redacted]');
  });

  it('the audit log holds none of them', async () => {
    const rows = await t.services.db.selectFrom('auditLog').select('details').execute();
    const text = JSON.stringify(rows);
    expect(rows.length).toBeGreaterThan(5);
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
  });
});
