/**
 * Gateway benchmark: how much does key verification cost compared with a route that does
 * nothing? Seeds 100,000 keys into a fresh SQLite database, starts the built server
 * (`dist/cli.js serve`) as a child process and runs five interleaved pairs of autocannon runs:
 * `GET /healthz` (no authentication) then `GET /v1/connection` with a valid key, cycling
 * through 1,000 known keys. Target: gateway throughput >= 90 % of the no-op's (median of the
 * per-pair ratios). Writes bench/results/gateway-<timestamp>.json.
 *
 * Run with `npm run bench` (builds first). Knobs for quick trials: BENCH_KEYS, BENCH_LOAD_KEYS,
 * BENCH_CONNECTIONS, BENCH_DURATION (s), BENCH_PAIRS; BENCH_SERVER_NODE_ARGS adds node flags to the
 * server only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOrganisation } from '../src/orgs/orgs.repository.js';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { NewApiKeyRow } from '../src/db/schema.js';
import { generateApiKey, keyDisplayParts } from '../src/keys/key-format.js';
import { systemClock } from '../src/lib/clock.js';
import { sha256Hex } from '../src/lib/hash.js';
import { newId } from '../src/lib/ids.js';

// autocannon ships no type declarations; this is the subset the benchmark uses.
interface AcRequest {
  method: 'GET';
  path: string;
  headers: Record<string, string>;
}
interface AcClient {
  setRequests(requests: AcRequest[]): void;
}
interface AcOptions {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  setupClient?: (client: AcClient) => void;
}
interface AcResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: AcOptions) => Promise<AcResult>;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const setting = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
};
const settings = {
  keys: setting('BENCH_KEYS', 100_000),
  loadKeys: setting('BENCH_LOAD_KEYS', 1_000),
  connections: setting('BENCH_CONNECTIONS', 50),
  pipelining: 1,
  durationSeconds: setting('BENCH_DURATION', 5),
  warmupSeconds: 2,
  pairs: setting('BENCH_PAIRS', 5),
  insertBatch: 500, // 500 rows x 21 columns stays well under SQLite's 32,766 bound parameters
  transactionSize: 10_000, // also the progress interval
  target: 0.9,
};

type Route = 'noop' | 'gateway';
interface Run {
  pair: number;
  route: Route;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  completed: number;
  statusCodes: Record<string, number>;
  serverCpuUsPerRequest: number | null;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b),
    mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const WIDTHS = [5, 9, 10, 9, 9, 8, 8, 12];
const row = (cells: Array<string | number | null>) =>
  log(cells.map((c, i) => (i < 2 ? String(c).padEnd(WIDTHS[i]!) : String(c ?? '-').padStart(WIDTHS[i]!))).join(''));

async function withDatabase<T>(dataDir: string, work: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const handle = openDatabase({ dataDir, databaseUrl: undefined });
  try {
    return await work(handle);
  } finally {
    await handle.db.destroy();
  }
}

/** Migrates a fresh database and inserts the keys the way KeysService.issue stores them (hash, start, last4). */
function seed(dataDir: string): Promise<string[]> {
  return withDatabase(dataDir, async (handle) => {
    await migrateToLatest(handle);
    const db = handle.db;
    const orgId = await db.transaction().execute((trx) => createOrganisation(trx, { clock: systemClock, newId }, 'Benchmark Ltd', 'enterprise'));
    // Enterprise limits the load never reaches: the feature and rate-limit checks (CONTRACT §4
    // checks 9–10) run on every request but never refuse. CheckConnection is not billed, so it
    // takes no quota place (check 11 applies to document and utility actions).
    const unreachable = { requestsPerMinute: 1_000_000_000, documentActionsPerMonth: 1_000_000_000, utilityActionsPerMonth: 1_000_000_000 };
    await db
      .updateTable('subscriptions')
      .set({ overrides: JSON.stringify(unreachable) })
      .where('orgId', '=', orgId)
      .execute();

    const loadKeys: string[] = [];
    const started = performance.now();
    const createdAt = systemClock.now().toISOString();
    const every = Math.max(1, Math.floor(settings.keys / settings.loadKeys));
    let seeded = 0;
    while (seeded < settings.keys) {
      const end = Math.min(seeded + settings.transactionSize, settings.keys);
      await db.transaction().execute(async (trx) => {
        while (seeded < end) {
          const rows: NewApiKeyRow[] = [];
          for (const stop = Math.min(seeded + settings.insertBatch, end); seeded < stop; seeded++) {
            const secret = generateApiKey();
            // Spread the load keys over the whole table rather than taking the first 1,000.
            if (seeded % every === 0 && loadKeys.length < settings.loadKeys) loadKeys.push(secret);
            rows.push({
              id: newId('key'),
              orgId,
              name: `bench-key-${seeded}`,
              hash: sha256Hex(secret),
              ...keyDisplayParts(secret),
              status: 'active',
              environment: 'test',
              team: null,
              createdAt,
              createdBy: null,
              expiresAt: null,
              lastUsedAt: null,
              suspendedAt: null,
              revokedAt: null,
              revokedBy: null,
              deletedAt: null,
              replacesKeyId: null,
              replacedByKeyId: null,
              graceEndsAt: null,
              expiryRecordedAt: null,
            });
          }
          await trx.insertInto('apiKeys').values(rows).execute();
        }
      });
      log(`  seeded ${seeded.toLocaleString('en')} / ${settings.keys.toLocaleString('en')} keys (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
    return loadKeys;
  });
}

/** What the server recorded for the benchmark's keys, read after shutdown (proves the final flush). */
const recordedUsage = (dataDir: string): Promise<number> =>
  withDatabase(dataDir, async ({ db }) => {
    const row = await db
      .selectFrom('keyUsageDaily')
      .select((eb) => eb.fn.sum<number>('count').as('total'))
      .where('operation', '=', 'CheckConnection')
      .where('outcome', '=', 'success')
      .executeTakeFirst();
    return Number(row?.total ?? 0);
  });

/**
 * The server's CPU time in ms (utime + stime from /proc, Linux only; USER_HZ is 100). CPU per
 * request does not depend on whether the load generator, sharing the machine, was the bottleneck.
 */
function serverCpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForHealth(base: string, exited: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if (exited()) throw new Error('the server exited before it became healthy (see its output above)');
    const status = await fetch(`${base}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the server did not answer GET /healthz = 200 within 30 s');
}

/** One autocannon run; the gateway's connections each start at a different key so all keys stay in use. */
async function load(base: string, route: Route, keys: string[], seconds: number): Promise<AcResult> {
  const requests: AcRequest[] = keys.map((key) => ({ method: 'GET', path: '/v1/connection', headers: { 'x-api-key': key } }));
  let client = 0;
  const stride = Math.max(1, Math.floor(keys.length / settings.connections));
  return autocannon({
    url: `${base}${route === 'noop' ? '/healthz' : '/v1/connection'}`,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: seconds,
    ...(route === 'gateway' && {
      setupClient: (c: AcClient) => {
        const offset = (client++ * stride) % requests.length;
        c.setRequests([...requests.slice(offset), ...requests.slice(0, offset)]);
      },
    }),
  });
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bdoc-bench-'));
  let server: ReturnType<typeof spawn> | undefined;
  try {
    log(`Seeding ${settings.keys.toLocaleString('en')} API keys into ${dataDir} …`);
    const loadKeys = await seed(dataDir);

    const base = `http://127.0.0.1:${await freePort()}`;
    const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    server = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/cli.js'), 'serve'], {
      cwd: ROOT,
      // DATABASE_URL is blanked (also over a .env): the keys were seeded into SQLite in DATA_DIR.
      env: { ...process.env, DATA_DIR: dataDir, PORT: new URL(base).port, HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: '' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const child = server;
    const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    log(`Starting the server on ${base} …`);
    await waitForHealth(base, () => child.exitCode !== null || child.signalCode !== null);

    // Touch every load key once: proves the seeded keys verify, and fills the key cache before timing.
    log(`Priming the key cache with ${loadKeys.length} keys, then warming up each route for ${settings.warmupSeconds} s …`);
    for (let i = 0; i < loadKeys.length; i += 25) {
      const statuses = await Promise.all(
        loadKeys.slice(i, i + 25).map((key) => fetch(`${base}/v1/connection`, { headers: { 'x-api-key': key } }).then((r) => r.status)),
      );
      const bad = statuses.find((s) => s !== 200);
      if (bad) throw new Error(`GET /v1/connection answered ${bad} for a seeded key`);
    }
    // The plan checks must be part of what is measured: a limited answer carries RateLimit-* headers.
    const checked = await fetch(`${base}/v1/connection`, { headers: { 'x-api-key': loadKeys[0]! } });
    if (!checked.headers.get('ratelimit-limit')) throw new Error('GET /v1/connection answered without RateLimit headers: the rate limiter did not run');
    await load(base, 'noop', loadKeys, settings.warmupSeconds);
    let gatewayOk = loadKeys.length + 1 + ((await load(base, 'gateway', loadKeys, settings.warmupSeconds)).statusCodeStats['200']?.count ?? 0);

    const runs: Run[] = [];
    log('');
    row(['pair', 'route', 'req/s', 'p50 ms', 'p99 ms', 'non2xx', 'errors', 'cpu µs/req']);
    for (let pair = 1; pair <= settings.pairs; pair++) {
      for (const route of ['noop', 'gateway'] as const) {
        const cpuBefore = serverCpuMs(child.pid);
        const r = await load(base, route, loadKeys, settings.durationSeconds);
        const cpuAfter = serverCpuMs(child.pid);
        const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count]));
        const run: Run = {
          pair,
          route,
          requestsPerSecond: round(r.requests.average),
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          non2xx: r.non2xx,
          errors: r.errors + r.timeouts,
          completed: r.requests.total,
          statusCodes,
          serverCpuUsPerRequest: cpuBefore === null || cpuAfter === null ? null : round(((cpuAfter - cpuBefore) * 1000) / r.requests.total, 1),
        };
        if (route === 'gateway') gatewayOk += statusCodes['200'] ?? 0;
        runs.push(run);
        row([`${pair}/${settings.pairs}`, route, run.requestsPerSecond.toFixed(0), run.p50Ms, run.p99Ms, run.non2xx, run.errors, run.serverCpuUsPerRequest]);
      }
    }

    log('\nStopping the server (SIGTERM) …');
    child.kill('SIGTERM');
    const [code, signal] = await exit;
    const recorded = await recordedUsage(dataDir);

    const of = (route: Route) => runs.filter((r) => r.route === route);
    const med = (route: Route, field: 'requestsPerSecond' | 'p99Ms' | 'serverCpuUsPerRequest') => {
      const values = of(route).flatMap((r) => (r[field] === null ? [] : [r[field]]));
      return values.length ? round(median(values), 1) : null;
    };
    const ratios = of('gateway').map((g, i) => round(g.requestsPerSecond / of('noop')[i]!.requestsPerSecond, 3));
    const summary = {
      noopRequestsPerSecondMedian: med('noop', 'requestsPerSecond')!,
      gatewayRequestsPerSecondMedian: med('gateway', 'requestsPerSecond')!,
      noopP99MsMedian: med('noop', 'p99Ms'),
      gatewayP99MsMedian: med('gateway', 'p99Ms'),
      noopCpuUsPerRequestMedian: med('noop', 'serverCpuUsPerRequest'),
      gatewayCpuUsPerRequestMedian: med('gateway', 'serverCpuUsPerRequest'),
      ratios,
      medianRatio: round(median(ratios), 3),
      target: settings.target,
      targetMet: median(ratios) >= settings.target,
      failedRuns: runs.filter((r) => r.non2xx > 0 || r.errors > 0).length,
      serverExit: { code, signal },
      usage: { gatewayResponsesCounted: gatewayOk, successesRecorded: recorded },
      wallSeconds: round((Date.now() - startedAt.getTime()) / 1000, 1),
    };
    const cpus = os.cpus();
    const machine = {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      node: process.version,
    };
    mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
    const file = path.join(ROOT, 'bench/results', `gateway-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), machine, settings, runs, summary }, null, 2)}\n`);

    const s = summary;
    log(`\nThroughput (median): no-op ${s.noopRequestsPerSecondMedian.toFixed(0)} req/s, gateway ${s.gatewayRequestsPerSecondMedian.toFixed(0)} req/s`);
    log(`p99 latency (median): no-op ${s.noopP99MsMedian} ms, gateway ${s.gatewayP99MsMedian} ms`);
    if (s.noopCpuUsPerRequestMedian && s.gatewayCpuUsPerRequestMedian) {
      log(
        `Server CPU per request (median): no-op ${s.noopCpuUsPerRequestMedian} µs, gateway ${s.gatewayCpuUsPerRequestMedian} µs (ratio ${(s.noopCpuUsPerRequestMedian / s.gatewayCpuUsPerRequestMedian).toFixed(3)})`,
      );
    }
    log(`Ratio gateway/no-op per pair: ${ratios.join(', ')}; median ${s.medianRatio} — target >= ${settings.target} ${s.targetMet ? 'MET' : 'NOT MET'}`);
    log(`Usage recorded after shutdown: ${recorded} successful CheckConnection calls for ${gatewayOk} 200 responses the client counted`);
    log(`Results written to ${path.relative(ROOT, file)} (${s.wallSeconds} s in all)`);

    const problems: string[] = [];
    if (s.failedRuns > 0) problems.push(`${s.failedRuns} run(s) had non-2xx responses or socket errors`);
    if (code !== 0) problems.push(`the server exited with ${code ?? signal} after SIGTERM, not 0`);
    // The server may count a few more than the client (responses in flight when a run stopped), never fewer.
    if (recorded < gatewayOk) problems.push('the server recorded less usage than the client counted: the shutdown flush lost counts');
    for (const problem of problems) log(`FAILED: ${problem}`);
    return problems.length > 0 ? 1 : 0;
  } finally {
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
