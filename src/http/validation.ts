/**
 * How requests are validated against their route's schema, and how a failure reads. One place
 * for both, because two threads validate: the event loop (every request, through Fastify) and a
 * job worker (a large body of a document or compute action, parsed and validated there; see
 * `src/http/json-body.ts`). Both must refuse the same bodies with the same answer.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { type LineKind, lineTextProblem } from '../domain/text.js';
import { AppError, type FieldError } from '../errors/catalogue.js';
import { UnparsedBody } from '../operations/unparsed-body.js';
import { LINE_TEXT_KEYWORD } from './schemas.js';
import type { App } from './types.js';

/**
 * Request bodies are JSON, so their types are taken as sent (no `false` becoming "false", no
 * 1e309 becoming "Infinity"); query strings and parameters are text by nature and are converted
 * to the declared types. Formats (dates) are checked for real: month 13 fails. Text people type
 * is checked by one rule (`x-bdoc-line`).
 */
export function createValidator(part: 'body' | 'text'): Ajv {
  const ajv = new Ajv({
    removeAdditional: false,
    useDefaults: true,
    allErrors: true,
    strict: false,
    // Annotations for the connector definition; they document, they do not validate.
    keywords: ['x-ms-summary', 'x-ms-visibility', 'x-bdoc-file'],
    coerceTypes: part === 'body' ? false : 'array',
  });
  addFormats.default(ajv);
  ajv.addKeyword({ keyword: LINE_TEXT_KEYWORD, type: 'string', schemaType: 'string', errors: true, validate: checkLineText });
  return ajv;
}

/** Checks a `x-bdoc-line` string by the rule of domain/text.ts; the error names the character, never the text. */
function checkLineText(kind: LineKind, text: unknown): boolean {
  if (typeof text !== 'string') return true;
  const problem = lineTextProblem(text, kind);
  if (problem === undefined) return true;
  checkLineText.errors = [{ keyword: LINE_TEXT_KEYWORD, message: problem, params: { kind } }];
  return false;
}
checkLineText.errors = [] as Array<{ keyword: string; message: string; params: Record<string, unknown> }>;

/** Field errors listed in one answer at most. */
const MAX_FIELD_ERRORS = 20;

/** "must be one of "admin", "member", "viewer"" (or "must be "admin"" for one value). */
function oneOf(values: readonly unknown[]): string {
  const listed = values.map((v) => JSON.stringify(v));
  return listed.length === 1 ? `must be ${listed[0]}` : `must be one of ${listed.join(', ')}`;
}

/** Turns Ajv's findings into `{path, message}` a person can act on. */
function fieldErrors(issues: readonly Partial<ErrorObject>[], context: string | undefined): FieldError[] {
  const where = context === 'body' ? '' : `/${context ?? ''}`;
  // One entry per path: the alternatives of a nullable or union field become "… or …", and the
  // literals of a union (a role, an action) one list of the values it may take.
  const byPath = new Map<string, { messages: string[]; types: string[]; values: unknown[] }>();
  for (const issue of issues) {
    // The union's own "must match a schema in anyOf" says nothing its alternatives do not.
    if (issue.keyword === 'anyOf') continue;
    const missing = issue.params?.missingProperty as string | undefined;
    const extra = issue.params?.additionalProperty as string | undefined;
    const allowed = issue.params?.allowedValues as unknown[] | undefined;
    const path = `${where}${issue.instancePath ?? ''}${missing ? `/${missing}` : ''}${extra ? `/${extra}` : ''}` || '/';
    const entry = byPath.get(path) ?? { messages: [], types: [], values: [] };
    byPath.set(path, entry);
    if (issue.keyword === 'const' && issue.params && 'allowedValue' in issue.params) {
      if (!entry.values.includes(issue.params.allowedValue)) entry.values.push(issue.params.allowedValue);
      continue;
    }
    let message = issue.message ?? 'is not valid';
    if (missing) message = 'is required';
    else if (extra) message = 'is not a known field';
    else if (allowed) message = oneOf(allowed);
    const list = issue.keyword === 'type' ? entry.types : entry.messages;
    if (!list.includes(message)) list.push(message);
  }
  return [...byPath].map(([path, { messages, types, values }]) => {
    // A value of the right type for one alternative (a text where text or null is taken) is told
    // what is wrong with it, not that it could also have been null.
    const said = [...(values.length ? [oneOf(values)] : []), ...messages];
    return { path, message: (said.length ? said : types).join(' or ') };
  });
}

/** 400 `validation_failed` for what a schema found, `context` being the part (body, querystring, params). */
export function schemaRefusal(issues: readonly Partial<ErrorObject>[], context: string | undefined): AppError {
  const all = fieldErrors(issues, context);
  // A body with thousands of unknown fields gets a readable answer: the first few, and how many more.
  const errors = all.slice(0, MAX_FIELD_ERRORS);
  const more = all.length > errors.length ? ` (and ${all.length - errors.length} more)` : '';
  const detail = `The request is not valid: ${errors.map((e) => `${e.path.slice(0, 100)} ${e.message}`).join('; ')}${more}.`;
  return new AppError('validation_failed', detail, { extras: { errors, ...(more ? { moreErrors: all.length - errors.length } : {}) } });
}

/** Validates a body with `validate`, throwing the same 400 the event loop answers. */
export function assertValidBody<T>(validate: ValidateFunction, body: unknown): T {
  if (!validate(body)) throw schemaRefusal(validate.errors ?? [], 'body');
  return body as T;
}

/**
 * Every route's validator. A body the parser left unparsed (`UnparsedBody`) passes here: the job
 * it goes to parses and validates it with this route's schema (`assertValidBody`).
 */
export function installValidation(app: App): void {
  const body = createValidator('body');
  const text = createValidator('text');
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart !== 'body') return text.compile(schema);
    const validate = body.compile(schema);
    const validateUnlessUnparsed = (data: unknown, context?: Parameters<ValidateFunction>[1]) => {
      if (data instanceof UnparsedBody) return true;
      const valid = validate(data, context);
      validateUnlessUnparsed.errors = validate.errors;
      return valid;
    };
    validateUnlessUnparsed.errors = null as ValidateFunction['errors'];
    // Fastify hands Ajv's own functions the request as the root's parent (for defaults on the root).
    validateUnlessUnparsed.schemaEnv = validate.schemaEnv;
    return validateUnlessUnparsed;
  });
}
