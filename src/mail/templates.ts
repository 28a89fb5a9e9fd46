/**
 * The words of each mail, as plain text and HTML. Mails name a key by its name and masked form
 * (`bdoc_AbCd…wxyz`), never by its secret, and link to the portal.
 */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface KeyInMail {
  id: string;
  name: string;
  start: string;
  last4: string;
  expiresAt: string | null;
}

export type MailContent =
  | { kind: 'invitation'; organisation: string; inviterName: string | null; role: string; url: string; expiresAt: string }
  | { kind: 'key_expiring'; organisation: string; key: KeyInMail; daysLeft: number }
  | { kind: 'key_exposed'; organisation: string; key: KeyInMail; foundAt: string; source: string | null; revoked: boolean }
  | {
      kind: 'quota_threshold';
      organisation: string;
      actionType: string;
      threshold: number;
      used: number | null;
      limit: number | null;
      periodEnd: string | null;
    };

export type MailKind = MailContent['kind'];

/**
 * Stands for a one-time link made only when the mail is sent (an invitation's), so that no
 * usable link waits in the outbox.
 */
export const LINK_PLACEHOLDER = '{{link}}';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : 'never');
const masked = (key: KeyInMail) => `${key.start}…${key.last4}`;

/** A paragraph of text, or a link: the two parts are written from the same lines. */
type Line = string | { link: string; label: string };

function build(subject: string, lines: Line[], footer: string): RenderedMail {
  const text = `${lines.map((l) => (typeof l === 'string' ? l : `${l.label}: ${l.link}`)).join('\n\n')}\n\n-- \n${footer}\n`;
  const body = lines
    .map((l) => (typeof l === 'string' ? `<p>${escapeHtml(l)}</p>` : `<p><a href="${escapeHtml(l.link)}">${escapeHtml(l.label)}</a></p>`))
    .join('\n');
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5; color: #1a1b1e">
${body}
<hr style="border: none; border-top: 1px solid #dee2e6">
<p style="color: #868e96; font-size: 13px">${escapeHtml(footer)}</p>
</body></html>`;
  return { subject, text, html };
}

export function renderMail(content: MailContent, publicUrl: string): RenderedMail {
  const footer = 'Build a Doc portal';
  switch (content.kind) {
    case 'invitation':
      return build(
        `You are invited to ${content.organisation} on Build a Doc`,
        [
          `${content.inviterName ?? 'An Admin'} invited you to join ${content.organisation} on Build a Doc as ${content.role}.`,
          { link: content.url, label: 'Accept the invitation' },
          `The link works once and until ${day(content.expiresAt)}. If you did not expect this invitation, ignore this mail.`,
        ],
        footer,
      );
    case 'key_expiring':
      return build(
        `API key "${content.key.name}" expires in ${content.daysLeft} ${content.daysLeft === 1 ? 'day' : 'days'}`,
        [
          `The API key "${content.key.name}" (${masked(content.key)}) of ${content.organisation} expires on ${day(content.key.expiresAt)}. Flows that use it will stop working then.`,
          'Rotate it in the portal and put the new key into the connections that use it.',
          { link: `${publicUrl}/keys/${content.key.id}`, label: 'Open the key' },
          { link: `${publicUrl}/account`, label: 'Stop expiry reminders' },
        ],
        `${footer}: you get this reminder because you created the key or are an Admin of ${content.organisation}.`,
      );
    case 'key_exposed':
      return build(
        `API key "${content.key.name}" was found in public${content.revoked ? ' and revoked' : ''}`,
        [
          `The API key "${content.key.name}" (${masked(content.key)}) of ${content.organisation} was found at ${content.foundAt}${content.source ? ` (${content.source})` : ''}.`,
          content.revoked
            ? 'It was revoked at once: calls with it are refused. Create or rotate a key and update the connections that used it.'
            : 'Your organisation chose to be notified only: the key still works. Rotate or revoke it now.',
          'Remove the key from where it was found as well.',
          { link: `${publicUrl}/keys/${content.key.id}`, label: 'Open the key' },
        ],
        footer,
      );
    case 'quota_threshold': {
      const usage = ` (${content.used} of ${content.limit})`;
      return build(
        `${content.organisation} used ${content.threshold} % of its monthly ${content.actionType} quota`,
        [
          `${content.organisation} used ${content.threshold} % of its monthly quota of ${content.actionType} calls${usage}.`,
          content.threshold >= 100
            ? `Further ${content.actionType} calls are refused until the period ends on ${day(content.periodEnd)}, or until you change to a larger plan.`
            : `At 100 % further ${content.actionType} calls are refused until the period ends on ${day(content.periodEnd)}.`,
          { link: `${publicUrl}/usage`, label: 'See the usage' },
        ],
        footer,
      );
    }
  }
}
