/**
 * The connector-facing answers are what /api/openapi.json declares for them: successes as JSON
 * of the declared shape, every error (bad key, bad body, body too large, wrong content type)
 * as application/problem+json. The management API is checked route by route in the
 * authorisation matrix, with every kind of actor.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createKey, signup, startTestApp, type TestApp } from './support/harness.js';
import { responseChecker } from './support/openapi.js';

let t: TestApp;
let secret: string;
let check: ReturnType<typeof responseChecker>;

beforeAll(async () => {
  t = await startTestApp();
  secret = (await createKey(t, await signup(t, 'Spec Ltd'), { name: 'prod-spec-flow-ops' })).secret;
  check = responseChecker((await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json());
});
afterAll(() => t.close());

describe('/v1 answers match the OpenAPI document', () => {
  const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: string) =>
    t.app.inject({ method, url, headers: { 'content-type': 'application/json', ...headers }, ...(payload !== undefined ? { payload } : {}) });

  it('CheckConnection: success, missing key, malformed key, unknown key', async () => {
    check('GET', '/v1/connection', await t.app.inject({ method: 'GET', url: '/v1/connection', headers: { 'x-api-key': secret } }));
    check('GET', '/v1/connection', await t.app.inject({ method: 'GET', url: '/v1/connection' }));
    check('GET', '/v1/connection', await t.app.inject({ method: 'GET', url: '/v1/connection', headers: { 'x-api-key': 'Bearer nonsense' } }));
    check('GET', '/v1/connection', await t.app.inject({ method: 'GET', url: '/v1/connection', headers: { 'x-api-key': `bdoc_${'A'.repeat(43)}` } }));
  });

  it('ComputeData: success, bad body, wrong type of body, rows over the cap', async () => {
    const key = { 'x-api-key': secret };
    check('POST', '/v1/data/compute', await call('POST', '/v1/data/compute', key, JSON.stringify({ data: [{ a: 1 }, { a: 2 }], expression: 'Sum(a)' })));
    check('POST', '/v1/data/compute', await call('POST', '/v1/data/compute', key, '{"data":'));
    check('POST', '/v1/data/compute', await call('POST', '/v1/data/compute', key, JSON.stringify({ data: 'rows', expression: 'Sum(a)' })));
    check(
      'POST',
      '/v1/data/compute',
      await t.app.inject({ method: 'POST', url: '/v1/data/compute', headers: { ...key, 'content-type': 'text/csv' }, payload: 'a,b' }),
    );
    const rows = Array.from({ length: 50_001 }, () => ({ a: 1 }));
    check('POST', '/v1/data/compute', await call('POST', '/v1/data/compute', key, JSON.stringify({ data: rows, expression: 'Sum(a)' })));
  });

  it('PDF actions: a damaged PDF and a body over the limit', async () => {
    const key = { 'x-api-key': secret };
    check(
      'POST',
      '/v1/pdf/watermark',
      await call('POST', '/v1/pdf/watermark', key, JSON.stringify({ fileContent: Buffer.from('%PDF-1.7 broken').toString('base64'), text: 'X' })),
    );
    check('POST', '/v1/pdf/merge', await call('POST', '/v1/pdf/merge', key, JSON.stringify({ files: ['A'.repeat(80 * 1024 * 1024)] })));
  });
});
