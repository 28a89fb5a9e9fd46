import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Db, DbOrTrx } from '../db/database.js';
import { HOUR, MINUTE, type Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import { claimMail, dueMails, enqueueMails, markFailed, markSent, type OutboxRow } from './outbox.repository.js';
import { LINK_PLACEHOLDER, renderMail, type MailContent, type MailKind } from './templates.js';

/** One mail as it leaves: to one person, in plain text and HTML. */
export interface OutgoingMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  kind: string;
}

/** Where mails go: an SMTP server, or `.eml` files when none is configured. */
export interface MailSender {
  /** Sends one mail; answers the file it was written to when it went to a file. */
  send(mail: OutgoingMail): Promise<{ file?: string }>;
  close(): void;
}

type Log = (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string) => void;

/** Waits before the 2nd, 3rd, … attempt after an SMTP failure; after the last one the mail is given up. */
export const RETRY_DELAYS_MS = [1 * MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR] as const;
/** A node sending a mail holds it this long; if it dies meanwhile another node sends it afterwards. */
const CLAIM_MS = 2 * MINUTE;

function message(from: string, mail: OutgoingMail) {
  return {
    from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    messageId: `<${mail.id}@build-a-doc>`,
    headers: { 'X-Build-A-Doc-Mail': mail.kind, 'Auto-Submitted': 'auto-generated' },
  };
}

/** Sends through `SMTP_URL` (smtp:// or smtps://, credentials in the URL). */
export function smtpSender(smtpUrl: string, from: string): MailSender {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    // A server that does not answer is a failed attempt (retried later), not a stuck sender.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail) {
      await transport.sendMail(message(from, mail));
      return {};
    },
    close: () => transport.close(),
  };
}

/** Without SMTP: each mail becomes `<dir>/<mail id>.eml` and a log line, so a one-machine start still shows them. */
export function fileSender(dir: string, from: string): MailSender {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(mail) {
      const info = await transport.sendMail(message(from, mail));
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${mail.id}.eml`);
      await writeFile(file, info.message as Buffer);
      return { file };
    },
    close: () => transport.close(),
  };
}

export interface MailServiceDeps {
  db: Db;
  clock: Clock;
  newId: IdGenerator;
  publicUrl: string;
  sender: MailSender;
}

export type MailService = ReturnType<typeof createMailService>;

/**
 * The outbox: a change queues its mails in its own transaction (never sent on the request path);
 * `drain` sends what is due, one node at a time, and retries after an SMTP failure.
 */
export function createMailService(deps: MailServiceDeps) {
  const { db, clock } = deps;
  let log: Log = () => {};
  let draining: Promise<number> | undefined;
  /** Makes the one-time link of a mail of this kind about `ref`; null when it can no longer be used. */
  const linkMakers = new Map<MailKind, (ref: string) => Promise<string | null>>();

  const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  /** The bodies as they leave: the link filled in where the mail has one; null when the mail is no longer wanted. */
  async function bodies(row: OutboxRow): Promise<{ text: string; html: string } | null> {
    const text = row.textBody ?? '';
    const html = row.htmlBody ?? '';
    const maker = linkMakers.get(row.kind as MailKind);
    if (!maker || !row.ref || !text.includes(LINK_PLACEHOLDER)) return { text, html };
    const link = await maker(row.ref);
    if (!link) return null;
    return { text: text.replaceAll(LINK_PLACEHOLDER, link), html: html.replaceAll(LINK_PLACEHOLDER, escapeHtml(link)) };
  }

  async function deliver(row: OutboxRow): Promise<boolean> {
    const now = clock.now();
    if (!(await claimMail(db, row.id, now.toISOString(), new Date(now.getTime() + CLAIM_MS).toISOString()))) return false;
    try {
      const filled = await bodies(row);
      if (!filled) {
        await markFailed(db, row.id, clock.now().toISOString(), 'no longer needed: what it was about can no longer be used', null);
        return false;
      }
      const { file } = await deps.sender.send({ id: row.id, to: row.recipient, subject: row.subject, kind: row.kind, ...filled });
      if (file) log('info', { mailId: row.id, kind: row.kind, to: row.recipient, file }, `mail "${row.subject}" written to ${file} (SMTP_URL is not set)`);
    } catch (error) {
      const attempt = row.attempts + 1;
      const delay = RETRY_DELAYS_MS[attempt - 1];
      const reason = error instanceof Error ? error.message.slice(0, 500) : String(error);
      const at = clock.now();
      await markFailed(db, row.id, at.toISOString(), reason, delay === undefined ? null : new Date(at.getTime() + delay).toISOString());
      log(
        delay === undefined ? 'error' : 'warn',
        { mailId: row.id, kind: row.kind, attempt, reason },
        delay === undefined ? 'mail could not be sent; giving up' : 'mail could not be sent; retrying later',
      );
      return false;
    }
    await markSent(db, row.id, clock.now().toISOString());
    return true;
  }

  return {
    set log(value: Log) {
      log = value;
    },

    /** Registers how the one-time link of a kind of mail is made when it is sent. */
    makeLinksWith(kind: MailKind, maker: (ref: string) => Promise<string | null>): void {
      linkMakers.set(kind, maker);
    },

    /**
     * Queues one mail per recipient; `cause` names what it is about, so the same cause never mails
     * a person twice. `ref` (with LINK_PLACEHOLDER in the content) asks for a link made at sending.
     */
    async queue(trx: DbOrTrx, orgId: string, cause: string, recipients: readonly string[], content: MailContent, ref: string | null = null): Promise<void> {
      const rendered = renderMail(content, deps.publicUrl);
      const now = clock.now().toISOString();
      const unique = [...new Set(recipients.map((r) => r.toLowerCase()))];
      await enqueueMails(
        trx,
        unique.map((recipient) => ({
          id: deps.newId('mail'),
          orgId,
          dedupeKey: `${cause}:${recipient}`,
          kind: content.kind,
          ref,
          recipient,
          subject: rendered.subject,
          textBody: rendered.text,
          htmlBody: rendered.html,
          createdAt: now,
          nextAttemptAt: now,
          lockedUntil: null,
          sentAt: null,
          failedAt: null,
          lastError: null,
        })),
      );
    },

    /** Sends every mail that is due; answers how many went out. One drain at a time on this node. */
    drain(): Promise<number> {
      draining ??= (async () => {
        let sent = 0;
        try {
          for (;;) {
            const due = await dueMails(db, clock.now().toISOString(), 50);
            for (const row of due) if (await deliver(row)) sent++;
            if (due.length < 50) return sent;
          }
        } finally {
          draining = undefined;
        }
      })();
      return draining;
    },

    close(): void {
      deps.sender.close();
    },
  };
}
