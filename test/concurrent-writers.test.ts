import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signup, startTestApp, type TestApp } from './support/harness.js';
import { onPostgres } from './support/postgres.js';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('concurrent writers', () => {
  let current: TestApp | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  it('concurrent key creations cannot pass the plan key limit', async () => {
    const t = await startTestApp();
    current = t;
    const owner = await signup(t, 'Race Ltd', undefined, { plan: 'free' });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie: owner.cookie }, payload: { name: `prod-race-${i}-ops` } }),
      ),
    );
    const statuses = answers.map((a) => a.statusCode).sort();
    // Free allows 2 live keys: two are created, every other creation is refused with the limit.
    expect(statuses).toEqual([201, 201, ...Array(10).fill(403)]);
    for (const refused of answers.filter((a) => a.statusCode === 403)) expect(refused.json().code).toBe('key_limit_reached');
    const list = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { cookie: owner.cookie } });
    expect(list.json().total).toBe(2);
  });

  if (!onPostgres) {
    it('two processes writing to one SQLite file: no SQLITE_BUSY, every write lands', async () => {
      const t = await startTestApp();
      current = t;
      const owner = await signup(t, 'Two Writers Ltd');
      const writer = new Promise<{ ok: number; failed: string[] }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/sqlite-writer.ts'), t.dataDir, owner.orgId, '150'], {
          cwd: ROOT,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`writer exited ${code}: ${stderr}`))));
      });
      // Meanwhile this process creates and revokes keys (each a write transaction), several at once.
      const statuses: number[] = [];
      let done = false;
      void writer.finally(() => (done = true)).catch(() => {});
      const loops = Array.from({ length: 3 }, async (_, n) => {
        for (let i = 0; !done || i < 10; i++) {
          const created = await t.app.inject({
            method: 'POST',
            url: '/api/keys',
            headers: { cookie: owner.cookie },
            payload: { name: `prod-writer-${n}-${i}-ops` },
          });
          statuses.push(created.statusCode);
          if (created.statusCode !== 201) continue;
          const revoked = await t.app.inject({ method: 'POST', url: `/api/keys/${created.json().key.id}/revoke`, headers: { cookie: owner.cookie } });
          statuses.push(revoked.statusCode);
        }
      });
      const [result] = await Promise.all([writer, ...loops]);
      expect(result).toEqual({ ok: 150, failed: [] });
      expect(statuses.length).toBeGreaterThanOrEqual(60);
      expect(statuses.filter((s) => s !== 201 && s !== 200)).toEqual([]);
      expect(t.logs.text).not.toMatch(/SQLITE_BUSY|database is locked/);
    });
  }
});
