import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_WEBHOOK_SECRET_KEY } from './support/harness.js';
import { createTestDatabase } from './support/postgres.js';
import { REDIS_URL } from './support/redis-proxy.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Starts `build-a-doc serve` as an operator would and waits for it to exit. */
function serve(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'serve'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A TCP server that accepts connections and never says a word (a hung server, a wrong port behind a proxy). */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('start-up errors name what to fix, in one line, and exit 1', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'bdoc-startup-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('an unreachable DATABASE_URL: the address (without the password) and the variable', async () => {
    const result = await serve({ DATABASE_URL: 'postgres://app:s3cret-pass@127.0.0.1:1/portal', DATA_DIR: scratch });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: cannot reach the database at postgres:\/\/127\.0\.0\.1:1\/portal \(DATABASE_URL\): .*ECONNREFUSED/),
    ]);
    expect(result.stderr + result.stdout).not.toContain('s3cret-pass');
  });

  it('a DATABASE_URL that accepts the connection and never answers: the timeout and its variable, not "terminated unexpectedly"', async () => {
    const silent = await silentServer();
    try {
      const result = await serve({
        DATABASE_URL: `postgres://app:s3cret-pass@127.0.0.1:${silent.port}/portal`,
        DATABASE_CONNECT_TIMEOUT_MS: '300',
        DATA_DIR: scratch,
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `error: cannot reach the database at postgres://127.0.0.1:${silent.port}/portal (DATABASE_URL): no answer within 300 ms (DATABASE_CONNECT_TIMEOUT_MS)`,
      ]);
    } finally {
      await silent.close();
    }
  });

  it('a database that does not exist on a reachable server', async () => {
    const result = await serve({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/bdoc_no_such_database', DATA_DIR: scratch });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'error: cannot reach the database at postgres://127.0.0.1:5432/bdoc_no_such_database (DATABASE_URL): 3D000: database "bdoc_no_such_database" does not exist',
    ]);
  });

  it('an unreachable REDIS_URL, after the migrations ran: the variable, and the process exits by itself', async () => {
    const database = await createTestDatabase('startup_redis');
    try {
      const result = await serve({
        DATABASE_URL: database.url,
        DATA_DIR: scratch,
        WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY,
        REDIS_URL: 'redis://127.0.0.1:1',
        REDIS_TIMEOUT_MS: '100',
      });
      // Killed by the watchdog (code null) if the opened database pool kept it alive.
      expect(result.code).toBe(1);
      // The socket's own error, not ioredis's "Connection is closed." that it rejects with whatever happened.
      expect(result.stderr.trim().split('\n')).toEqual(['error: REDIS_URL: Redis is unreachable (connect ECONNREFUSED 127.0.0.1:1)']);
    } finally {
      await database.drop();
    }
  });

  it("an unreachable DATABASE_LISTEN_URL (the event listener's direct connection): that variable, not DATABASE_URL, and without the password", async () => {
    const database = await createTestDatabase('startup_listen_url');
    try {
      const result = await serve({
        DATABASE_URL: database.url,
        DATABASE_LISTEN_URL: 'postgres://app:s3cret-pass@127.0.0.1:1/portal',
        DATA_DIR: scratch,
        WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY,
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^error: cannot reach the database at postgres:\/\/127\.0\.0\.1:1\/portal \(DATABASE_LISTEN_URL\): .*ECONNREFUSED/),
      ]);
      expect(result.stderr + result.stdout).not.toContain('s3cret-pass');
    } finally {
      await database.drop();
    }
  });

  it('a REDIS_URL that accepts the connection and never answers: said so, and the process exits by itself', async () => {
    const database = await createTestDatabase('startup_redis_silent');
    const silent = await silentServer();
    try {
      const result = await serve({
        DATABASE_URL: database.url,
        DATA_DIR: scratch,
        WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY,
        REDIS_URL: `redis://127.0.0.1:${silent.port}`,
        REDIS_TIMEOUT_MS: '100',
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual(['error: REDIS_URL: Redis is unreachable (it accepted the connection but did not answer)']);
    } finally {
      await silent.close();
      await database.drop();
    }
  });

  it('a PORT in use, on a node of several (PostgreSQL, Redis): the address and the variable, and the process exits by itself', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const database = await createTestDatabase('startup_port');
    try {
      const port = (taken.address() as net.AddressInfo).port;
      // By the time it listens, the node has opened its pool, Redis connection, workers and timers.
      const result = await serve({
        DATABASE_URL: database.url,
        DATA_DIR: path.join(scratch, 'port'),
        WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY,
        REDIS_URL,
        REDIS_PREFIX: `bdoc-test-startup-${process.pid}:`,
        HOST: '127.0.0.1',
        PORT: String(port),
      });
      // Killed by the watchdog (code null) if what the app had started kept it alive.
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([`error: PORT: 127.0.0.1:${port} is already in use by another process; stop it or choose another PORT`]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      await database.drop();
    }
  });

  it('a HOST that is not an address of this machine', async () => {
    const result = await serve({ DATA_DIR: path.join(scratch, 'host'), HOST: '192.0.2.1' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'error: HOST: 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL); set HOST to one of its addresses, or 0.0.0.0',
    ]);
  });

  it("a DATA_DIR under /proc: the path and the variable, at once (Node's recursive mkdir never returned there)", async () => {
    const dataDir = `/proc/bdoc-data-${process.pid}/data`;
    const result = await serve({ DATA_DIR: dataDir });
    // Killed by the watchdog (code null) if the folder was still being made.
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([`error: cannot write the database folder ${dataDir} (DATA_DIR): ENOENT`]);
  });

  it('with PostgreSQL too, a DATA_DIR that cannot be written: its path, what it keeps, and the variable', async () => {
    const file = path.join(scratch, 'not-a-folder');
    writeFileSync(file, 'not a folder');
    const database = await createTestDatabase('startup_data_dir');
    try {
      const result = await serve({ DATABASE_URL: database.url, DATA_DIR: file, WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `error: cannot write the data folder (usage kept at shutdown, mail without SMTP_URL) ${file} (DATA_DIR): ENOTDIR`,
      ]);
    } finally {
      await database.drop();
    }
  });

  it('a DATA_DIR that cannot hold the database: its path and the variable', async () => {
    const file = path.join(scratch, 'a-file');
    writeFileSync(file, 'not a folder');
    const result = await serve({ DATA_DIR: path.join(file, 'data') });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([`error: cannot write the database folder ${path.join(file, 'data')} (DATA_DIR): ENOTDIR`]);
  });
});
