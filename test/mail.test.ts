/**
 * Mail (CONTRACT §11): invitations, expiry reminders and quota thresholds reach the right people
 * over real SMTP, in plain text and HTML; nothing is sent on the request path; a refused mail is
 * retried; each mail goes out once; without SMTP_URL mails become `.eml` files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitWithEvents, type EventListener } from '../src/events/event-bus.js';
import type { NewDomainEvent } from '../src/events/domain-events.js';
import { MINUTE, ManualClock } from '../src/lib/clock.js';
import { createMailService, smtpSender } from '../src/mail/mail.service.js';
import { outboxOf } from '../src/mail/outbox.repository.js';
import { mailOnEvents } from '../src/notifications/mail-notifier.js';
import { addMember, createKey, databaseBytes, invitationToken, signup, startTestApp, uniqueEmail, type Session, type TestApp } from './support/harness.js';
import { startSmtpServer } from './support/smtp.js';

/** The test sends the outbox itself (no timer), so it can look before and after. */
const MANUAL_SENDING = { MAIL_SEND_INTERVAL_MS: '3600000' };

/** Writes an event as the producing job does: in a transaction, through the event log. */
async function publish(t: TestApp, event: { type: string; organisationId: string; data: Record<string, unknown> }) {
  const { db, events } = t.services;
  const [recorded] = await commitWithEvents(db, events, async (trx) => events.record(trx, [event as unknown as NewDomainEvent]));
  return recorded!;
}

/** Waits until the event's mails are in the outbox (listeners queue them just after the event). */
async function queued(t: TestApp, orgId: string, kind: string, count: number) {
  for (let i = 0; i < 200; i++) {
    const rows = (await outboxOf(t.services.db, orgId)).filter((row) => row.kind === kind);
    if (rows.length >= count) return rows;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`fewer than ${count} mails were queued`);
}

