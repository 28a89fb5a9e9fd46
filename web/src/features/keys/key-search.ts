/**
 * What a person typed or pasted into the key search. A whole key is searched by its SHA-256
 * only (the server never receives it); a masked key as shown in the list (`bdoc_Ab12…wxYZ`) by
 * its start and last four; "…wxYZ" by its last four; anything else as text (name, team, start).
 */
export type KeySearch =
  | { kind: 'key'; key: string }
  | { kind: 'masked'; start: string; last4: string }
  | { kind: 'last4'; last4: string }
  | { kind: 'text'; q: string };

const WHOLE_KEY = /^bdoc_[0-9A-Za-z]{36}$/;
const MASKED = /^(bdoc_[0-9A-Za-z]{4})\s*(?:…|\.\.\.)\s*([0-9A-Za-z]{4})$/;
const LAST4 = /^(?:…|\.\.\.)\s*([0-9A-Za-z]{4})$/;

export function parseKeySearch(text: string): KeySearch {
  const trimmed = text.trim();
  if (WHOLE_KEY.test(trimmed)) return { kind: 'key', key: trimmed };
  const masked = MASKED.exec(trimmed);
  if (masked) return { kind: 'masked', start: masked[1]!, last4: masked[2]! };
  const last4 = LAST4.exec(trimmed);
  if (last4) return { kind: 'last4', last4: last4[1]! };
  return { kind: 'text', q: trimmed };
}

/** Hex SHA-256, computed in the browser (as the server stores keys). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The list filters a search stands for: `hash` for a whole key (after hashing), else `q` and `last4`. */
export async function searchFilters(text: string): Promise<{ q: string; hash: string | null; last4: string | null }> {
  const search = parseKeySearch(text);
  switch (search.kind) {
    case 'key':
      return { q: '', hash: await sha256Hex(search.key), last4: null };
    case 'masked':
      return { q: search.start, hash: null, last4: search.last4 };
    case 'last4':
      return { q: '', hash: null, last4: search.last4 };
    case 'text':
      return { q: search.q, hash: null, last4: null };
  }
}
