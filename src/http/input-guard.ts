/**
 * Hostile input gets a clear 4xx problem+json before any route sees it: compressed bodies
 * (415), an address with bad percent-encoding or a NUL character (400), and what Node's HTTP parser and Fastify's
 * router refuse themselves (a bad request line, headers too large, a parameter too long, a
 * request that never finished) — those otherwise answer in their own formats.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../errors/catalogue.js';
import { problemOf, sendProblem } from './problem.js';
import type { App } from './types.js';

const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

export function installInputGuard(app: App, publicUrl: string): void {
  // Callback style: every request passes here; a refusal answers without calling `done`.
  app.addHook('onRequest', (request, reply, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      sendProblem(
        reply,
        new AppError(
          'unsupported_media_type',
          `Compressed request bodies (Content-Encoding: ${encoding.slice(0, 40)}) are not accepted. Send the body uncompressed.`,
        ),
        publicUrl,
      );
      return;
    }
    // Without a "%" (most addresses, the gateway's always) there is nothing to decode.
    const url = request.url;
    if (url.includes('%')) {
      if (BAD_PERCENT.test(url) || !decodes(url)) {
        sendProblem(
          reply,
          new AppError('validation_failed', 'The address has a "%" that is not followed by two hexadecimal digits (bad percent-encoding). Encode "%" as %25.'),
          publicUrl,
        );
        return;
      }
      // A NUL character, which no identifier or search holds and PostgreSQL cannot even compare.
      if (url.includes('%00')) {
        sendProblem(
          reply,
          new AppError('validation_failed', 'The address contains %00, a NUL character, which no identifier or search holds. Remove it.'),
          publicUrl,
        );
        return;
      }
    }
    done();
  });
}

function decodes(url: string): boolean {
  try {
    decodeURIComponent(url);
    return true;
  } catch {
    return false;
  }
}

/** Fastify's router errors (a bad URL, a parameter too long) as problems. */
export function frameworkErrors(publicUrl: string) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    if (error.code === 'FST_ERR_BAD_URL') {
      return sendProblem(reply, new AppError('validation_failed', 'The address is not valid: it has bad percent-encoding. Encode "%" as %25.'), publicUrl);
    }
    if (error.statusCode === 414 || error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
      return sendProblem(
        reply,
        new AppError('uri_too_long', 'A part of the address is too long. Identifiers are at most 100 characters; send long values in the body.'),
        publicUrl,
      );
    }
    return sendProblem(reply, new AppError('validation_failed', 'The request could not be read: check its address and headers.'), publicUrl);
  };
}

/** What Node's HTTP parser refuses before Fastify sees a request, as problem+json on the raw socket. */
export function clientErrorHandler(publicUrl: string) {
  return (error: Error & { code?: string }, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const [code, detail]: [ErrorCode, string] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? ['headers_too_large', 'The request headers are too large (at most 16 KB together). Send fewer or shorter headers.']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'HPE_HEADERS_TIMEOUT'
          ? ['request_timeout', 'The request was not completed in time. Send it again.']
          : ['validation_failed', 'The request could not be parsed as HTTP. Check the request line and headers.'];
    const body = JSON.stringify(problemOf(new AppError(code, detail), 'req_client_error', publicUrl));
    const status = ERROR_CATALOGUE[code].status;
    socket.end(
      `HTTP/1.1 ${status} ${ERROR_CATALOGUE[code].title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  };
}
