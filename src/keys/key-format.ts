import { crc32 } from 'node:zlib';
import { BASE62, randomBase62 } from '../lib/random.js';

/**
 * The API key format of the CONTRACT: `bdoc_` + 30 random base62 characters + a 6-character
 * base62 CRC-32 of those 30. The checksum lets the gateway refuse a mistyped or truncated
 * key without touching the database.
 */
export const KEY_PREFIX = 'bdoc_';
export const KEY_RANDOM_LENGTH = 30;
export const KEY_CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = KEY_PREFIX.length + KEY_RANDOM_LENGTH + KEY_CHECKSUM_LENGTH;
export const KEY_PATTERN = /^bdoc_[0-9A-Za-z]{36}$/;

/** CRC-32 (IEEE, as zlib) of the random part, in base62, most significant digit first, 6 digits. */
export function keyChecksum(random: string): string {
  let n = crc32(Buffer.from(random, 'ascii'));
  let out = '';
  for (let i = 0; i < KEY_CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** A new key; the only moment the plaintext exists. */
export function generateApiKey(): string {
  const random = randomBase62(KEY_RANDOM_LENGTH);
  return KEY_PREFIX + random + keyChecksum(random);
}

/** What is shown of a key after creation: `start` (first 9 characters) and `last4`. */
export function keyDisplayParts(key: string): { start: string; last4: string } {
  return { start: key.slice(0, 9), last4: key.slice(-4) };
}

/** `bdoc_Ab12…wxYZ` */
export function maskKey(start: string, last4: string): string {
  return `${start}…${last4}`;
}

export type KeyShape = { ok: true; key: string } | { ok: false; code: 'api_key_missing' | 'api_key_malformed'; detail: string };

// Plain spaces and tabs around a header value are not part of it (HTTP removes them, RFC 9110
// §5.5), so they never break a key. What does: NBSP and the other Unicode spaces (\s) and
// zero-width characters, which come along from copying out of chat and office apps.
const HTTP_OWS = /^[ \t]+|[ \t]+$/g;
const EDGE_SPACE = /^[\s\u200B-\u200D\u2060\uFEFF]|[\s\u200B-\u200D\u2060\uFEFF]$/;
const INNER_SPACE = /\S[\s\u200B-\u200D\u2060\uFEFF]+\S/;
const QUOTES = /^["'\u2018\u2019\u201C\u201D`]|["'\u2018\u2019\u201C\u201D`]$/;
const BEARER = /^\s*["']?\s*bearer\s/i;

const PASTE_AGAIN = 'Copy the key again exactly as it was shown when it was created and paste it into the connection';

/**
 * Checks 1–3 of the gateway (CONTRACT §4), in order, on the raw `x-api-key` header.
 * Never echoes the key: details describe it by length and shape only.
 */
export function checkKeyShape(header: string | string[] | undefined): KeyShape {
  const raw = Array.isArray(header) ? header.join(',') : header;
  // Node joins a repeated header's values with ", ": two keys read as one with a comma inside.
  const sent = raw?.includes(',') ? raw.split(',').filter((part) => part.trim().startsWith(KEY_PREFIX)).length : 1;
  if (sent > 1) {
    return {
      ok: false,
      code: 'api_key_malformed',
      detail: `The request has ${sent} x-api-key headers (or ${sent} keys in one); send exactly one, holding the key alone. Check the connection and any policy or proxy that adds the header.`,
    };
  }
  if (raw === undefined || raw.trim() === '') {
    return {
      ok: false,
      code: 'api_key_missing',
      detail:
        'No API key was sent: the request has no x-api-key header. Edit the Build a Doc connection in Power Automate and paste your API key into it; you can create a key in the Build a Doc portal under API Keys.',
    };
  }
  // Node reads header bytes as latin1; a pasted UTF-8 no-break space arrives as "Â\u00a0".
  const value = (/[\u0080-\u00ff]/.test(raw) ? decodeUtf8(raw) : raw).replace(HTTP_OWS, '');

  const wrappers: string[] = [];
  if (BEARER.test(value)) wrappers.push('a "Bearer " prefix (the key goes into the x-api-key header on its own)');
  const unwrapped = value.replace(BEARER, '').trim();
  if (QUOTES.test(unwrapped) || QUOTES.test(value.trim())) wrappers.push('quotation marks around it');
  if (EDGE_SPACE.test(value)) {
    const leading = /^[\s\u200B-\u200D\u2060\uFEFF]/.test(value);
    const trailing = /[\s\u200B-\u200D\u2060\uFEFF]$/.test(value);
    const where = leading && trailing ? 'at its start and end' : leading ? 'at its start' : 'at its end';
    wrappers.push(`an invisible character ${where} (a non-breaking or zero-width space, copied from a chat or document; plain spaces would not matter)`);
  }
  if (INNER_SPACE.test(unwrapped)) wrappers.push('a space or line break inside it (a key is one unbroken word; a copy across lines can add one)');
  if (wrappers.length > 0) {
    return {
      ok: false,
      code: 'api_key_malformed',
      detail: `The API key has ${joinList(wrappers)}. ${PASTE_AGAIN}, without ${wrappers.length > 1 ? 'them' : 'it'}.`,
    };
  }

  const problems: string[] = [];
  if (!value.startsWith(KEY_PREFIX)) problems.push('it does not start with "bdoc_"');
  if (!KEY_PATTERN.test(value) && /[^0-9A-Za-z_]/.test(value)) problems.push('it contains characters other than letters and digits');
  if (problems.length === 0 && value.length === KEY_LENGTH) {
    const random = value.slice(KEY_PREFIX.length, KEY_PREFIX.length + KEY_RANDOM_LENGTH);
    if (!KEY_PATTERN.test(value)) problems.push('it contains characters other than letters and digits');
    else if (keyChecksum(random) !== value.slice(-KEY_CHECKSUM_LENGTH)) {
      problems.push('its check digits do not match, so at least one character was changed');
    }
  }
  if (problems.length > 0 || value.length !== KEY_LENGTH) {
    const why = problems.length > 0 ? `; ${joinList(problems)}` : '';
    return {
      ok: false,
      code: 'api_key_malformed',
      detail: `The API key looks mistyped or truncated. A Build a Doc key is ${KEY_LENGTH} characters long and starts with "bdoc_"; the key received has ${value.length} characters${why}. ${PASTE_AGAIN}.`,
    };
  }
  return { ok: true, key: value };
}

/** Reads latin1-decoded header bytes as UTF-8 when they are valid UTF-8 (what a paste sends). */
function decodeUtf8(raw: string): string {
  const decoded = Buffer.from(raw, 'latin1').toString('utf8');
  return decoded.includes('\uFFFD') ? raw : decoded;
}

function joinList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
