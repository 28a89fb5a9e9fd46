import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { freePort } from './support/processes.js';
import { PASSWORD } from './support/harness.js';
import { createTestDatabase, onPostgres, type TestDatabase } from './support/postgres.js';

const ROOT = path.resolve(import.meta.dirname, '..');

interface Answer {
  status: number;
  connection: string | undefined;
}

/** One request on a keep-alive agent; resolves with the status or rejects with the socket error. */
function get(agent: http.Agent, port: number, secret: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/v1/connection', agent, headers: { 'x-api-key': secret } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

describe('SIGTERM with keep-alive clients', () => {
  let child: ChildProcess | undefined;
  let database: TestDatabase | undefined;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bdoc-shutdown-'));
  afterAll(async () => {
    child?.kill('SIGKILL');
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every connection is closed by the server after a complete response: no ECONNRESET, exit 0, every answered request counted', async () => {
    database = onPostgres ? await createTestDatabase('shutdown') : undefined;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let output = '';
    child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        DATABASE_URL: database?.url ?? '',
        PORT: String(port),
        PUBLIC_URL: base,
        LOG_LEVEL: 'warn',
        SHUTDOWN_DRAIN_MS: '1500',
        USAGE_FLUSH_MS: '1000',
      },
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exit = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    for (let i = 0; ; i++) {
      if (
        await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 300) throw new Error(`server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const signup = await fetch(`${base}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'drain@example.com', password: PASSWORD, name: 'Drain', organisation: 'Drain Ltd' }),
    });
    const cookie = signup.headers.get('set-cookie')!.split(';')[0]!;
    const created = await fetch(`${base}/api/keys`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'prod-drain-flow-ops' }),
    });
    const { key, secret } = (await created.json()) as { key: { id: string }; secret: string };

    // Six clients, each on its own keep-alive connection, sending one request after another,
    // until the server says it closes the connection (as a load balancer, the node is leaving).
    const failures: string[] = [];
    let answered = 0;
    let closedByServer = 0;
    const client = async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (;;) {
          const answer = await get(agent, port, secret);
          // A new organisation is on Free (60 requests a minute): 429 is a complete answer too.
          if (answer.status === 200) answered++;
          else if (answer.status !== 429) failures.push(`status ${answer.status}`);
          if (answer.connection === 'close') {
            closedByServer++;
            return;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      } catch (error) {
        failures.push((error as NodeJS.ErrnoException).code ?? String(error));
      } finally {
        agent.destroy();
      }
    };
    const clients = Array.from({ length: 6 }, client);
    await new Promise((r) => setTimeout(r, 400));
    const readyBefore = await fetch(`${base}/readyz`);
    expect(readyBefore.status).toBe(200);
    child.kill('SIGTERM');
    // The node says it is draining as soon as it has the signal (on a busy machine, not within a set time).
    let readyDuring = await fetch(`${base}/readyz`);
    for (const until = Date.now() + 5_000; readyDuring.status === 200 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 20));
      readyDuring = await fetch(`${base}/readyz`);
    }
    expect(readyDuring.status).toBe(503);
    expect(readyDuring.headers.get('connection')).toBe('close');
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(closedByServer).toBe(6);
    expect(answered).toBeGreaterThan(6);
    expect(await exit).toBe(0);

    const { db } = openDatabase({ dataDir, databaseUrl: database?.url });
    try {
      const rows = await db.selectFrom('keyUsageDaily').select(['outcome', 'count']).where('keyId', '=', key.id).where('outcome', '=', 'success').execute();
      expect(rows).toEqual([{ outcome: 'success', count: answered }]);
    } finally {
      await db.destroy();
    }
  });
});