describe('mail over SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let t: TestApp;
  let admin: Session;
  const clock = new ManualClock('2026-03-01T09:00:00.000Z');
  const refused = new Set<string>();

  beforeAll(async () => {
    smtp = await startSmtpServer({ refuse: (recipient) => refused.has(recipient) });
    t = await startTestApp({ clock, env: { SMTP_URL: smtp.url, ...MANUAL_SENDING } });
    admin = await signup(t, 'Mail & Co');
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('an invitation is mailed to the person invited with the accept link, in plain text and HTML, after the request', async () => {
    const email = uniqueEmail('invitee');
    const response = await t.app.inject({ method: 'POST', url: '/api/invitations', headers: { cookie: admin.cookie }, payload: { email, role: 'member' } });
    expect(response.statusCode).toBe(201);
    const url: string = response.json().url;
    expect(smtp.to(email)).toHaveLength(0); // queued with the invitation, not sent on the request path

    await t.services.mail.drain();
    const [mail, ...more] = smtp.to(email);
    expect(more).toHaveLength(0);
    expect(mail!.parsed.subject).toBe('You are invited to Mail & Co on Build a Doc');
    expect(mail!.parsed.from?.text).toContain('no-reply@portal.test');
    expect(mail!.parsed.text).toContain('Ada Admin invited you to join Mail & Co on Build a Doc as member.');
    expect(mail!.parsed.html).toContain('Mail &amp; Co');
    // The mail carries a link of its own, made as it was sent; the database keeps only its hash.
    const mailed = /Accept the invitation: (http:\/\/portal\.test\/accept-invitation#token=\S+)/.exec(mail!.parsed.text ?? '')?.[1];
    expect(mailed).toBeDefined();
    expect(mailed).not.toBe(url);
    expect(mail!.parsed.html).toContain(`href="${mailed}"`);
    expect(await databaseBytes(t)).not.toContain(invitationToken(mailed!));
    const accepted = await t.app.inject({
      method: 'POST',
      url: '/api/invitations/accept',
      payload: { token: invitationToken(mailed!), name: 'Ivy', password: 'correct horse battery staple' },
    });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().user.email).toBe(email.toLowerCase());
    // Once sent, the outbox no longer keeps the link.
    const row = (await outboxOf(t.services.db, admin.orgId)).find((r) => r.recipient === email.toLowerCase());
    expect(row).toMatchObject({ sentAt: expect.any(String), textBody: null, htmlBody: null });
  });

  it("an expiry reminder goes to the key's owner and the Admins, leaving out whoever turned reminders off, and holds no secret", async () => {
    const org = await signup(t, 'Reminders Ltd');
    const quietAdmin = await addMember(t, org, 'admin', 'Quiet Admin');
    const owner = await addMember(t, org, 'member', 'Mo Member');
    const bystander = await addMember(t, org, 'member', 'Bea Bystander');
    const off = await t.app.inject({
      method: 'PUT',
      url: '/api/me/mail-preferences',
      headers: { cookie: quietAdmin.cookie },
      payload: { expiryReminders: false },
    });
    expect(off.json()).toEqual({ expiryReminders: false });
    const key = await createKey(t, owner, { name: 'prod-payroll-flow-hr', expiresInDays: 30 });
    await t.services.mail.drain();
    const before = smtp.received.length;

    const event = await publish(t, { type: 'api_key.expiring', organisationId: org.orgId, data: { key: key.key, daysBefore: 7 } });
    await queued(t, org.orgId, 'key_expiring', 2);
    await t.services.mail.drain();
    const mails = smtp.received.slice(before);
    expect(mails.flatMap((m) => m.to).sort()).toEqual([org.email, owner.email].map((e) => e.toLowerCase()).sort());
    for (const mail of mails) {
      expect(mail.parsed.subject).toBe('API key "prod-payroll-flow-hr" expires in 7 days');
      expect(mail.parsed.text).toContain(`${key.key.start}…${key.key.last4}`);
      expect(mail.parsed.text).toContain(`http://portal.test/keys/${key.id}`);
      expect(mail.parsed.html).toContain(`href="http://portal.test/keys/${key.id}"`);
      expect(mail.parsed.html).toContain('Stop expiry reminders');
      expect(mail.raw).not.toContain(key.secret);
    }
    expect(smtp.to(quietAdmin.email, 'key_expiring')).toHaveLength(0);
    expect(smtp.to(bystander.email, 'key_expiring')).toHaveLength(0);

    // The same event heard again (another node's notifier, a replay of the log) mails nobody twice:
    // a second notifier on the same database hears it and queues it, and the outbox keeps one each.
    // How the second notifier's handling of the event ended: its queueing's outcome, or its error.
    let hear: EventListener | undefined;
    let settle!: (outcome: PromiseSettledResult<void>) => void;
    const handled = new Promise<PromiseSettledResult<void>>((resolve) => {
      settle = resolve;
    });
    mailOnEvents({
      db: t.services.db,
      events: {
        subscribe: (listener) => {
          hear = listener;
          return () => {};
        },
      },
      mail: {
        queue: (...args) => {
          const queuing = t.services.mail.queue(...args);
          void Promise.allSettled([queuing]).then(([outcome]) => settle(outcome!));
          return queuing;
        },
      },
      onError: (reason) => settle({ status: 'rejected', reason }),
    });
    hear!.event(event);
    expect(await handled).toEqual({ status: 'fulfilled', value: undefined });
    expect(await queued(t, org.orgId, 'key_expiring', 2)).toHaveLength(2);
    await t.services.mail.drain();
    expect(smtp.received.length).toBe(before + 2);
  });

  it('a quota threshold is mailed to the Admins', async () => {
    const org = await signup(t, 'Quota Corp');
    const second = await addMember(t, org, 'admin', 'Second Admin');
    const member = await addMember(t, org, 'member');
    await publish(t, {
      type: 'quota.threshold',
      organisationId: org.orgId,
      data: {
        quota: {
          actionType: 'document',
          threshold: 80,
          used: 800,
          limit: 1000,
          periodStart: '2026-03-01T00:00:00.000Z',
          periodEnd: '2026-03-31T23:59:59.999Z',
        },
      },
    });
    const rows = await queued(t, org.orgId, 'quota_threshold', 2);
    expect(rows.map((r) => r.recipient).sort()).toEqual([org.email, second.email].map((e) => e.toLowerCase()).sort());
    await t.services.mail.drain();
    const [mail] = smtp.to(second.email, 'quota_threshold');
    expect(mail!.parsed.subject).toBe('Quota Corp used 80 % of its monthly document quota');
    expect(mail!.parsed.text).toContain('(800 of 1000)');
    expect(mail!.parsed.html).toContain('800 of 1000');
    expect(smtp.to(member.email, 'quota_threshold')).toHaveLength(0);
  });

  it('a mail the server refuses is tried again later, and then delivered', async () => {
    await t.services.mail.drain();
    const email = uniqueEmail('busy');
    refused.add(email.toLowerCase());
    await t.app.inject({ method: 'POST', url: '/api/invitations', headers: { cookie: admin.cookie }, payload: { email, role: 'viewer' } });
    expect(await t.services.mail.drain()).toBe(0);
    const row = (await outboxOf(t.services.db, admin.orgId)).find((r) => r.recipient === email.toLowerCase())!;
    expect(row).toMatchObject({ sentAt: null, attempts: 1, lastError: expect.stringContaining('450') });
    expect(Date.parse(row.nextAttemptAt)).toBe(clock.nowMs() + MINUTE);

    refused.delete(email.toLowerCase());
    await t.services.mail.drain();
    expect(smtp.to(email)).toHaveLength(0); // not due yet
    clock.advance(MINUTE);
    await t.services.mail.drain();
    expect(smtp.to(email)).toHaveLength(1);
  });

  it('two senders draining the same outbox at once send each mail once', async () => {
    const other = createMailService({
      db: t.services.db,
      clock,
      newId: t.services.newId,
      publicUrl: 'http://portal.test',
      sender: smtpSender(smtp.url, 'x@portal.test'),
    });
    await t.services.mail.drain();
    const emails = [uniqueEmail('once'), uniqueEmail('once'), uniqueEmail('once')];
    for (const email of emails)
      await t.app.inject({ method: 'POST', url: '/api/invitations', headers: { cookie: admin.cookie }, payload: { email, role: 'viewer' } });
    const [a, b] = await Promise.all([t.services.mail.drain(), other.drain()]);
    other.close();
    expect(a + b).toBe(3);
    for (const email of emails) expect(smtp.to(email)).toHaveLength(1);
  });

  it('each person sets their own reminder preference; it starts on', async () => {
    const viewer = await addMember(t, admin, 'viewer');
    const get = () => t.app.inject({ method: 'GET', url: '/api/me/mail-preferences', headers: { cookie: viewer.cookie } });
    expect((await get()).json()).toEqual({ expiryReminders: true });
    const put = await t.app.inject({ method: 'PUT', url: '/api/me/mail-preferences', headers: { cookie: viewer.cookie }, payload: { expiryReminders: false } });
    expect(put.statusCode).toBe(200);
    expect((await get()).json()).toEqual({ expiryReminders: false });
    const bad = await t.app.inject({ method: 'PUT', url: '/api/me/mail-preferences', headers: { cookie: viewer.cookie }, payload: { expiryReminders: 'no' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
  });
});

describe('mail without SMTP_URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MAIL_SEND_INTERVAL_MS: '50' } });
  });
  afterAll(() => t?.close());

  it('is written as .eml files under DATA_DIR/outbox/ by the sending job, and logged', async () => {
    const admin = await signup(t, 'Offline Ltd');
    const email = uniqueEmail('offline');
    const response = await t.app.inject({ method: 'POST', url: '/api/invitations', headers: { cookie: admin.cookie }, payload: { email, role: 'member' } });
    const dir = path.join(t.dataDir, 'outbox');
    // The sending job runs by itself every 50 ms here; the log line follows the file.
    for (let i = 0; i < 400 && !t.logs.text.includes('(SMTP_URL is not set)'); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^mail_\w+\.eml$/);
    const eml = await simpleParser(readFileSync(path.join(dir, files[0]!)));
    expect(eml.to && !Array.isArray(eml.to) ? eml.to.text : '').toBe(email.toLowerCase());
    expect(eml.subject).toBe('You are invited to Offline Ltd on Build a Doc');
    expect(response.statusCode).toBe(201);
    expect(eml.text).toMatch(/Accept the invitation: http:\/\/portal\.test\/accept-invitation#token=\S+/);
    expect(eml.html).toMatch(/href="http:\/\/portal\.test\/accept-invitation#token=[^"]+"/);
    expect(t.logs.text).toContain(`written to ${path.join(dir, files[0]!)}`);
  });
});

describe('invitation mails', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ env: { SMTP_URL: smtp.url, ...MANUAL_SENDING } });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('an invitation withdrawn before its mail went out is not mailed', async () => {
    const admin = await signup(t, 'Withdrawn Ltd');
    const email = uniqueEmail('withdrawn');
    const invited = await t.app.inject({ method: 'POST', url: '/api/invitations', headers: { cookie: admin.cookie }, payload: { email, role: 'member' } });
    await t.app.inject({ method: 'DELETE', url: `/api/invitations/${invited.json().invitation.id}`, headers: { cookie: admin.cookie } });
    await t.services.mail.drain();
    expect(smtp.to(email)).toHaveLength(0);
  });
});
