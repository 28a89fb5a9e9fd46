/** Names that tell nobody which flow a key belongs to. */
const VAGUE = /^(key|api[ _-]?key|my[ _-]?key|test|testing|temp|tmp|new[ _-]?key|default|demo|foo|bar|asdf|qwerty|abc|x+)[ _-]?\d*$/i;

export const NAME_HINT = 'Use environment-purpose-team, for example prod-invoice-flow-finance.';

/** Warnings the portal shows for a key name; none of them blocks creation. */
export function nameWarnings(name: string, otherLiveKeysWithName: number): string[] {
  const warnings: string[] = [];
  if (VAGUE.test(name.trim())) {
    warnings.push(`"${name.trim()}" does not say where the key is used. ${NAME_HINT}`);
  }
  if (otherLiveKeysWithName > 0) {
    warnings.push(
      `${otherLiveKeysWithName} other live key${otherLiveKeysWithName > 1 ? 's have' : ' has'} this name; give each key a name that tells them apart.`,
    );
  }
  return warnings;
}

/**
 * Trims a key name and checks its length after trimming (CONTRACT §3: 1–100 characters); returns
 * an error message or the clean name. Control and invisible-only names are refused before, by the
 * schema's rule of all typed text (`LineText`).
 */
export function cleanKeyName(raw: string): { ok: true; name: string } | { ok: false; message: string } {
  const name = raw.trim();
  if (name.length === 0) return { ok: false, message: 'The name must not be empty.' };
  if (name.length > 100) return { ok: false, message: `The name must be at most 100 characters; it has ${name.length}.` };
  return { ok: true, name };
}
