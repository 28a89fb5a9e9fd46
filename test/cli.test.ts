import { DEFAULT_PLANS } from '../src/plans/catalogue.js';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { addMember, callGateway, createKey, invitationToken, signup, startTestApp, type Session, type TestApp } from './support/harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Runs the real CLI in another process against the test app's database (its SQLite file or PostgreSQL database). */
function cliProcess(args: string[], t: TestApp): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: t.dataDir, DATABASE_URL: t.config.databaseUrl ?? '', PUBLIC_URL: 'http://portal.test', LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() - started > timeoutMs) return { value, ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the operator CLI', () => {
  let t: TestApp;
  let admin: Session;
  const lines: string[] = [];
  const errors: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => errors.push(l) };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signup(t, 'Operated Ltd');
  });
  afterAll(() => t.close());

  it('a revoke from another process reaches the running server within a second', async () => {
    const { id, secret } = await createKey(t, admin, { name: 'prod-cli-revoke-ops' });
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    const result = await cliProcess(['keys', 'revoke', '--id', id], t);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Revoked ${id}`));
    const { value } = await eventually(
      () => callGateway(t, secret),
      (r) => r.statusCode === 401,
      1000,
    );
    expect(value.json().code).toBe('api_key_revoked');
    const audit = (await t.app.inject({ method: 'GET', url: `/api/audit?resourceId=${id}`, headers: { cookie: admin.cookie } })).json();
    expect(audit.items[0]).toMatchObject({ eventType: 'key.revoked', userId: null });
  });

  it('a subscription change from another process reaches the running server within a second', async () => {
    const { secret } = await createKey(t, admin, { name: 'prod-cli-sub-ops' });
    expect((await callGateway(t, secret)).statusCode).toBe(200);
    const result = await cliProcess(['subscription', 'set', '--org', admin.orgId, '--status', 'past_due'], t);
    expect(result.code).toBe(0);
    const { value } = await eventually(
      () => callGateway(t, secret),
      (r) => r.statusCode === 403,
      1000,
    );
    expect(value.json()).toMatchObject({ code: 'subscription_inactive', subscriptionStatus: 'past_due' });
    await runCli(['subscription', 'set', '--org', admin.orgId, '--status', 'active'], io, t.config);
    const back = await eventually(
      () => callGateway(t, secret),
      (r) => r.statusCode === 200,
      1000,
    );
    expect(back.value.statusCode).toBe(200);
  });

  it('org create prints the id and a one-time Admin invitation link that works', async () => {
    lines.length = 0;
    const code = await runCli(['org', 'create', '--name', 'Woodgrove Bank', '--admin-email', 'root@woodgrove.example', '--plan', 'standard'], io, t.config);
    expect(code).toBe(0);
    const orgId = lines.find((l) => l.startsWith('Organisation: '))!.slice('Organisation: '.length);
    expect(orgId).toMatch(/^org_/);
    const url = lines.find((l) => l.startsWith('http://portal.test/accept-invitation#token='))!;
    const token = invitationToken(url);
    const accepted = await t.app.inject({
      method: 'POST',
      url: '/api/invitations/accept',
      payload: { token, name: 'Root Admin', password: 'a very long passphrase' },
    });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({
      user: { role: 'admin', email: 'root@woodgrove.example' },
      organisation: { id: orgId, plan: 'standard', subscriptionStatus: 'active' },
    });
  });

  it('subscription set overrides limits per organisation', async () => {
    lines.length = 0;
    const code = await runCli(
      [
        'subscription',
        'set',
        '--org',
        admin.orgId,
        '--plan',
        'enterprise',
        '--requests-per-minute',
        '5000',
        '--document-actions',
        '100000',
        '--max-keys',
        'unlimited',
      ],
      io,
      t.config,
    );
    expect(code).toBe(0);
    const sub = (await t.app.inject({ method: 'GET', url: '/api/subscription', headers: { cookie: admin.cookie } })).json();
    expect(sub).toMatchObject({ plan: 'enterprise', limits: { requestsPerMinute: 5000, documentActionsPerMonth: 100000, maxKeys: null } });

    // "plan" drops an override: the plan's own value holds again; the other overrides stay.
    const enterprise = DEFAULT_PLANS.find((plan) => plan.id === 'enterprise')!;
    expect(await runCli(['subscription', 'set', '--org', admin.orgId, '--max-keys', 'plan', '--requests-per-minute', 'plan'], io, t.config)).toBe(0);
    const restored = (await t.app.inject({ method: 'GET', url: '/api/subscription', headers: { cookie: admin.cookie } })).json();
    expect(restored.limits).toMatchObject({
      maxKeys: enterprise.maxKeys,
      requestsPerMinute: enterprise.requestsPerMinute,
      documentActionsPerMonth: 100000,
    });
    expect(restored.limits.requestsPerMinute).not.toBe(5000);
  });

  it('keys list shows masked keys, owner and status, a page at a time', async () => {
    lines.length = 0;
    expect(await runCli(['keys', 'list', '--org', admin.orgId, '--limit', '1'], io, t.config)).toBe(0);
    expect(lines[0]).toBe('ID\tNAME\tKEY\tSTATUS\tOWNER\tCREATED\tLAST USED');
    expect(lines[1]).toMatch(/^key_\S+\tprod-cli-\S+\tbdoc_\w{4}…\w{4}\t(active|revoked)\t/);
    expect(lines.at(-1)).toMatch(/^Showing 1–1 of 2 key\(s\); next page: --offset 1\.$/);
  });

  it('org list shows every organisation once, oldest first, with its plan and active members, a page at a time by cursor', async () => {
    const tailspin = await signup(t, 'Tailspin Toys', undefined, { plan: 'standard' });
    await addMember(t, tailspin, 'viewer');
    const member = await addMember(t, tailspin, 'member');
    expect((await t.app.inject({ method: 'POST', url: `/api/members/${member.userId}/deactivate`, headers: { cookie: tailspin.cookie } })).statusCode).toBe(
      200,
    );
    const litware = await signup(t, 'Litware', undefined, { plan: 'free' });

    const rows: string[][] = [];
    const pages: string[][] = [];
    let args = ['org', 'list', '--limit', '2'];
    for (let page = 0; page < 20; page++) {
      lines.length = 0;
      expect(await runCli(args, io, t.config), args.join(' ')).toBe(0);
      expect(lines[0]).toBe('ID\tNAME\tPLAN\tMEMBERS\tCREATED');
      const body = lines.slice(1, -1).map((line) => line.split('\t'));
      expect(body.length).toBeLessThanOrEqual(2);
      rows.push(...body);
      pages.push(body.map(([id]) => id!));
      const next = lines.at(-1)!.match(/; next page: --cursor (org_\w+)\.$/);
      if (!next) {
        expect(lines.at(-1)).toMatch(/^\d+ organisation\(s\); that is all\.$/);
        break;
      }
      args = ['org', 'list', '--limit', '2', '--cursor', next[1]!];
    }
    const ids = rows.map(([id]) => id!);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ids).size).toBe(ids.length);
    // Oldest first (ids sort by creation time), and the last two made are last.
    expect(ids).toEqual([...ids].sort());
    expect(ids.slice(-2)).toEqual([tailspin.orgId, litware.orgId]);
    expect(ids).toContain(admin.orgId);
    const row = (orgId: string) => rows.find(([id]) => id === orgId)!;
    // The deactivated member does not count: the Admin and the viewer do.
    expect(row(tailspin.orgId).slice(1, 4)).toEqual(['Tailspin Toys', 'standard', '2']);
    expect(row(litware.orgId).slice(1, 4)).toEqual(['Litware', 'free', '1']);
    expect(Number.isNaN(Date.parse(row(litware.orgId)[4]!))).toBe(false);

    // The real command, in its own process, against the same database.
    const listed = await cliProcess(['org', 'list', '--limit', '1000'], t);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .slice(1, -1)
        .map((line) => line.split('\t')[0]),
    ).toEqual(ids);
  });

  it('org list keeps a name stored before control characters were refused on its one line, each control a space', async () => {
    const old = await signup(t, 'Northwind');
    // Written as an earlier version could store it: a tab and a line break inside the name.
    await t.services.db.updateTable('organisations').set({ name: 'North\twind\nTraders' }).where('id', '=', old.orgId).execute();
    lines.length = 0;
    expect(await runCli(['org', 'list', '--limit', '1000'], io, t.config)).toBe(0);
    const row = lines.find((line) => line.startsWith(`${old.orgId}\t`))!;
    expect(row.split('\t')).toHaveLength(5);
    expect(row.split('\t')[1]).toBe('North wind Traders');
  });

  it('fails with a one-line reason and a non-zero exit code', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['keys', 'revoke', '--id', 'key_missing'], 1, /No key with id key_missing/],
      [['keys', 'revoke'], 2, /--id is required/],
      [['subscription', 'set', '--org', admin.orgId, '--status', 'gone'], 2, /--status must be one of/],
      [['subscription', 'set', '--org', admin.orgId, '--plan', 'platinum'], 1, /Unknown plan "platinum"/],
      [['subscription', 'set', '--org', admin.orgId, '--max-keys', 'many'], 2, /--max-keys must be a whole number/],
      [['org', 'create', '--name', 'X'], 2, /--admin-email is required/],
      [['org', 'create', '--name', 'Bad\u001bName', '--admin-email', 'esc@example.com'], 2, /--name must not contain the control character U\+001B/],
      [['org', 'create', '--name', '\u200b\u2060', '--admin-email', 'zw@example.com'], 2, /--name must contain a visible character/],
      [['org', 'create', '--name', 'Contoso\u202e dtL', '--admin-email', 'bidi@example.com'], 2, /--name must not contain the bidirectional control U\+202E/],
      [['org', 'create', '--name', 'X', '--admin-email', 'not-an-email'], 1, /"not-an-email" is not an email address/],
      [['frobnicate'], 2, /unknown command/],
      [['org', 'list', '--limit', '0'], 2, /--limit must be between 1 and 1000/],
      [['org', 'list', '--cursor', "x'; drop table organisations"], 2, /--cursor must be the org_… id/],
      [['keys', 'list', '--org', admin.orgId, '--bogus'], 2, /Unknown option '--bogus'/],
    ];
    for (const [args, exit, message] of cases) {
      errors.length = 0;
      expect(await runCli(args, io, t.config), args.join(' ')).toBe(exit);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
    }
  });

  it('a bad configuration value stops with a message naming the variable', async () => {
    const bad = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'migrate'], {
        cwd: ROOT,
        env: { ...process.env, PORT: 'eighty' },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe('error: PORT must be a whole number, got "eighty"');
  });
});
