/**
 * Hostile input never answers 5xx or a non-problem error, and changes nothing: property-based
 * (fast-check) over every mutating route with bodies that are wrong in one way each (a field of
 * the wrong type or out of range, unknown fields by the thousand, numbers JSON cannot hold, broken
 * JSON), and over query strings with every kind of bad number, date and percent-encoding.
 * CI runs thousands of cases per route (HOSTILE_RUNS to change).
 */
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createKey, signup, startTestApp, type Session, type TestApp } from './support/harness.js';

const RUNS = Number(process.env.HOSTILE_RUNS ?? (process.env.CI ? 2000 : 150));

let t: TestApp;
let admin: Session;
let keyId: string;
let keySecret: string;
let memberId: string;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
  admin = await signup(t, 'Hostile Input Ltd');
  const key = await createKey(t, admin, { name: 'prod-fuzz-flow-ops' });
  keyId = key.id;
  keySecret = key.secret;
  memberId = (await addMember(t, admin, 'member')).userId;
});
afterAll(() => t.close());

/** Everything the organisation has that a request could change. */
async function snapshot(): Promise<string> {
  const get = async (url: string) => (await t.app.inject({ method: 'GET', url, headers: { cookie: admin.cookie } })).body;
  await t.services.usage.flush();
  // A gateway call that gets its 400 still used the key (its last use, usage and calling flow are recorded): not a change of the organisation's data.
  const keys = (await get('/api/keys?limit=200')).replace(/"(lastUsedAt|flowCount)":("[^"]*"|null|\d+)/g, '');
  return [
    keys,
    await get('/api/members?limit=200'),
    await get('/api/subscription'),
    await get('/api/invitations?limit=200'),
    await get('/api/audit?limit=1'),
  ].join('\n');
}

function expectRefusal(response: LightMyRequestResponse, what: string): void {
  expect(response.statusCode, `${what} → ${response.statusCode} ${response.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, what).toBeLessThan(500);
  expect(response.headers['content-type'], what).toMatch(/^application\/problem\+json/);
  const body = response.json();
  expect(typeof body.detail === 'string' && body.detail.length > 0, what).toBe(true);
  expect(body.status, what).toBe(response.statusCode);
}

const list = fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 });
const object = fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 });
/** What a text field does not take: other types, or far more text than any field allows. */
const notAString = fc.oneof(fc.boolean(), fc.constant(null), fc.integer(), fc.double(), list, object, fc.string({ minLength: 5000, maxLength: 6000 }));
/** What a number field does not take: other types, fractions, negatives, beyond any range. */
const notANumber = fc.oneof(
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 10 }),
  list,
  object,
  fc.constantFrom(0.5, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2),
);
/** What a list field does not take. */
const notAList = fc.oneof(fc.boolean(), fc.constant(null), fc.integer(), fc.string({ maxLength: 10 }), object);

/** Raw JSON text JSON.stringify cannot produce: numbers beyond a double, NaN, trailing garbage. */
const RAW_NUMBERS = ['1e309', '-1e309', '123456789012345678901234567890', 'NaN', 'Infinity', '0x10', '1_000'];

interface MutatingRoute {
  method: 'POST' | 'PATCH' | 'PUT';
  url: () => string;
  valid: Record<string, unknown>;
  /** Fields where null is a meaning ("never expires"), so null is not wrong there. */
  nullable?: string[];
  /** Fields that are not text: numbers and lists. */
  kinds?: Record<string, 'number' | 'list'>;
  headers?: () => Record<string, string>;
  /** Connector actions ignore fields they do not know (Power Automate sends empty optional ones). */
  toleratesUnknownFields?: boolean;
}

const ROUTES: Record<string, MutatingRoute> = {
  'POST /api/keys': {
    method: 'POST',
    url: () => '/api/keys',
    valid: { name: 'prod-valid-flow-ops', expiresInDays: 30 },
    kinds: { expiresInDays: 'number' },
    nullable: ['expiresInDays'],
  },
  'PATCH /api/keys/:id': { method: 'PATCH', url: () => `/api/keys/${keyId}`, valid: { name: 'prod-renamed-flow-ops' } },
  'POST /api/keys/:id/rotate': { method: 'POST', url: () => `/api/keys/${keyId}/rotate`, valid: { graceHours: 24 }, kinds: { graceHours: 'number' } },
  'POST /api/invitations': { method: 'POST', url: () => '/api/invitations', valid: { email: 'fuzz@example.com', role: 'viewer' } },
  'PATCH /api/members/:userId': { method: 'PATCH', url: () => `/api/members/${memberId}`, valid: { role: 'viewer' } },
  'POST /api/auth/signin': { method: 'POST', url: () => '/api/auth/signin', valid: { email: 'nobody@example.com', password: 'x' } },
  'POST /v1/data/compute': {
    method: 'POST',
    url: () => '/v1/data/compute',
    valid: { data: [{ amount: 1 }], expression: 'Sum(amount)' },
    kinds: { data: 'list' },
    headers: () => ({ 'x-api-key': keySecret }),
    toleratesUnknownFields: true,
  },
  'POST /v1/pdf/watermark': {
    method: 'POST',
    url: () => '/v1/pdf/watermark',
    valid: { fileContent: 'JVBERi0xLjcK', text: 'DRAFT', opacity: 0.5 },
    kinds: { opacity: 'number' },
    headers: () => ({ 'x-api-key': keySecret }),
    toleratesUnknownFields: true,
  },
};

/** One way a body is wrong, as the raw text sent. */
function hostileBody(route: MutatingRoute) {
  const fields = Object.keys(route.valid);
  return fc.oneof(
    // A field of the wrong type, or out of its range.
    fc.constantFrom(...fields).chain((field) => {
      const kind = route.kinds?.[field];
      const wrong = kind === 'number' ? notANumber : kind === 'list' ? notAList : notAString;
      return wrong.filter((value) => value !== null || !route.nullable?.includes(field)).map((value) => JSON.stringify({ ...route.valid, [field]: value }));
    }),
    // A number JSON.stringify could never write.
    fc
      .tuple(fc.constantFrom(...fields), fc.constantFrom(...RAW_NUMBERS))
      .map(([field, raw]) => JSON.stringify({ ...route.valid, [field]: '__RAW__' }).replace('"__RAW__"', raw)),
    // Unknown fields, from one to thousands (where the route refuses them).
    fc
      .integer({ min: 1, max: 3000 })
      .map((n) =>
        route.toleratesUnknownFields
          ? '{"truncated":'
          : JSON.stringify({ ...route.valid, ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`unknown_${i}`, i])) }),
      ),
    // A NUL character inside a text (PostgreSQL cannot store one).
    fc
      .tuple(fc.constantFrom(...fields), fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }))
      .map(([field, before, after]) => JSON.stringify({ ...route.valid, [field]: `${before}\u0000${after}` })),
    // Arrays and objects nested far deeper than any field (a worker's structured clone overflows its stack near 4,000).
    fc
      .tuple(fc.constantFrom(...fields), fc.integer({ min: 65, max: 6000 }), fc.boolean())
      .map(([field, depth, objects]) =>
        JSON.stringify({ ...route.valid, [field]: '__DEEP__' }).replace(
          '"__DEEP__"',
          (objects ? '{"a":' : '[').repeat(depth) + (objects ? '}' : ']').repeat(depth),
        ),
      ),
    // Prototype poisoning.
    fc.constant(JSON.stringify(route.valid).replace(/^\{/, '{"__proto__":{"isAdmin":true},')),
    // Broken or truncated JSON.
    fc.nat({ max: 40 }).map((cut) => JSON.stringify(route.valid).slice(0, Math.max(1, cut % JSON.stringify(route.valid).length))),
  );
}

describe('hostile bodies on every mutating route: 4xx problem+json, nothing changed', () => {
  for (const [name, route] of Object.entries(ROUTES)) {
    it(`${name} (${RUNS} cases)`, { timeout: 600_000 }, async () => {
      const before = await snapshot();
      await fc.assert(
        fc.asyncProperty(hostileBody(route), async (payload) => {
          const response = await t.app.inject({
            method: route.method,
            url: route.url(),
            headers: { 'content-type': 'application/json', cookie: admin.cookie, ...route.headers?.() },
            payload,
          });
          expectRefusal(response, `${name} ${payload.slice(0, 120)}`);
        }),
        { numRuns: RUNS },
      );
      expect(await snapshot()).toBe(before);
    });
  }
});

/** Query values of every hostile kind: numbers out of range, impossible dates, bad percent-encoding, junk. */
const hostileQueryValue = fc.oneof(
  fc.constantFrom(
    '1e309',
    '-1',
    '99999999999999999999999',
    'NaN',
    'Infinity',
    '0x10',
    '2026-13-01',
    '2026-02-30',
    '2026-00-10',
    '2026-12-32T25:61:00Z',
    '%ZZ',
    '%',
    '%E0%A4%A',
    '',
    ' ',
    '%00',
    'key%00',
  ),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.integer().map(String),
  fc.string({ minLength: 3000, maxLength: 4000 }).map(encodeURIComponent),
);

const QUERY_ROUTES: Record<string, (value: string) => string> = {
  'GET /api/keys?limit&offset': (v) => `/api/keys?limit=${v}&offset=${v}`,
  'GET /api/keys?q': (v) => `/api/keys?q=${v}`,
  'GET /api/audit?from&to': (v) => `/api/audit?from=${v}&to=${v}`,
  'GET /api/keys/:id/usage?from&to': (v) => `/api/keys/${keyId}/usage?from=${v}&to=${v}`,
  'GET /api/usage/export.csv?from': (v) => `/api/usage/export.csv?from=${v}`,
  'GET /api/keys/:id (as the id)': (v) => `/api/keys/${v}`,
};

describe('hostile query strings and parameters: never 5xx, every refusal a problem', () => {
  for (const [name, url] of Object.entries(QUERY_ROUTES)) {
    it(`${name} (${RUNS} cases)`, { timeout: 600_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(hostileQueryValue, async (value) => {
          const response = await t.app.inject({ method: 'GET', url: url(value), headers: { cookie: admin.cookie } });
          if (response.statusCode >= 300) expectRefusal(response, `${name} ${value.slice(0, 80)}`);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('impossible dates and out-of-range numbers are refused, not coerced', async () => {
    for (const url of [
      '/api/audit?from=2026-13-01',
      `/api/keys/${keyId}/usage?from=2026-02-30`,
      '/api/keys?offset=1e309',
      '/api/keys?limit=99999999999999999999',
    ]) {
      expectRefusal(await t.app.inject({ method: 'GET', url, headers: { cookie: admin.cookie } }), url);
    }
  });

  it('compressed bodies get 415, bad percent-encoding 400, long parameters 414', async () => {
    const gzip = await t.app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { cookie: admin.cookie, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: '{}',
    });
    expectRefusal(gzip, 'gzip');
    expect(gzip.statusCode).toBe(415);
    const percent = await t.app.inject({ method: 'GET', url: '/api/keys/%E0%A4%A', headers: { cookie: admin.cookie } });
    expectRefusal(percent, 'percent');
    expect(percent.statusCode).toBe(400);
    const long = await t.app.inject({ method: 'GET', url: `/api/keys/${'k'.repeat(5000)}`, headers: { cookie: admin.cookie } });
    expectRefusal(long, 'long');
    expect(long.statusCode).toBe(414);
  });

  it('JSON sent as text gets 415 naming application/json; no body at all, 400 saying so', async () => {
    const text = await t.app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { cookie: admin.cookie, 'content-type': 'text/plain' },
      payload: JSON.stringify({ name: 'prod-text-flow-ops' }),
    });
    expectRefusal(text, 'text/plain');
    expect(text.statusCode).toBe(415);
    expect(text.json().detail).toMatch(/Send application\/json/);
    const none = await t.app.inject({ method: 'POST', url: '/v1/data/compute', headers: { 'x-api-key': keySecret } });
    expectRefusal(none, 'no body');
    expect(none.statusCode).toBe(400);
    expect(none.json().detail).toMatch(/no body.*Content-Type: application\/json/);
  });

  it('a JSON false is not the text "false", and a number is not a name', async () => {
    for (const payload of ['{"name":false}', '{"name":12345}', '{"name":"prod-a-b-c","expiresInDays":"30"}']) {
      const response = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: admin.cookie, 'content-type': 'application/json' }, payload });
      expectRefusal(response, payload);
    }
  });

  it('a NUL character, nesting deeper than 64 levels or a __proto__ member: 400 saying which and where, small body or large', async () => {
    const compute = (extra: string, padding = 0) => `{"expression":"Sum(amount)","pad":"${'x'.repeat(padding)}","data":[{"amount":1,"n":${extra}}]}`;
    const cases: [string, string, string, RegExp][] = [
      ['/api/keys', JSON.stringify({ name: 'prod\u0000flow' }), '/', /NUL character/],
      ['/v1/data/compute', compute('"a\\u0000"'), '/', /NUL character/],
      ['/v1/data/compute', compute(`${'['.repeat(4000)}${']'.repeat(4000)}`), `/data/0/n${'/0'.repeat(61)}`, /nested more than 64 levels/],
      ['/v1/data/compute', compute('{"__proto__":{"x":1}}'), '/', /__proto__/],
      // Over 256 KB: parsed in a worker, refused by the same rules.
      ['/v1/data/compute', compute('"a\\u0000"', 300_000), '/', /NUL character/],
      ['/v1/data/compute', compute(`${'['.repeat(4000)}${']'.repeat(4000)}`, 300_000), `/data/0/n${'/0'.repeat(61)}`, /nested more than 64 levels/],
      ['/v1/data/compute', compute('{"__proto__":{"x":1}}', 300_000), '/', /__proto__/],
      ['/v1/data/compute', compute('[1,', 300_000), '/', /not valid JSON/],
    ];
    const before = await snapshot();
    for (const [url, payload, path, detail] of cases) {
      const response = await t.app.inject({
        method: 'POST',
        url,
        headers: { cookie: admin.cookie, 'x-api-key': keySecret, 'content-type': 'application/json' },
        payload,
      });
      const what = `${url} ${payload.length} bytes: ${payload.slice(0, 60)}`;
      expectRefusal(response, what);
      expect(response.statusCode, what).toBe(400);
      expect(response.json().detail, what).toMatch(detail);
      expect(response.json().errors[0].path, what).toBe(path);
    }
    // A literal backslash before "u0000" is text, not a NUL: accepted.
    const literal = await t.app.inject({
      method: 'POST',
      url: '/v1/data/compute',
      headers: { 'x-api-key': keySecret, 'content-type': 'application/json' },
      payload: compute('"a\\\\u0000"', 300_000),
    });
    expect(literal.statusCode, literal.body).toBe(200);
    expect(await snapshot()).toBe(before);
  });

  it('a body that breaks its schema gets the same answer small or large (a large one is validated in a worker, not on the event loop)', async () => {
    const pad = (fields: Record<string, unknown>, padding: number) => JSON.stringify({ ...fields, ...(padding ? { pad: 'x'.repeat(padding) } : {}) });
    const cases: [string, Record<string, unknown>, boolean][] = [
      ['/v1/data/compute', { expression: 5, data: [{ amount: 1 }] }, false],
      ['/v1/data/compute', { expression: 'Sum(amount)' }, false],
      ['/v1/pdf/merge', { files: 'x', fileName: 7 }, false],
      ['/v1/convert/pdf', { sourceFormat: 'exe' }, false],
      ['/v1/pdf/split', { fileContent: 'JVBERi0=', ranges: 3 }, false],
      // Another route's large body is parsed in a worker and validated here: unknown fields are refused.
      ['/api/keys', { name: 'prod-flow-large-ops' }, true],
    ];
    const before = await snapshot();
    for (const [url, fields, strict] of cases) {
      const answers = [];
      for (const padding of strict ? [10, 300_000] : [0, 300_000]) {
        const response = await t.app.inject({
          method: 'POST',
          url,
          headers: { cookie: admin.cookie, 'x-api-key': keySecret, 'content-type': 'application/json' },
          payload: pad(fields, padding),
        });
        const what = `${url} ${JSON.stringify(fields)} padded ${padding}`;
        expectRefusal(response, what);
        expect(response.statusCode, what).toBe(400);
        const { detail, errors, code } = response.json();
        answers.push({ detail, errors, code });
      }
      expect(answers[1], url).toEqual(answers[0]);
      expect(answers[0]!.errors.length, url).toBeGreaterThan(0);
    }
    // More rows than COMPUTE_MAX_ROWS in a large body: counted in the worker, 413 and not billed.
    const rows = await t.app.inject({
      method: 'POST',
      url: '/v1/data/compute',
      headers: { 'x-api-key': keySecret, 'content-type': 'application/json' },
      payload: JSON.stringify({ expression: 'Sum(amount)', data: Array.from({ length: 50_001 }, (_, i) => ({ amount: i })) }),
    });
    expect(rows.statusCode, rows.body).toBe(413);
    expect(rows.json().detail).toMatch(/COMPUTE_MAX_ROWS/);
    expect(await snapshot()).toBe(before);
  });

  /** Every text people type and others read, as the request that sets it (ids made up where the schema refuses first). */
  const TYPED_TEXT: Array<{ method: 'POST' | 'PATCH'; url: () => string; body: (text: string) => Record<string, unknown>; path: string; optional: boolean }> = [
    { method: 'POST', url: () => '/api/keys', body: (name) => ({ name }), path: '/name', optional: false },
    { method: 'POST', url: () => '/api/keys', body: (team) => ({ name: 'prod-typed-flow-ops', team }), path: '/team', optional: true },
    { method: 'PATCH', url: () => `/api/keys/${keyId}`, body: (name) => ({ name }), path: '/name', optional: false },
    { method: 'PATCH', url: () => `/api/keys/${keyId}`, body: (team) => ({ team }), path: '/team', optional: true },
    { method: 'PATCH', url: () => '/api/flows/flw_made_up', body: (label) => ({ label }), path: '/label', optional: true },
    {
      method: 'POST',
      url: () => '/api/webhooks',
      body: (description) => ({ url: 'https://hooks.example.com/x', eventTypes: ['api_key.created'], description }),
      path: '/description',
      optional: true,
    },
    { method: 'PATCH', url: () => '/api/webhooks/whe_made_up', body: (description) => ({ description }), path: '/description', optional: true },
    {
      method: 'POST',
      url: () => '/api/auth/signup',
      body: (name) => ({ email: 'typed@example.com', password: 'a long enough passphrase', name, organisation: 'Typed Ltd' }),
      path: '/name',
      optional: false,
    },
    {
      method: 'POST',
      url: () => '/api/auth/signup',
      body: (organisation) => ({ email: 'typed@example.com', password: 'a long enough passphrase', name: 'Ty Ped', organisation }),
      path: '/organisation',
      optional: false,
    },
    {
      method: 'POST',
      url: () => '/api/invitations/accept',
      body: (name) => ({ token: 'not-a-real-token-at-all', name, password: 'a long enough passphrase' }),
      path: '/name',
      optional: false,
    },
  ];
  const send = (field: (typeof TYPED_TEXT)[number], text: string) =>
    t.app.inject({ method: field.method, url: field.url(), headers: { cookie: admin.cookie }, payload: field.body(text) });

  it('a control character (C0 with tab and line breaks, DEL, C1) in any text people type: 400 naming the field and the character, never the text', async () => {
    const before = await snapshot();
    const controls = ['\u0007', '\u001b', '\t', '\n', '\r', '\u007f', '\u0080', '\u0085', '\u009b'];
    for (const field of TYPED_TEXT) {
      for (const control of controls) {
        // A key pasted into the name by mistake must not come back in the answer either.
        const response = await send(field, `prod${control}${keySecret}`);
        const code = `U+${control.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
        const what = `${field.method} ${field.url()} ${field.path} with ${code}`;
        expectRefusal(response, what);
        expect(response.statusCode, what).toBe(400);
        const body = response.json();
        expect(body.errors, what).toEqual([{ path: field.path, message: expect.stringContaining(`must not contain the control character ${code}`) }]);
        expect(body.detail, what).toContain(`${field.path} must not contain the control character ${code}`);
        expect(response.body, what).not.toContain(keySecret);
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it('a name made only of invisible characters (spaces, zero-width, word joiner, BOM, bidi controls): 400 "must contain a visible character"; blank optional text still means none', async () => {
    const before = await snapshot();
    const invisible = ['\u200b', '\u200b\u200c\u200d', '\u2060', '\ufeff\u200b', '\u202e', '\u2066\u2069', ' \u200b ', '\u00a0\u200b', '\u3164'];
    for (const field of TYPED_TEXT) {
      for (const text of [...invisible, ...(field.optional ? [] : [' ', '\u3000\u00a0'])]) {
        const response = await send(field, text);
        const what = `${field.method} ${field.url()} ${field.path} = ${JSON.stringify(text)}`;
        expect(response.statusCode, what).toBe(400);
        expect(response.json().errors, what).toEqual([{ path: field.path, message: 'must contain a visible character' }]);
      }
    }
    expect(await snapshot()).toBe(before);
    // Blank optional text clears the field; names in any script, with emoji and their joiners, are taken.
    const cleared = await send(TYPED_TEXT[3]!, '   ');
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json().key.team).toBeNull();
    for (const name of ['Café Zürich – prod', 'مفتاح الفواتير', '👩‍💻 dev-tools', 'prod\u200bflow']) {
      const renamed = await send(TYPED_TEXT[2]!, name);
      expect(renamed.statusCode, `${JSON.stringify(name)}: ${renamed.body}`).toBe(200);
      expect(renamed.json().key.name).toBe(name);
    }
  });

  it('a bidirectional embedding, override or isolate inside a visible text: 400 naming it, since it shows the text in another order; right-to-left text and its marks are taken', async () => {
    const before = await snapshot();
    // "prod-" then U+202E: shown as "prod-test-key", stored as another name.
    for (const field of TYPED_TEXT) {
      for (const control of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']) {
        const response = await send(field, `prod-${control}yek-tset`);
        const code = `U+${control.charCodeAt(0).toString(16).toUpperCase()}`;
        const what = `${field.method} ${field.url()} ${field.path} with ${code}`;
        expectRefusal(response, what);
        expect(response.statusCode, what).toBe(400);
        expect(response.json().errors, what).toEqual([
          { path: field.path, message: expect.stringContaining(`must not contain the bidirectional control ${code}`) },
        ]);
      }
    }
    expect(await snapshot()).toBe(before);
    for (const name of ['فواتير\u200f prod', 'prod \u200eשלום', 'עברית-flow']) {
      const renamed = await send(TYPED_TEXT[2]!, name);
      expect(renamed.statusCode, `${JSON.stringify(name)}: ${renamed.body}`).toBe(200);
      expect(renamed.json().key.name).toBe(name);
    }
  });

  it('an address with %00 in an identifier or a search: 400, on every database', async () => {
    for (const url of ['/api/keys/%00', '/api/keys?q=%00', `/api/keys/${keyId}%00`, '/api/audit?userId=a%00b']) {
      const response = await t.app.inject({ method: 'GET', url, headers: { cookie: admin.cookie } });
      expectRefusal(response, url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().detail, url).toMatch(/NUL character/);
    }
  });

  it('thousands of unknown fields: one short answer listing a few', async () => {
    const payload = JSON.stringify({ name: 'prod-a-b-c', ...Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`f${i}`, i])) });
    const response = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: admin.cookie, 'content-type': 'application/json' }, payload });
    expectRefusal(response, 'unknown fields');
    expect(response.json().errors.length).toBeLessThanOrEqual(20);
    expect(response.body.length).toBeLessThan(10_000);
  });
});
