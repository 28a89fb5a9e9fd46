/**
 * The rule of the one-line text people type and others read: key names and teams, flow labels,
 * webhook descriptions, organisation and person names. A control character (C0, tab and line
 * breaks included, DEL, C1) has no business in a line shown in tables, mails, CSV exports and
 * logs; a text of nothing but invisible characters shows as an empty cell that cannot be told
 * from another; a bidirectional embedding, override or isolate makes a text show in another order
 * than it was typed (a key "prod-\u202Eyek-tset" reads as another key's name in a table or the audit
 * log). The schemas apply it (http/schemas.ts `LineText`), the CLI too.
 */

/** `required`: must show something; `optional`: empty or blank (spaces) means "none", as the services read it. */
export type LineKind = 'required' | 'optional';

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

/**
 * Characters that show nothing: whitespace (what \s matches), zero-width spaces and joiners,
 * the word joiner and invisible operators, the byte order mark, the soft hyphen, fillers, and
 * the bidirectional controls (marks, embeddings, overrides, isolates).
 */
const INVISIBLE_ONLY = /^[\s\u00ad\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0]*$/;

/**
 * The explicit directional formatting characters (embeddings, overrides, isolates and their ends),
 * which reorder the text around them. The marks (U+200E, U+200F, U+061C) only set one position's
 * direction and stay allowed: right-to-left names use them.
 */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;

/** `text` with each control character made a space: a name stored before the rule, shown in one line of columns (the CLI's lists). */
export function controlsAsSpaces(text: string): string {
  return text.replace(CONTROLS, ' ');
}

/** `U+0007`: how a character is named in a message (never the text itself, which may be anything). */
export function codePointName(character: string): string {
  return `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** What is wrong with `text` as a line of `kind`, said for a person ("must …"); undefined when nothing is. */
export function lineTextProblem(text: string, kind: LineKind): string | undefined {
  const control = CONTROL.exec(text);
  if (control) return `must not contain the control character ${codePointName(control[0])} (no tabs, line breaks or other control characters)`;
  // The empty text is the length rule's to refuse; a blank optional one means "none".
  if (text === '' || (kind === 'optional' && text.trim() === '')) return undefined;
  if (INVISIBLE_ONLY.test(text)) return 'must contain a visible character';
  const bidi = BIDI_CONTROL.exec(text);
  if (bidi)
    return `must not contain the bidirectional control ${codePointName(bidi[0])}, which makes text show in another order than it was typed (right-to-left letters show right to left without it; the marks U+200E and U+200F are allowed)`;
  return undefined;
}
