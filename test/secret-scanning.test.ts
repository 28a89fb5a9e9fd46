/**
 * Leaked keys (CONTRACT §11): GitHub's secret-scanning partner endpoint, with a self-made ECDSA
 * P-256 key pair standing in for GitHub's. A live key reported is revoked at once (or, by the
 * organisation's choice, only notified), marked exposed with the URL, audited, announced and mailed.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../src/events/event-log.js';
import { MINUTE, ManualClock } from '../src/lib/clock.js';
import { addMember, callGateway, createKey, expectProblem, signup, startTestApp, type Session, type TestApp } from './support/harness.js';
import { startSmtpServer } from './support/smtp.js';

function keyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const keysDocument = (keys: Record<string, KeyObject>) =>
  JSON.stringify({ public_keys: Object.entries(keys).map(([id, key]) => ({ key_identifier: id, key: pem(key), is_current: true })) });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const GITHUB = keyPair();
const STRANGER = keyPair();
const KEY_ID = 'bde9a7e3ac1b1d0a4f9c1c0f0e7b9d2b6c1a3e5f7a9b1c3d5e7f9a1b3c5d7e9f';

function report(t: TestApp, body: string, headers: Record<string, string | undefined>) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/secret-scanning/github',
    headers: Object.fromEntries(Object.entries({ 'content-type': 'application/json', ...headers }).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
    payload: body,
  });
}
const signed = (body: string, key = GITHUB.privateKey, keyId = KEY_ID) => ({
  'github-public-key-identifier': keyId,
  'github-public-key-signature': sign('sha256', Buffer.from(body), key).toString('base64'),
});
const finding = (token: string, url = 'https://github.com/octo/flows/blob/main/.env') => ({ token, type: 'build_a_doc_api_key', url, source: 'content' });

describe('POST /v1/secret-scanning/github', () => {
  let dir: string;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let t: TestApp;
  let admin: Session;
  let member: Session;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bdoc-github-keys-'));
    writeFileSync(path.join(dir, 'keys.json'), keysDocument({ [KEY_ID]: GITHUB.publicKey }));
    smtp = await startSmtpServer();
    t = await startTestApp({ env: { GITHUB_SECRET_SCANNING_KEYS_FILE: path.join(dir, 'keys.json'), SMTP_URL: smtp.url, MAIL_SEND_INTERVAL_MS: '3600000' } });
    admin = await signup(t, 'Leaky Ltd');
    member = await addMember(t, admin, 'member', 'Mo Member');
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a live key found in public is revoked at once, marked exposed with the URL, audited, announced and mailed', async () => {
    const key = await createKey(t, member, { name: 'prod-leaky-flow-sales' });
    expect((await callGateway(t, key.secret)).statusCode).toBe(200);
    const url = 'https://github.com/octo/flows/blob/main/.env';
    const body = JSON.stringify([finding(key.secret, url)]);
    const response = await report(t, body, signed(body));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual([{ token_hash: sha256(key.secret), token_type: 'build_a_doc_api_key', label: 'true_positive' }]);

    // The very next call with it is refused.
    expectProblem(await callGateway(t, key.secret), 401, 'api_key_revoked');
    const view = (await t.app.inject({ method: 'GET', url: `/api/keys/${key.id}`, headers: { cookie: admin.cookie } })).json();
    expect(view).toMatchObject({ status: 'revoked', exposedUrl: url, exposedAt: expect.any(String), revokedBy: null });

    const audit = (await t.app.inject({ method: 'GET', url: `/api/audit?eventType=key.exposed`, headers: { cookie: admin.cookie } })).json();
    expect(audit.items).toEqual([expect.objectContaining({ resourceId: key.id, severity: 'warning', action: 'revoke' })]);
    expect(JSON.stringify(audit)).not.toContain(key.secret);

    const events = (await readEvents(t.services.db, 0, [], 10_000)).map((e) => e.event).filter((e) => e.organisationId === admin.orgId);
    const exposed = events.find((e) => e.type === 'api_key.exposed');
    expect(exposed?.data).toMatchObject({ key: { id: key.id, status: 'revoked', exposedUrl: url }, exposure: { source: 'github', url, action: 'revoked' } });
    expect(events.some((e) => e.type === 'api_key.revoked' && e.data.key.id === key.id)).toBe(true);

    await t.services.mail.drain();
    const mails = [...smtp.to(admin.email, 'key_exposed'), ...smtp.to(member.email, 'key_exposed')];
    expect(mails).toHaveLength(2);
    for (const mail of mails) {
      expect(mail.parsed.subject).toBe('API key "prod-leaky-flow-sales" was found in public and revoked');
      expect(mail.parsed.text).toContain(url);
      expect(mail.parsed.html).toContain('It was revoked at once');
      expect(mail.raw).not.toContain(key.secret);
    }
  });

  it('tokens that are not live keys of ours are false positives and change nothing', async () => {
    const revoked = await createKey(t, member, { name: 'prod-old-flow-sales' });
    await t.app.inject({ method: 'POST', url: `/api/keys/${revoked.id}/revoke`, headers: { cookie: admin.cookie } });
    const unknown = 'bdoc_000000000000000000000000000000000000'; // our shape, wrong checksum
    const body = JSON.stringify([finding(unknown), finding('ghp_notours'), finding(revoked.secret)]);
    const response = await report(t, body, signed(body));
    expect(response.statusCode).toBe(200);
    expect(response.json().map((l: { label: string }) => l.label)).toEqual(['false_positive', 'false_positive', 'false_positive']);
    expect(response.json()[1].token_hash).toBe(sha256('ghp_notours'));
    const view = (await t.app.inject({ method: 'GET', url: `/api/keys/${revoked.id}`, headers: { cookie: admin.cookie } })).json();
    expect(view.exposedAt).toBeNull();
  });

  describe('a report that is not signed by GitHub is 401 and changes nothing', () => {
    let key: { id: string; secret: string };
    beforeAll(async () => {
      key = await createKey(t, member, { name: 'prod-safe-flow-sales' });
    });
    const stillWorks = async () => {
      expect((await callGateway(t, key.secret)).statusCode).toBe(200);
      const view = (await t.app.inject({ method: 'GET', url: `/api/keys/${key.id}`, headers: { cookie: admin.cookie } })).json();
      expect(view).toMatchObject({ status: 'active', exposedAt: null });
    };

    it('unsigned', async () => {
      const body = JSON.stringify([finding(key.secret)]);
      expectProblem(await report(t, body, {}), 401, 'signature_invalid');
      await stillWorks();
    });

    it('signed by another key under GitHub’s key id', async () => {
      const body = JSON.stringify([finding(key.secret)]);
      expectProblem(await report(t, body, signed(body, STRANGER.privateKey)), 401, 'signature_invalid');
      await stillWorks();
    });

    it('a signature of another body', async () => {
      const body = JSON.stringify([finding(key.secret)]);
      expectProblem(await report(t, body, signed('[]')), 401, 'signature_invalid');
      await stillWorks();
    });

    it('an unknown key id', async () => {
      const body = JSON.stringify([finding(key.secret)]);
      expectProblem(await report(t, body, signed(body, STRANGER.privateKey, 'not-a-github-key')), 401, 'signature_invalid');
      await stillWorks();
    });
  });

  it('a signed but malformed body is 400 problem+json', async () => {
    for (const body of ['{not json', JSON.stringify({ token: 'x' }), JSON.stringify([{ token: 1, type: 'x', url: 'u', source: 's' }]), '[]']) {
      expectProblem(await report(t, body, signed(body)), 400, 'validation_failed');
    }
  });

  it('an organisation that chose "notify" keeps the key working, still marked exposed and mailed; only Admins choose', async () => {
    const forbidden = await t.app.inject({
      method: 'PUT',
      url: '/api/organisation/settings',
      headers: { cookie: member.cookie },
      payload: { leakResponse: 'notify' },
    });
    expectProblem(forbidden, 403, 'forbidden');
    const chosen = await t.app.inject({
      method: 'PUT',
      url: '/api/organisation/settings',
      headers: { cookie: admin.cookie },
      payload: { leakResponse: 'notify' },
    });
    expect(chosen.json()).toEqual({ leakResponse: 'notify' });
    try {
      const key = await createKey(t, member, { name: 'prod-kept-flow-sales' });
      const url = 'https://gist.github.com/octo/abc123';
      const body = JSON.stringify([finding(key.secret, url)]);
      const response = await report(t, body, signed(body));
      expect(response.json()[0].label).toBe('true_positive');
      expect((await callGateway(t, key.secret)).statusCode).toBe(200);
      const view = (await t.app.inject({ method: 'GET', url: `/api/keys/${key.id}`, headers: { cookie: admin.cookie } })).json();
      expect(view).toMatchObject({ status: 'active', exposedUrl: url });
      await t.services.mail.drain();
      const [mail] = smtp.to(member.email, 'key_exposed').filter((m) => m.parsed.subject?.includes('prod-kept-flow-sales'));
      expect(mail!.parsed.subject).toBe('API key "prod-kept-flow-sales" was found in public');
      expect(mail!.parsed.text).toContain('the key still works');
    } finally {
      await t.app.inject({ method: 'PUT', url: '/api/organisation/settings', headers: { cookie: admin.cookie }, payload: { leakResponse: 'revoke' } });
    }
  });
});

describe("GitHub's public keys from a URL", () => {
  let server: Server;
  let document = keysDocument({ 'old-key': GITHUB.publicKey });
  let fetches = 0;
  let t: TestApp;
  const clock = new ManualClock();

  beforeAll(async () => {
    server = createServer((_request, response) => {
      fetches++;
      response.setHeader('content-type', 'application/json');
      response.end(document);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    t = await startTestApp({ clock, env: { GITHUB_SECRET_SCANNING_KEYS_URL: `http://127.0.0.1:${port}/keys`, MAIL_SEND_INTERVAL_MS: '3600000' } });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('are fetched once and cached, and fetched again when a report names a key id not seen yet', async () => {
    const body = JSON.stringify([finding('ghp_notours')]);
    expect((await report(t, body, signed(body, GITHUB.privateKey, 'old-key'))).statusCode).toBe(200);
    expect((await report(t, body, signed(body, GITHUB.privateKey, 'old-key'))).statusCode).toBe(200);
    expect(fetches).toBe(1);

    // GitHub rotates: a new key id appears in its list.
    const next = keyPair();
    document = keysDocument({ 'old-key': GITHUB.publicKey, 'new-key': next.publicKey });
    clock.advance(MINUTE);
    expect((await report(t, body, signed(body, next.privateKey, 'new-key'))).statusCode).toBe(200);
    expect(fetches).toBe(2);
  });
});
