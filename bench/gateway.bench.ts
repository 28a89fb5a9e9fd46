/**
 * Gateway benchmark: how much does key verification cost compared with a route that does
 * nothing? Seeds 100,000 keys into a fresh SQLite database, starts the built server
 * (`dist/cli.js serve`) and the framework floor (`bench/floor-server.ts`: the same HTTP shell
 * answering CheckConnection's answer with no checks) as child processes, and runs interleaved
 * pairs of autocannon runs on each: `GET /healthz` (no authentication) then `GET /v1/connection`
 * with a valid key, cycling through 1,000 known keys. Target: gateway throughput >= 90 % of the
 * no-op's (median of the per-pair ratios); the floor's ratio is the most any gateway on this
 * shell reaches on the machine. Writes bench/results/gateway-<timestamp>.json.
 *
 * Run with `npm run bench` (builds first). Knobs for quick trials: BENCH_KEYS, BENCH_LOAD_KEYS,
 * BENCH_CONNECTIONS, BENCH_DURATION (s), BENCH_PAIRS; BENCH_SERVER_NODE_ARGS adds node flags to the
 * server only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it). BENCH_ORGS spreads the
 * keys over that many organisations, each with a billing period of its own (as a paid subscription
 * has), so consecutive requests come from different tenants. BENCH_FLOWS=1 sends every request
 * (both routes) with the headers of a Power Automate flow, one flow per key. BENCH_BASELINE names a checkout of
 * another version, built (`<dir>/dist/cli.js`): it runs as a third setup in the same interleaved
 * pairs, on its own copy of the seeded database, so two versions are compared side by side.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { NewApiKeyRow } from '../src/db/schema.js';
import { generateApiKey } from '../src/keys/key-format.js';
import { systemClock } from '../src/lib/clock.js';
import { type ClusterNode, startNode } from '../test/support/cluster.js';
import { benchKeyRow, createBenchOrganisations, measureThroughput, primeKeys } from './cluster.bench.js';
import { commitOf, median, round } from './load.js';

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
  durationSeconds: setting('BENCH_DURATION', 2),
  warmupSeconds: 2,
  pairs: setting('BENCH_PAIRS', 15),
  orgs: setting('BENCH_ORGS', 1),
  /** Every request carries the headers of a flow (one per key), as Power Automate's calls do. */
  flows: process.env.BENCH_FLOWS === '1',
  insertBatch: 500, // 500 rows x 21 columns stays well under SQLite's 32,766 bound parameters
  transactionSize: 10_000, // also the progress interval
  target: 0.9,
};

const log = (line: string) => process.stdout.write(`${line}\n`);
const baseline = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE, 'dist/cli.js') : undefined;
if (baseline && !existsSync(baseline)) throw new Error(`BENCH_BASELINE: ${baseline} does not exist (build that checkout first)`);
/** Which version the baseline is, for the results file: its commit when it is a git checkout. */
function baselineVersion(): { dir: string; commit: string | null } | undefined {
  if (!baseline) return undefined;
  const dir = path.dirname(path.dirname(baseline));
  return { dir, commit: commitOf(dir) };
}
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
    // Enterprise limits the load never reaches: the feature and rate-limit checks (CONTRACT §4
    // checks 9–10) run on every request but never refuse. CheckConnection is not billed, so it
    // takes no quota place (check 11 applies to document and utility actions). With several
    // organisations, each has a period of its own (a paid subscription's), begun on a different day.
    const orgIds = await createBenchOrganisations(db, settings.orgs, settings.orgs > 1);

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
            // The load's consecutive keys (one in `every`) belong to different organisations.
            rows.push(benchKeyRow(orgIds[Math.floor(seeded / every) % orgIds.length]!, `bench-key-${seeded}`, secret, createdAt));
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

