import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { expect } from 'vitest';
import { buildApp, type BuiltApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Clock } from '../../src/lib/clock.js';
import type { PlanCatalogue } from '../../src/plans/catalogue.js';
import { createTestDatabase, onPostgres } from './postgres.js';

/** The webhook secret key of PostgreSQL test nodes (test value only). */
export const TEST_WEBHOOK_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

/** Captures every log line the app writes, so tests can assert what never reaches a log. */
export class LogCapture extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(chunk.toString());
    callback();
  }
  get text(): string {
    return this.lines.join('');
  }
}

export interface TestApp {
  app: Awaited<ReturnType<typeof buildApp>>['app'];
  services: Awaited<ReturnType<typeof buildApp>>['services'];
  config: Config;
  logs: LogCapture;
  dataDir: string;
  dbFile: string;
  close(): Promise<void>;
}

/**
 * The real app on a fresh database, with logs captured: a SQLite file in a temporary folder, or,
 * when the suite runs on PostgreSQL (`TEST_DATABASE=postgres`), a new PostgreSQL database dropped on close.
 */
export async function startTestApp(
  options: { clock?: Clock; env?: Record<string, string>; plans?: PlanCatalogue; portalRoot?: string } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bdoc-test-'));
  const database = onPostgres && !options.env?.DATABASE_URL ? await createTestDatabase('app') : undefined;
  const config = loadConfig({
    DATA_DIR: dataDir,
    PUBLIC_URL: 'http://portal.test',
    LOG_LEVEL: 'info',
    CHANGE_POLL_MS: '50',
    USAGE_FLUSH_MS: '100',
    // Tests sign up many organisations from one address; the sign-up throttle has its own test.
    SIGNUPS_PER_IP_PER_HOUR: '100000',
    ...(database ? { DATABASE_URL: database.url } : {}),
    // Several nodes on PostgreSQL share the webhook secret key; on SQLite it is generated into DATA_DIR.
    ...(database || options.env?.DATABASE_URL ? { WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY } : {}),
    ...options.env,
  });
  const logs = new LogCapture();
  let built: BuiltApp;
  try {
    built = await buildApp({ config, clock: options.clock, logStream: logs, plans: options.plans, portalRoot: options.portalRoot });
  } catch (error) {
    // A start that fails (the tests of start-up errors) leaves no database or folder behind.
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const { app, services } = built;
  await app.ready();
  let closed = false;
  return {
    app,
    services,
    config,
    logs,
    dataDir,
    dbFile: path.join(dataDir, 'build-a-doc.sqlite'),
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Everything the database keeps: on SQLite every byte of the main file and its WAL; on PostgreSQL
 * every row of every table as text (what a dump or a backup would hold).
 */
export async function databaseBytes(t: TestApp): Promise<string> {
  if (t.config.databaseUrl) {
    const client = new pg.Client({ connectionString: t.config.databaseUrl });
    await client.connect();
    try {
      const tables = await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'");
      const parts: string[] = [];
      for (const { name } of tables.rows) {
        const rows = await client.query(`SELECT row_to_json(t)::text AS row FROM "${name}" t`);
        for (const row of rows.rows) parts.push(row.row);
      }
      return parts.join('\n');
    } finally {
      await client.end();
    }
  }
  return ['', '-wal', '-shm']
    .map((suffix) => {
      try {
        return readFileSync(t.dbFile + suffix).toString('latin1');
      } catch {
        return '';
      }
    })
    .join('');
}

export interface Session {
  cookie: string;
  userId: string;
  orgId: string;
  email: string;
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter++;
  return `${prefix}.${process.pid}.${counter}.${Date.now()}@example.com`;
}

export const PASSWORD = 'correct horse battery staple';

/** The session cookie a response sets, if any; the empty one that clears a session does not count. */
export function sessionCookieOf(response: LightMyRequestResponse): LightMyRequestResponse['cookies'][number] | undefined {
  return response.cookies.find((c) => c.name === 'bdoc_session' && c.value !== '');
}

/** The `cookie` header for the session a response started; throws if it started none. */
export function cookieOf(response: LightMyRequestResponse): string {
  const cookie = sessionCookieOf(response);
  if (!cookie) throw new Error(`no session cookie in ${response.statusCode} ${response.body}`);
  return `bdoc_session=${cookie.value}`;
}

/** The one-time token of an invitation link (`…/accept-invitation#token=…`). */
export function invitationToken(url: string): string {
  return new URL(url).hash.replace('#token=', '');
}

/**
 * Signs up a new organisation and its Admin. Sign-up always starts on Free (2 keys); tests
 * that need more keys get the Large plan (100 keys) unless they ask for `plan: 'free'`.
 */
export async function signup(t: TestApp, organisation = 'Contoso', email = uniqueEmail('admin'), options: { plan?: string } = {}): Promise<Session> {
  const response = await t.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: PASSWORD, name: 'Ada Admin', organisation } });
  if (response.statusCode !== 201) throw new Error(`signup failed: ${response.statusCode} ${response.body}`);
  const body = response.json();
  const plan = options.plan ?? 'large';
  if (plan !== 'free') await t.services.orgs.setSubscription(operatorOf(body.organisation.id), { plan });
  return { cookie: cookieOf(response), userId: body.user.id, orgId: body.organisation.id, email };
}

