/**
 * A request body's JSON text to its value, refusing what JSON allows but no field here may hold:
 * `__proto__` or `constructor.prototype` members (prototype poisoning), a NUL character (which
 * PostgreSQL cannot store and no text needs), and nesting deeper than `MAX_JSON_DEPTH` (which
 * would overflow a stack when the value crosses to a worker or is walked). Pure: the event loop
 * uses it for small bodies and a job worker for large ones (`ParseJson`); a refusal is 400
 * `validation_failed`.
 */
import secureJson from 'secure-json-parse';
import { validationFailed } from '../errors/catalogue.js';

export const MAX_JSON_DEPTH = 64;

/** A refused body: 400 `validation_failed`, `errors` naming where (a JSON pointer) and what. */
const refused = (path: string, message: string, detail: string) => validationFailed([{ path, message }], detail);

/** `\u0000` escaped in the text, not a literal backslash followed by "u0000" (`\\u0000`). */
const NUL_ESCAPE = /(?<!\\)(?:\\\\)*\\u0000/;

export function parseJsonText(text: string): unknown {
  if (text.trim().length === 0) throw refused('/', 'is empty', 'The request body is empty. Send a JSON object.');
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    if (error instanceof SyntaxError && /prototype/i.test(error.message)) {
      throw refused(
        '/',
        'has a "__proto__" or "constructor.prototype" member',
        'The request body has a "__proto__" or "constructor.prototype" member, which is never accepted. Remove it.',
      );
    }
    throw refused('/', 'is not valid JSON', 'The request body is not valid JSON.');
  }
  // `includes` first: a scan for a backslash sequence costs nothing on text without one.
  if (text.includes('\\u0000') && NUL_ESCAPE.test(text)) {
    throw refused(
      '/',
      'contains a NUL character (\\u0000)',
      'The request body contains a NUL character (\\u0000), which no field accepts. Remove it from the text you send.',
    );
  }
  const deep = tooDeep(value, MAX_JSON_DEPTH);
  if (deep !== null) {
    const path = deep.length > 200 ? `${deep.slice(0, 200)}…` : deep;
    throw refused(
      path,
      `is nested more than ${MAX_JSON_DEPTH} levels deep`,
      `The request body has arrays or objects nested more than ${MAX_JSON_DEPTH} levels deep (at ${path}). Flatten the data.`,
    );
  }
  return value;
}

/** The JSON pointer of the first array or object below `levels` levels, or null. Recursion is bounded by `levels`. */
function tooDeep(value: unknown, levels: number): string | null {
  if (typeof value !== 'object' || value === null) return null;
  if (levels === 0) return '';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const below = tooDeep(value[i], levels - 1);
      if (below !== null) return `/${i}${below}`;
    }
    return null;
  }
  for (const key in value) {
    const below = tooDeep((value as Record<string, unknown>)[key], levels - 1);
    if (below !== null) return `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}${below}`;
  }
  return null;
}