async function main(): Promise<number> {
  const startedAt = new Date();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bdoc-bench-'));
  const nodes: ClusterNode[] = [];
  const baselineDir = baseline ? mkdtempSync(path.join(os.tmpdir(), 'bdoc-bench-baseline-')) : undefined;
  try {
    log(`Seeding ${settings.keys.toLocaleString('en')} API keys into ${dataDir} …`);
    const loadKeys = await seed(dataDir);

    log('Starting the server (SQLite) and the framework floor …');
    const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // DATABASE_URL is blank: the keys were seeded into SQLite in DATA_DIR.
    const server = await startNode({ databaseUrl: '', entry: 'built', nodeArgs, env: { DATA_DIR: dataDir } });
    nodes.push(server);
    const floor = await startNode({ databaseUrl: '', script: ['--import', 'tsx', 'bench/floor-server.ts'] });
    nodes.push(floor);
    let other: ClusterNode | undefined;
    if (baseline && baselineDir) {
      log(`Starting the baseline build ${path.relative(ROOT, baseline) || baseline} on a copy of the database …`);
      cpSync(dataDir, baselineDir, { recursive: true });
      // BENCH_BASELINE_ENV ("NAME=value NAME=value"): settings for the baseline server only, so one
      // build can be compared with itself under other settings (e.g. USAGE_FLUSH_MS).
      const baselineEnv = Object.fromEntries(
        (process.env.BENCH_BASELINE_ENV ?? '')
          .split(' ')
          .filter(Boolean)
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
      other = await startNode({ databaseUrl: '', nodeArgs, script: [baseline, 'serve'], env: { DATA_DIR: baselineDir, ...baselineEnv } });
      nodes.push(other);
    }

    log(`Priming the key cache with ${loadKeys.length} keys; ${settings.pairs} interleaved pairs of ${settings.durationSeconds} s runs on each …`);
    await primeKeys(server, loadKeys);
    if (other) await primeKeys(other, loadKeys);
    const throughput = await measureThroughput(
      [{ name: 'local', nodes: [server] }, { name: 'floor', nodes: [floor] }, ...(other ? [{ name: 'baseline' as const, nodes: [other] }] : [])],
      loadKeys,
      {
        pairs: settings.pairs,
        seconds: settings.durationSeconds,
        connections: settings.connections,
        warmupSeconds: settings.warmupSeconds,
        flows: settings.flows,
      },
    );

    log('\nStopping the server (SIGTERM) …');
    const serverExit = await server.stop();
    const floorExit = await floor.stop();
    const baselineExit = other ? await other.stop() : undefined;
    nodes.length = 0;
    const recorded = await recordedUsage(dataDir);
    // The priming calls count too (primeKeys: one per load key, and the RateLimit check).
    const gatewayOk = throughput.gatewayOk.local! + loadKeys.length + 1;

    const gateway = throughput.summary.local!;
    const shell = throughput.summary.floor!;
    // This build's gateway/no-op over the baseline's, pair by pair: each process's gateway is measured
    // against its own no-op, since two processes of the same build can differ by 20 % in raw speed.
    const versusBaseline = other ? gateway.ratios.map((ratio, i) => round(ratio / throughput.summary.baseline!.ratios[i]!, 3)) : undefined;
    const summary = {
      client: throughput.client,
      gateway,
      floor: shell,
      ...(other ? { baseline: throughput.summary.baseline!, versusBaseline: { ratios: versusBaseline!, median: round(median(versusBaseline!), 3) } } : {}),
      medianRatio: gateway.medianRatio,
      target: settings.target,
      targetMet: gateway.medianRatio >= settings.target,
      failedRuns: throughput.failedRuns,
      serverExit,
      floorExit,
      ...(other ? { baselineExit } : {}),
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
      loadAverage: os.loadavg(),
    };
    mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
    const file = path.join(ROOT, 'bench/results', `gateway-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ startedAt: startedAt.toISOString(), machine, settings, baseline: baselineVersion(), runs: throughput.runs, summary }, null, 2)}\n`,
    );

    for (const [label, t] of [
      ['gateway', gateway],
      ['framework floor, no checks', shell],
      ...(summary.baseline ? [['baseline build', summary.baseline] as const] : []),
    ] as const) {
      log(
        `${label}: gateway/no-op ${t.medianRatio} (pairs ${t.ratios.join(', ')}); no-op ${t.noopRequestsPerSecondMedian} req/s, /v1/connection ${t.gatewayRequestsPerSecondMedian} req/s; CPU µs/request no-op ${t.noopCpuUsPerRequestMedian}, /v1/connection ${t.gatewayCpuUsPerRequestMedian}; load generator (${throughput.client}) µs/request ${t.noopClientCpuUsPerRequestMedian}, ${t.gatewayClientCpuUsPerRequestMedian}`,
      );
    }
    if (summary.versusBaseline)
      log(`gateway/no-op of this build over the baseline's: ${summary.versusBaseline.median} (pairs ${summary.versusBaseline.ratios.join(', ')})`);
    log(
      `Target gateway/no-op >= ${settings.target}: ${summary.targetMet ? 'MET' : 'NOT MET'} (load average ${os.loadavg()[0]?.toFixed(1)} on ${cpus.length} CPUs)`,
    );
    log(`Usage recorded after shutdown: ${recorded} successful CheckConnection calls for ${gatewayOk} 200 responses the client counted`);
    log(`Results written to ${path.relative(ROOT, file)} (${summary.wallSeconds} s in all)`);

    const problems: string[] = [];
    if (summary.failedRuns > 0) problems.push(`${summary.failedRuns} run(s) had non-2xx responses or socket errors`);
    if (serverExit !== 0) problems.push(`the server exited with ${serverExit} after SIGTERM, not 0`);
    if (floorExit !== 0) problems.push(`the framework floor exited with ${floorExit} after SIGTERM, not 0`);
    if (baselineExit !== undefined && baselineExit !== 0) problems.push(`the baseline build exited with ${baselineExit} after SIGTERM, not 0`);
    // The server may count a few more than the client (responses in flight when a run stopped), never fewer.
    if (recorded < gatewayOk) problems.push('the server recorded less usage than the client counted: the shutdown flush lost counts');
    for (const problem of problems) log(`FAILED: ${problem}`);
    return problems.length > 0 ? 1 : 0;
  } finally {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dataDir, { recursive: true, force: true });
    if (baselineDir) rmSync(baselineDir, { recursive: true, force: true });
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
