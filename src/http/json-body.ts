/**
 * JSON request bodies. A body up to `INLINE_JSON_BYTES` is parsed on the event loop. A larger one
 * (only document and compute actions accept one) never is: no tenant's megabytes of JSON may hold
 * up another tenant's requests (a 36 MB body took the event loop half a second to parse, and each
 * copy of 60 MB takes 180 ms on a slow machine). Its bytes are copied into blocks of memory of
 * their own as they arrive (a chunk at a time, never one large copy), then:
 * - a `/v1` action's body stays unparsed (`UnparsedBody`): the job that does the action's work
 *   receives the blocks (moved, not copied), parses and validates them in its worker, and the
 *   value never crosses back;
 * - any other route's body is parsed by a job worker and handed back.
 * Either way the same rules refuse it (`parseJsonText`, the route's schema): 400 `validation_failed`.
 */
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/catalogue.js';
import { UnparsedBody } from '../operations/unparsed-body.js';
import { parseJsonText } from './json-text.js';
import type { App } from './types.js';

export const INLINE_JSON_BYTES = 256 * 1024;
/** Size of the blocks a large body is copied into as it arrives. */
const BLOCK_BYTES = 1024 * 1024;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A `/v1` action: its large body goes unparsed to the action's job, which validates it against this operation's schema. */
    bodyForJob?: string;
  }
}

export function installJsonBodies(app: App, options: { parseLarge: (body: UnparsedBody) => Promise<unknown> }): void {
  // Every body is JSON: text sent as text/plain gets 415 naming application/json, not a type error about a string.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', (request, payload, done) => {
    readBody(request, payload, (error, body) => {
      if (error) return done(error);
      if (!(body instanceof UnparsedBody)) {
        try {
          return done(null, parseJsonText(body!.toString('utf8')));
        } catch (refusal) {
          return done(refusal as Error);
        }
      }
      if (body.operationId !== null) return done(null, body);
      options.parseLarge(body).then(
        (value) => done(null, value),
        (failure: Error) => done(failure),
      );
    });
  });
}

type Received = (error: Error | null, body?: Buffer | UnparsedBody) => void;

/**
 * Reads a body as Fastify's own reader does (the route's body limit, a Content-Length that must
 * match), keeping a small one as it came and copying a large one into blocks as it arrives.
 */
function readBody(request: FastifyRequest, payload: Readable, received: Received): void {
  const limit = request.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY;
  const declared = Number(request.headers['content-length']);
  if (declared > limit) {
    received(tooLarge());
    return;
  }

  let length = 0;
  const chunks: Buffer[] = [];
  const blocks: Uint8Array[] = [];
  let block: Buffer | null = null;
  let filled = 0;
  let placed = 0;

  const copy = (chunk: Buffer) => {
    for (let from = 0; from < chunk.length; ) {
      if (block === null || filled === block.length) {
        if (block) blocks.push(block);
        // Sized to what Content-Length says is left, so the last block has no unused tail to move.
        const left = Number.isNaN(declared) ? 0 : declared - placed;
        block = Buffer.allocUnsafeSlow(left > 0 ? Math.min(BLOCK_BYTES, left) : BLOCK_BYTES);
        filled = 0;
      }
      const n = Math.min(block.length - filled, chunk.length - from);
      chunk.copy(block, filled, from, from + n);
      filled += n;
      placed += n;
      from += n;
    }
  };

  const stop = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };

  function onData(chunk: Buffer | string) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    length += bytes.length;
    if (length > limit) {
      stop();
      received(tooLarge());
      return;
    }
    if (length <= INLINE_JSON_BYTES) {
      chunks.push(bytes);
      return;
    }
    // Past the inline size: what was kept is copied once into blocks, and every chunk from here as it comes.
    for (const kept of chunks.splice(0)) copy(kept);
    copy(bytes);
  }

  function onEnd(error?: Error & { statusCode?: number }) {
    stop();
    if (error) {
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
      return received(error);
    }
    if (!Number.isNaN(declared) && length !== declared) {
      return received(new AppError('validation_failed', 'The request body is shorter or longer than its Content-Length header says. Send it again.'));
    }
    if (length <= INLINE_JSON_BYTES) return received(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    if (block) blocks.push((block as Buffer).subarray(0, filled));
    received(null, new UnparsedBody(request.routeOptions.config.bodyForJob ?? null, blocks));
  }

  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}

const tooLarge = () => new AppError('payload_too_large', 'The request body is larger than this operation accepts. Send smaller files or fewer of them.');
