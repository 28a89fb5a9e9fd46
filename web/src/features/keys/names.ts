/** Names that tell nobody which flow a key belongs to (the server warns on the same). */
const VAGUE = /^(key|api[ _-]?key|my[ _-]?key|test|testing|temp|tmp|new[ _-]?key|default|demo|foo|bar|asdf|qwerty|abc|x+)[ _-]?\d*$/i;

export const NAME_HINT = 'Use environment–purpose–team, for example prod-invoice-flow-finance.';

export function vagueNameWarning(name: string): string | null {
  const trimmed = name.trim();
  if (!trimmed || !VAGUE.test(trimmed)) return null;
  return `"${trimmed}" does not say where the key is used. ${NAME_HINT}`;
}
