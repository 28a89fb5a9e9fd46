import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { loadConfig } from '../../src/config.js';
import { freePort } from './processes.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ClusterNode {
  /** Base URL of the node, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The process id (benchmarks read its CPU time). */
  pid: number | undefined;
  /** What the process wrote, for failure messages. */
  output(): string;
  /** SIGTERM, waits for the exit; answers the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, waits for the exit. */
  kill(): Promise<void>;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * Starts a real server process (`build-a-doc serve` from the sources) on its own port and data
 * folder, sharing `databaseUrl` with the other nodes; resolves once it answers /healthz.
 */
export async function startNode(options: {
  databaseUrl: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** `source` (default) runs src/cli.ts through tsx; `built` runs dist/cli.js (benchmarks, after `npm run build:server`). */
  entry?: 'source' | 'built';
  /** Node flags for the server process only (e.g. to profile it). */
  nodeArgs?: string[];
  /** Another server than `serve`, as node arguments (the benchmarks' framework floor); it must answer /healthz. */
  script?: string[];
}): Promise<ClusterNode> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bdoc-node-'));
  const url = `http://127.0.0.1:${port}`;
  const args = options.script ?? (options.entry === 'built' ? ['dist/cli.js', 'serve'] : ['--import', 'tsx', 'src/cli.ts', 'serve']);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: url,
      DATA_DIR: dataDir,
      DATABASE_URL: options.databaseUrl,
      WEBHOOK_SECRET_KEY: process.env.WEBHOOK_SECRET_KEY ?? '',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const done = exited(child).finally(() => rmSync(dataDir, { recursive: true, force: true }));

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the node exited with ${child.exitCode} before it was ready:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the node was not ready in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    pid: child.pid,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      return done;
    },
    async kill() {
      child.kill('SIGKILL');
      await done;
    },
  };
}

/** The gateway's answer to a key on a node (`GET /v1/connection`): the status code. */
export async function gatewayStatus(url: string, secret: string): Promise<number> {
  const response = await fetch(`${url}/v1/connection`, { headers: { 'x-api-key': secret } });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Asks the node about the key every `everyMs` until `wanted(status)` holds; answers how long
 * that took in milliseconds, or null when it did not happen within `withinMs`.
 */
export async function timeUntil(url: string, secret: string, wanted: (status: number) => boolean, withinMs: number, everyMs = 2): Promise<number | null> {
  const start = performance.now();
  for (;;) {
    if (wanted(await gatewayStatus(url, secret))) return performance.now() - start;
    if (performance.now() - start > withinMs) return null;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** A signed-in Admin of a new organisation on a node, with the operator's Enterprise-size limits. */
export interface ClusterAdmin {
  orgId: string;
  cookie: string;
  email: string;
}

export async function signupOn(url: string, organisation: string): Promise<ClusterAdmin> {
  const email = `admin-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`;
  const response = await fetch(`${url}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery staple', name: 'Ada Admin', organisation }),
  });
  if (response.status !== 201) throw new Error(`signup failed: ${response.status} ${await response.text()}`);
  const cookie = (response.headers.getSetCookie().find((c) => c.startsWith('bdoc_session=')) ?? '').split(';')[0]!;
  return { orgId: ((await response.json()) as { organisation: { id: string } }).organisation.id, cookie, email };
}

/** Calls the management API of a node as `admin`; answers status and JSON body. */
export async function manage(url: string, admin: ClusterAdmin, method: string, route: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { cookie: admin.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

/** The operator sets an organisation's subscription from the CLI (`subscription set --org ID …flags`). */
export async function setSubscription(databaseUrl: string, orgId: string, flags: string[]): Promise<void> {
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  const code = await runCli(['subscription', 'set', '--org', orgId, ...flags], io, loadConfig({ DATABASE_URL: databaseUrl }));
  if (code !== 0) throw new Error(`subscription set failed: ${lines.join('\n')}`);
}

/** The operator lifts the organisation's limits, so polling never meets a rate limit or key limit. */
export function liftLimits(databaseUrl: string, orgId: string): Promise<void> {
  return setSubscription(databaseUrl, orgId, ['--plan', 'enterprise', '--requests-per-minute', 'unlimited', '--max-keys', 'unlimited']);
}