/** The operator (CLI) acting on an organisation. */
export function operatorOf(orgId: string) {
  return { orgId, userId: null, email: null, role: 'operator' as const, ip: null };
}

/** An Admin invites someone with a role; they accept and are signed in. */
export async function addMember(t: TestApp, admin: Session, role: 'admin' | 'member' | 'viewer', name = `${role} person`): Promise<Session> {
  const email = uniqueEmail(role);
  const invited = await t.app.inject({ method: 'POST', url: '/api/invitations', headers: { cookie: admin.cookie }, payload: { email, role } });
  if (invited.statusCode !== 201) throw new Error(`invite failed: ${invited.statusCode} ${invited.body}`);
  const token = invitationToken(invited.json().url);
  const accepted = await t.app.inject({ method: 'POST', url: '/api/invitations/accept', payload: { token, name, password: PASSWORD } });
  if (accepted.statusCode !== 200) throw new Error(`accept failed: ${accepted.statusCode} ${accepted.body}`);
  return { cookie: cookieOf(accepted), userId: accepted.json().user.id, orgId: admin.orgId, email };
}

export async function createKey(t: TestApp, who: Session, body: Record<string, unknown> = {}): Promise<{ id: string; secret: string; key: any }> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/keys',
    headers: { cookie: who.cookie },
    payload: { name: 'prod-invoice-flow-finance', ...body },
  });
  if (response.statusCode !== 201) throw new Error(`create key failed: ${response.statusCode} ${response.body}`);
  const json = response.json();
  return { id: json.key.id, secret: json.secret, key: json.key };
}

export function callGateway(t: TestApp, apiKey: string | undefined, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'GET', url: '/v1/connection', headers: { ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }), ...headers } });
}

/** An RFC 9457 problem+json body: the contract's fields, plus any extras of the error (e.g. `errors`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  [extra: string]: any;
}

/**
 * Asserts a refusal: the status, and RFC 9457 problem+json with the contract's fields — the `code`,
 * a `type` naming it, a non-empty title and detail, and a `req_…` request id that the
 * `x-request-id` header repeats. Returns the body for further checks.
 */
export function expectProblem(response: LightMyRequestResponse, status: number, code: string): Problem {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json();
  expect(body).toMatchObject({ status, code, type: expect.stringContaining(code) });
  for (const field of ['type', 'title', 'detail', 'requestId'] as const) {
    expect(typeof body[field], `problem field "${field}"`).toBe('string');
    expect(body[field].length, `problem field "${field}"`).toBeGreaterThan(0);
  }
  expect(body.requestId).toMatch(/^req_/);
  expect(response.headers['x-request-id']).toBe(body.requestId);
  return body;
}
