import type { Environment } from '../../lib/types';

/** Names that tell nobody which flow a key belongs to (the server warns on the same). */
const VAGUE = /^(key|api[ _-]?key|my[ _-]?key|test|testing|temp|tmp|new[ _-]?key|default|demo|foo|bar|asdf|qwerty|abc|x+)[ _-]?\d*$/i;

export const NAME_HINT = 'Use environment–purpose–team, for example prod-invoice-flow-finance.';

export function vagueNameWarning(name: string): string | null {
  const trimmed = name.trim();
  if (!trimmed || !VAGUE.test(trimmed)) return null;
  return `"${trimmed}" does not say where the key is used. ${NAME_HINT}`;
}

/** The first part of a conventional name, as an environment. */
const ENVIRONMENT_WORDS: Record<string, Environment> = {
  prod: 'production',
  prd: 'production',
  production: 'production',
  live: 'production',
  test: 'test',
  tst: 'test',
  qa: 'test',
  uat: 'test',
  stage: 'test',
  staging: 'test',
  dev: 'development',
  development: 'development',
};

/**
 * What a conventional name (environment–purpose–team, e.g. `prod-invoice-flow-finance`) already
 * says: the environment from its first part, the team from its last. Null when it does not
 * follow the convention (fewer than three parts, or no known environment first).
 */
export function parseKeyName(name: string): { environment: Environment; team: string } | null {
  const parts = name
    .trim()
    .toLowerCase()
    .split(/[-_\s]+/)
    .filter(Boolean);
  if (parts.length < 3) return null;
  const environment = ENVIRONMENT_WORDS[parts[0]!];
  if (!environment) return null;
  return { environment, team: parts[parts.length - 1]! };
}
