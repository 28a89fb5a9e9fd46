/**
 * Plain-words diagnosis of a pasted API key, before any request is made. Plain spaces and tabs
 * around a header value are removed by HTTP itself, so they never break a key and are not
 * reported; non-breaking and zero-width spaces, line breaks, quotes and "Bearer " are sent as
 * they are and make it a different key.
 */
export interface LocalIssue {
  kind: 'leading-space' | 'trailing-space' | 'inner-space' | 'quotes' | 'bearer' | 'line-break';
  title: string;
  explanation: string;
}

const WHITESPACE = /[\s\u00a0\u200b\ufeff]/;

function describeWhitespace(chars: string): string {
  if (/^[ ]+$/.test(chars)) return chars.length === 1 ? 'a space' : `${chars.length} spaces`;
  if (/[\r\n]/.test(chars)) return 'a line break';
  if (/\t/.test(chars)) return 'a tab';
  return 'an invisible space character';
}

export function diagnoseLocally(raw: string): { issues: LocalIssue[]; cleaned: string } {
  const issues: LocalIssue[] = [];
  let text = raw;
  const leading = /^[\s\u00a0\u200b\ufeff]+/.exec(text)?.[0] ?? '';
  const trailing = /[\s\u00a0\u200b\ufeff]+$/.exec(text)?.[0] ?? '';
  if (leading && leading.length === text.length) return { issues: [], cleaned: '' };
  // Plain spaces and tabs at either end are removed by HTTP before the key is checked: harmless.
  const harmless = (chars: string) => /^[ \t]*$/.test(chars);
  if (leading && !harmless(leading)) {
    issues.push({
      kind: 'leading-space',
      title: `The key starts with ${describeWhitespace(leading.replace(/[ \t]/g, ''))}`,
      explanation:
        'Invisible characters before the key (a non-breaking or zero-width space, a line break) are sent with it and make it a different key; this often happens when copying from a chat, an email or a document. Plain spaces would not matter.',
    });
  }
  if (trailing && !harmless(trailing)) {
    issues.push({
      kind: 'trailing-space',
      title: `The key ends with ${describeWhitespace(trailing.replace(/[ \t]/g, ''))}`,
      explanation:
        'Invisible characters after the key (a non-breaking or zero-width space, a line break) are sent with it and make it a different key; this often happens when double-clicking or copying a whole line. Plain spaces would not matter.',
    });
  }
  text = text.trim().replace(/^[\u00a0\u200b\ufeff]+|[\u00a0\u200b\ufeff]+$/g, '');
  if (/^bearer\s+/i.test(text)) {
    issues.push({
      kind: 'bearer',
      title: 'The key starts with "Bearer "',
      explanation: 'Build a Doc keys are sent as they are in the x-api-key header, not as a Bearer token.',
    });
    text = text.replace(/^bearer\s+/i, '');
  }
  if (/^["'“”‘’`].*["'“”‘’`]$/s.test(text) || /^["'“”‘’`]|["'“”‘’`]$/.test(text)) {
    issues.push({
      kind: 'quotes',
      title: 'The key is wrapped in quotes',
      explanation: 'The quotation marks were copied with the key (for example from JSON or a script) and are not part of it.',
    });
    text = text.replace(/^["'“”‘’`]+|["'“”‘’`]+$/g, '');
  }
  text = text.trim();
  if (/[\r\n]/.test(text)) {
    issues.push({
      kind: 'line-break',
      title: 'The key is split over two lines',
      explanation: 'A line break inside the key usually means it was copied from wrapped text.',
    });
    text = text.replace(/[\r\n]+/g, '');
  }
  if (WHITESPACE.test(text)) {
    issues.push({
      kind: 'inner-space',
      title: 'The key contains a space',
      explanation: 'Keys never contain spaces; one can come along when a key is copied across a line or typed by hand. The key is checked below without it.',
    });
    text = text.replace(new RegExp(WHITESPACE.source, 'g'), '');
  }
  return { issues, cleaned: text };
}

export interface Explanation {
  ok: boolean;
  severity?: 'error' | 'warning';
  title: string;
  meaning: string;
  fix?: string;
  status?: number;
  code?: string;
  detail?: string;
}

const EXPLANATIONS: Record<string, Omit<Explanation, 'ok' | 'status' | 'code' | 'detail'>> = {
  api_key_missing: {
    title: 'No key was sent',
    meaning: 'The request had no API key at all.',
    fix: 'Edit the Build a Doc connection in Power Automate and paste a key into the "API key" field.',
  },
  api_key_malformed: {
    title: 'This is not a complete key',
    meaning:
      'A Build a Doc key is exactly 41 characters, starting with bdoc_. This one has the wrong length or characters, so it was probably truncated or mistyped when copied.',
    fix: 'Copy the key again from where you stored it (password manager or key vault). If you no longer have it, rotate the key or create a new one: keys cannot be shown again.',
  },
  api_key_invalid: {
    title: 'Unknown key',
    meaning:
      'The key is well formed but no key like it exists here: it was never issued by this Build a Doc instance, belongs to another instance, or was mistyped.',
    fix: 'Check that the connection points to this instance and paste the right key, or create a new key on the API Keys page.',
  },
  api_key_revoked: {
    title: 'This key was revoked',
    meaning: 'Someone revoked or deleted this key. A revoked key never works again.',
    fix: 'Create a new key (or use the successor if it was rotated) and update every flow that used this one.',
  },
  api_key_suspended: {
    title: 'This key is suspended',
    meaning: 'An Admin (or the key’s owner) suspended this key for now. Nothing is wrong with the key itself.',
    fix: 'Ask an Admin to resume it on its page under API Keys, or use another key.',
  },
  api_key_expired: {
    title: 'This key has expired',
    meaning: 'The key reached its expiry date and stopped working on its own.',
    fix: 'Create a new key (choose a longer expiry if needed) and update the flows that used this one. Rotate keys before they expire next time.',
  },
  subscription_inactive: {
    title: 'The subscription is not active',
    meaning: 'The key is fine, but your organisation’s subscription is not active (for example past due or cancelled), so every request is refused.',
    fix: 'Check the Subscription page, and contact the Build a Doc team or your Admin to reactivate it.',
  },
  feature_not_available: {
    title: 'Not included in your plan',
    meaning: 'The key works, but your plan does not include this action.',
    fix: 'Change plan on the Subscription page or ask your Admin.',
  },
  rate_limited: {
    title: 'Too many requests right now',
    meaning: 'The key works, but your organisation sent more requests per minute than its plan allows.',
    fix: 'Wait for the time the gateway gives and try again; in flows, enable the retry policy or add a delay in loops. A higher plan raises the limit.',
  },
  quota_exceeded: {
    title: 'Monthly quota used up',
    meaning: 'The key works, but this month’s quota for this kind of action is used up.',
    fix: 'Wait for the quota to reset (see Usage) or move to a higher plan.',
  },
};

/** Turns the gateway's answer into what happened and what to do. */
export function explainAnswer(status: number, body: Record<string, unknown>): Explanation {
  if (status >= 200 && status < 300) {
    const name = typeof body.keyName === 'string' ? body.keyName : 'this key';
    const org = typeof body.organisation === 'string' ? body.organisation : 'your organisation';
    const plan = typeof body.plan === 'string' ? body.plan : '';
    return {
      ok: true,
      title: 'This key works',
      meaning: `The gateway accepted the key "${name}" of ${org}${plan ? ` (${plan} plan)` : ''}. If a flow still fails, check that its connection uses exactly this key, and look at the action's own error message.`,
      status,
    };
  }
  const code = typeof body.code === 'string' ? body.code : undefined;
  const detail = typeof body.detail === 'string' ? body.detail : undefined;
  const known = code ? EXPLANATIONS[code] : undefined;
  if (known) return { ok: false, severity: status === 429 ? 'warning' : 'error', ...known, status, code, detail };
  return {
    ok: false,
    title: `The gateway answered ${status}`,
    meaning: detail ?? 'The gateway refused the request for a reason this page does not know.',
    fix: 'Try again in a moment; if it keeps failing, contact support with the request id.',
    status,
    code,
    detail,
  };
}
