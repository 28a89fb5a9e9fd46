import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { databaseUnavailableReason } from '../db/db-errors.js';
import { AppError, ERROR_CATALOGUE, type ErrorCode, type FieldError, validationFailed } from '../errors/catalogue.js';
import { RepeatedFailures } from '../lib/repeated-failures.js';
import { loggableUrl } from './url-redaction.js';

/** Seconds a client is asked to wait when the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** 503 `unavailable` with Retry-After: what a database outage answers, never 500. */
export function databaseUnavailable(): AppError {
  return new AppError('unavailable', 'The database is unavailable for a moment. Try again shortly.', {
    headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}

/** The RFC 9457 document every failure answers with. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  [extra: string]: unknown;
}

export function problemOf(error: AppError, requestId: string, publicUrl: string): Problem {
  const { status, title } = ERROR_CATALOGUE[error.code];
  return { type: `${publicUrl}/problems/${error.code}`, title, status, detail: error.detail, code: error.code, requestId, ...error.extras };
}

export function sendProblem(reply: FastifyReply, error: AppError, publicUrl: string): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply
    .code(error.status)
    .type('application/problem+json')
    .serializer(JSON.stringify)
    .send(problemOf(error, reply.request.id, publicUrl));
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Field errors listed in one answer at most. */
const MAX_FIELD_ERRORS = 20;

/** Turns Ajv's findings into `{path, message}` a person can act on. */
function fieldErrors(issues: AjvIssue[], context: string | undefined): FieldError[] {
  const where = context === 'body' ? '' : `/${context ?? ''}`;
  const all = issues.map((issue) => {
    const missing = issue.params?.missingProperty as string | undefined;
    const extra = issue.params?.additionalProperty as string | undefined;
    const allowed = issue.params?.allowedValues as unknown[] | undefined;
    const path = `${where}${issue.instancePath ?? ''}${missing ? `/${missing}` : ''}${extra ? `/${extra}` : ''}` || '/';
    let message = issue.message ?? 'is not valid';
    if (missing) message = 'is required';
    else if (extra) message = 'is not a known field';
    else if (allowed) message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
    return { path, message };
  });
  // One entry per path: the alternatives of a nullable or union field become "… or …".
  const byPath = new Map<string, string[]>();
  for (const { path, message } of all) {
    if (message === 'must match a schema in anyOf') continue;
    const messages = byPath.get(path) ?? [];
    if (!messages.includes(message)) messages.push(message);
    byPath.set(path, messages);
  }
  return [...byPath].map(([path, messages]) => ({ path, message: messages.join(' or ') }));
}

/** Maps every error Fastify or a service raises to problem+json; never leaks internals. */
export function installErrorHandling(app: FastifyInstance, publicUrl: string): void {
  // An outage answers every request 503: logged once a minute with how many were left out, not once a request.
  const outage = new RepeatedFailures((level, fields, message) => app.log[level](fields, message));
  app.setErrorHandler((error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) return sendProblem(reply, error, publicUrl);
    const fastifyError = error as FastifyError;
    if (fastifyError.validation && fastifyError.validationContext === 'body' && request.body === undefined) {
      return sendProblem(
        reply,
        validationFailed([{ path: '/', message: 'is missing' }], 'The request has no body. Send a JSON object with the header Content-Type: application/json.'),
        publicUrl,
      );
    }
    if (fastifyError.validation) {
      const all = fieldErrors(fastifyError.validation as AjvIssue[], fastifyError.validationContext);
      // A body with thousands of unknown fields gets a readable answer: the first few, and how many more.
      const errors = all.slice(0, MAX_FIELD_ERRORS);
      const more = all.length > errors.length ? ` (and ${all.length - errors.length} more)` : '';
      const detail = `The request is not valid: ${errors.map((e) => `${e.path.slice(0, 100)} ${e.message}`).join('; ')}${more}.`;
      return sendProblem(
        reply,
        new AppError('validation_failed', detail, { extras: { errors, ...(more ? { moreErrors: all.length - errors.length } : {}) } }),
        publicUrl,
      );
    }
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(
          reply,
          new AppError('payload_too_large', 'The request body is larger than this operation accepts. Send smaller files or fewer of them.'),
          publicUrl,
        );
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(
          reply,
          new AppError(
            'unsupported_media_type',
            `This operation does not accept content of type "${request.headers['content-type'] ?? ''}". Send application/json.`,
          ),
          publicUrl,
        );
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(
          reply,
          new AppError('validation_failed', 'The request body is not valid JSON.', { extras: { errors: [{ path: '/', message: 'is not valid JSON' }] } }),
          publicUrl,
        );
      default:
        break;
    }
    const status = fastifyError.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code: ErrorCode =
        status === 404 ? 'not_found' : status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'validation_failed';
      return sendProblem(reply, new AppError(code, 'The request could not be processed: check its format and try again.'), publicUrl);
    }
    const unavailable = databaseUnavailableReason(error);
    if (unavailable) {
      outage.failed('database unavailable: answered 503', unavailable);
      return sendProblem(reply, databaseUnavailable(), publicUrl);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      reply,
      new AppError('internal', 'Something went wrong on our side. Try again in a moment; if it keeps failing, contact support with the request id.'),
      publicUrl,
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new AppError('not_found', `There is no ${request.method} ${loggableUrl(request.url.split('?')[0]!)} route.`), publicUrl),
  );
}
