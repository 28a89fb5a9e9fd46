import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { freePort } from './support/processes.js';
import { PASSWORD, startTestApp } from './support/harness.js';
import { createTestDatabase, onPostgres, type TestDatabase } from './support/postgres.js';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('the server process over real HTTP', () => {
  let child: ChildProcess;
  let base: string;
  let dataDir: string;
  let database: TestDatabase | undefined;
  let output = '';
  let exit: Promise<number | null>;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'bdoc-server-'));
    database = onPostgres ? await createTestDatabase('server') : undefined;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        ...(database ? { DATABASE_URL: database.url } : {}),
        PORT: String(port),
        PUBLIC_URL: base,
        LOG_LEVEL: 'info',
        USAGE_FLUSH_MS: '1000',
      },
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200; i++) {
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server did not start:\n${output}`);
  }, 60_000);

  afterAll(async () => {
    child.kill('SIGKILL');
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves health, readiness and the API documentation', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({
      status: 'ready',
      database: onPostgres ? 'postgres' : 'sqlite',
      redis: 'unused',
      converter: 'available',
      converterSandbox: 'bubblewrap',
    });
    const spec = (await (await fetch(`${base}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/keys', '/api/keys/{id}/revoke', '/v1/connection']));
    const docs = await fetch(`${base}/api/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });

  it('says in its log that it migrated the fresh database, and where, without a password', () => {
    const line = output.split('\n').find((l) => l.includes('database migrated'));
    expect(line, output.slice(0, 2000)).toBeDefined();
    const entry = JSON.parse(line!);
    expect(entry.msg).toMatch(/^database migrated: \d+ migration\(s\) applied$/);
    expect(entry.migrations.length).toBeGreaterThan(5);
    const url = database ? new URL(database.url) : undefined;
    expect(entry.database).toBe(url ? `postgres://${url.host}${url.pathname}` : path.join(dataDir, 'build-a-doc.sqlite'));
  });

  it('signs up, creates a key, uses it, and SIGTERM flushes every count before exiting 0', async () => {
    const signup = await fetch(`${base}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.com', password: PASSWORD, name: 'Ops', organisation: 'Real HTTP Ltd' }),
    });
    expect(signup.status).toBe(201);
    const cookie = signup.headers.get('set-cookie')!.split(';')[0]!;
    expect(signup.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect(signup.headers.get('set-cookie')).toMatch(/SameSite=Lax/i);
    const created = await fetch(`${base}/api/keys`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'prod-real-flow-ops' }),
    });
    const { key, secret } = (await created.json()) as { key: { id: string }; secret: string };

    const calls = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${base}/v1/connection`, { headers: { 'x-api-key': secret, 'x-ms-workflow-name': 'real-flow' } }).then((r) => r.status),
      ),
    );
    // A new organisation is on Free: 60 requests a minute, so 50 all pass.
    expect(calls.every((s) => s === 200)).toBe(true);
    expect(output).not.toContain(secret);

    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    const { db } = openDatabase({ dataDir, databaseUrl: database?.url });
    try {
      const rows = await db.selectFrom('keyUsageDaily').select(['outcome', 'count']).where('keyId', '=', key.id).execute();
      expect(rows).toEqual([{ outcome: 'success', count: 50 }]);
      const flow = await db
        .selectFrom('flowKeys')
        .innerJoin('flows', 'flows.id', 'flowKeys.flowId')
        .select(['flows.workflowName', 'flowKeys.calls'])
        .where('flowKeys.keyId', '=', key.id)
        .executeTakeFirstOrThrow();
      expect(flow).toEqual({ workflowName: 'real-flow', calls: 50 });
    } finally {
      await db.destroy();
    }
    expect(output).not.toContain(secret);
    expect(output).not.toContain(PASSWORD);
  });
});

describe('readiness', () => {
  it('answers 503 unavailable when the database cannot be reached', async () => {
    const t = await startTestApp();
    try {
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await t.services.db.destroy();
      const response = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: 'unavailable' });
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await t.close().catch(() => {});
    }
  });
});

describe('the privacy policy the connector links to', () => {
  it('is served as a page', async () => {
    const t = await startTestApp();
    try {
      const response = await t.app.inject({ method: 'GET', url: '/privacy' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toMatch(/never stored/);
    } finally {
      await t.close();
    }
  });
});
