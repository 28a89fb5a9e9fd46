/**
 * The JSON body reader (`src/http/json-body.ts`) over real HTTP: a small body is parsed on the
 * event loop; a large one is never parsed there. A `/v1` action's large body reaches its handler
 * unparsed, in blocks of memory of its own (so they move to the worker, not copied), and passes
 * the event loop's validator untouched; another route's large body is handed to `parseLarge`.
 * The body limit holds whether or not the client says how long the body is.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INLINE_JSON_BYTES, installJsonBodies } from '../src/http/json-body.js';
import { parseJsonText } from '../src/http/json-text.js';
import { installErrorHandling } from '../src/http/problem.js';
import type { App } from '../src/http/types.js';
import { installValidation } from '../src/http/validation.js';
import { UnparsedBody } from '../src/operations/unparsed-body.js';

const Body = Type.Object({ name: Type.String({ maxLength: 10 }) });
const LIMIT = 3 * 1024 * 1024;

let app: App;
let port: number;
const handed: UnparsedBody[] = [];
const received: unknown[] = [];

beforeAll(async () => {
  app = Fastify({ bodyLimit: LIMIT }) as unknown as App;
  installValidation(app);
  installErrorHandling(app, 'http://localhost');
  installJsonBodies(app, {
    parseLarge: async (body) => {
      handed.push(body);
      return parseJsonText(Buffer.concat(body.blocks).toString('utf8'));
    },
  });
  const handler = async (request: { body: unknown }) => {
    received.push(request.body);
    return { ok: true };
  };
  app.post('/action', { schema: { body: Body }, config: { bodyForJob: 'Action' } }, handler);
  app.post('/other', { schema: { body: Body } }, handler);
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(() => app.close());

/** POSTs `text` in chunks of `chunk` bytes, with a Content-Length or chunked. */
function post(path: string, text: string, { chunked = false, chunk = 64 * 1024 } = {}): Promise<{ status: number; body: string }> {
  const bytes = Buffer.from(text);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        port,
        host: '127.0.0.1',
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': bytes.length }) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts).toString() }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    let at = 0;
    const next = () => {
      while (at < bytes.length) {
        const part = bytes.subarray(at, at + chunk);
        at += part.length;
        if (!req.write(part)) return void req.once('drain', next);
      }
      req.end();
    };
    next();
  });
}

const large = (name: string, padding: number) => JSON.stringify({ name, pad: 'é'.repeat(padding) });

describe('JSON bodies', () => {
  it('a small body is parsed and validated on the event loop', async () => {
    received.length = 0;
    handed.length = 0;
    expect((await post('/action', JSON.stringify({ name: 'short' }))).status).toBe(200);
    expect(received).toEqual([{ name: 'short' }]);
    const refused = await post('/action', JSON.stringify({ name: 'far too long a name' }));
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).errors).toEqual([{ path: '/name', message: 'must NOT have more than 10 characters' }]);
    expect(handed).toEqual([]);
  });

  for (const chunked of [false, true]) {
    it(`an action's large body reaches it unparsed, in blocks of its own memory (${chunked ? 'chunked' : 'with Content-Length'})`, async () => {
      received.length = 0;
      // Invalid for the schema (name too long): the event loop's validator lets it through for the job to refuse.
      const text = large('far too long a name', 700_000);
      expect(Buffer.byteLength(text)).toBeGreaterThan(INLINE_JSON_BYTES);
      expect((await post('/action', text, { chunked, chunk: 50_000 })).status).toBe(200);
      const body = received[0];
      expect(body).toBeInstanceOf(UnparsedBody);
      const { operationId, blocks } = body as UnparsedBody;
      expect(operationId).toBe('Action');
      expect(blocks.length).toBeGreaterThan(1);
      for (const block of blocks) {
        expect(block.byteOffset).toBe(0);
        expect(block.buffer.byteLength).toBeLessThanOrEqual(1024 * 1024);
        // Node's shared pool holds 8 KB slabs: a block of its own is larger than any slab would allow.
        expect(block.buffer.byteLength === block.byteLength || block === blocks.at(-1)).toBe(true);
      }
      expect(Buffer.concat(blocks).toString('utf8')).toBe(text);
    });
  }

  it("another route's large body is parsed off the event loop (parseLarge) and validated as usual", async () => {
    handed.length = 0;
    received.length = 0;
    expect((await post('/other', large('short', 200_000))).status).toBe(200);
    expect(handed).toHaveLength(1);
    expect(handed[0]!.operationId).toBeNull();
    expect(received).toEqual([{ name: 'short', pad: 'é'.repeat(200_000) }]);
    const refused = await post('/other', large('far too long a name', 200_000), { chunked: true });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).errors[0].path).toBe('/name');
  });

  it('a body over the limit is refused, announced or not', async () => {
    for (const chunked of [false, true]) {
      const answer = await post('/action', large('x', LIMIT), { chunked });
      expect(answer.status, `chunked ${chunked}`).toBe(413);
      expect(JSON.parse(answer.body).code).toBe('payload_too_large');
    }
  });
});
