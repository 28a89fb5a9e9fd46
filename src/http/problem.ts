import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { conciseDatabaseError, databaseUnavailableReason } from '../db/db-errors.js';
import { AppError, ERROR_CATALOGUE, type ErrorCode, validationFailed } from '../errors/catalogue.js';
import { type FailureLogger, RepeatedFailures } from '../lib/repeated-failures.js';
import type { RouteMethods } from './allowed-methods.js';
import { loggableUrl } from './url-redaction.js';
import { schemaRefusal } from './validation.js';

/** The log line (and RepeatedFailures task) of requests answered 503 because the database is unavailable. */
export const DATABASE_UNAVAILABLE_TASK = 'database unavailable: answered 503';

/** Seconds a client is asked to wait when the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** 503 `unavailable` with Retry-After: what a database outage answers, never 500. */
export function databaseUnavailable(): AppError {
  return new AppError('unavailable', 'The database is unavailable for a moment. Try again shortly.', {
    headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}

/**
 * How the failures of work that retries (and of the sweeps) are logged: a database error by its
 * message and code, with the whole error, stack included, in a debug line beside it; any other
 * error whole, as a bug deserves.
 */
export function failureLog(log: Pick<FastifyBaseLogger, 'warn' | 'error' | 'debug'>): FailureLogger {
  return (level, fields, message) => {
    const concise = conciseDatabaseError(fields.err);
    if (!concise) return log[level](fields, message);
    log[level]({ ...fields, err: concise }, message);
    log.debug(fields, message);
  };
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

/**
 * Maps every error Fastify or a service raises to problem+json; never leaks internals. A request
 * without a route is a 404, or a 405 with `Allow` when its path has routes for other methods.
 */
export function installErrorHandling(app: FastifyInstance, publicUrl: string, routes?: RouteMethods, failures?: RepeatedFailures): void {
  // An outage answers every request 503: logged once a minute with how many were left out, not
  // once a request, and counted for the line that says the database is back (the app's `failures`).
  const outage = failures ?? new RepeatedFailures(failureLog(app.log));
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
      return sendProblem(reply, schemaRefusal(fastifyError.validation, fastifyError.validationContext), publicUrl);
    }
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(
          reply,
          new AppError(
            'unsupported_media_type',
            `This operation does not accept content of type "${request.headers['content-type'] ?? ''}". Send application/json.`,
          ),
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
      outage.failed(DATABASE_UNAVAILABLE_TASK, unavailable);
      return sendProblem(reply, databaseUnavailable(), publicUrl);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      reply,
      new AppError('internal', 'Something went wrong on our side. Try again in a moment; if it keeps failing, contact support with the request id.'),
      publicUrl,
    );
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = routes?.allowed(path) ?? [];
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      const methods = allowed.join(', ');
      return sendProblem(
        reply,
        new AppError('method_not_allowed', `${loggableUrl(path)} does not answer ${request.method}; it answers ${methods}.`, {
          headers: { allow: methods },
          extras: { allow: allowed },
        }),
        publicUrl,
      );
    }
    return sendProblem(reply, new AppError('not_found', `There is no ${request.method} ${loggableUrl(path)} route.`), publicUrl);
  });
}
