/**
 * Usage flush benchmark (SQLite): how long writing a second's usage holds the event loop. Every
 * node buffers usage in memory and writes it once a second (USAGE_FLUSH_MS); on SQLite the driver
 * is synchronous, so whatever part of that write runs without a turn of the event loop is time in
 * which no request, not even one for a cached key, is answered.
 *
 * Each sample: a fresh database (DATA_DIR in the temporary folder, migrated), a UsageBuffer, one
 * call recorded for each of `--keys` keys (with `--flows`, each also from a flow of its own), a
 * first flush (new rows), the same again (rows updated) measured: the flush's wall time and the
 * longest time between two turns of the event loop while it ran (a setImmediate loop). The WAL is
 * checkpointed as the server of that version does it: from a worker thread where it has one
 * (db/checkpoints.js), else inside the commits.
 *
 * `--baseline <dir>`: a checkout of another version, built (`<dir>/dist`); its modules run the
 * same samples in interleaved pairs with this build's (`dist`, so `npm run build:server` first),
 * and the summary gives each figure's median per build and the ratio pair by pair.
 *
 * Writes bench/results/usage-flush-<timestamp>.json. Run with `npm run bench:flush
 * [-- --keys N --pairs P --flows --baseline DIR]`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { openDatabase as OpenDatabase } from '../src/db/database.js';
import type { migrateToLatest as MigrateToLatest } from '../src/db/migrate.js';
import type { UsageBuffer as UsageBufferClass } from '../src/usage/usage-buffer.js';
import type { BackgroundCheckpoints as BackgroundCheckpointsClass } from '../src/db/checkpoints.js';
import { generateApiKey } from '../src/keys/key-format.js';
import { benchKeyRow, createBenchOrganisations } from './cluster.bench.js';
import { commitOf, median, round } from './load.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '10000' },
    pairs: { type: 'string', default: '9' },
    flows: { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const settings = { keys: Number(values.keys), pairs: Number(values.pairs), flows: values.flows };
for (const [name, value] of Object.entries({ keys: settings.keys, pairs: settings.pairs }))
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Build {
  name: 'this build' | 'baseline';
  dir: string;
  openDatabase: typeof OpenDatabase;
  migrateToLatest: typeof MigrateToLatest;
  UsageBuffer: typeof UsageBufferClass;
  /** How the server checkpoints the WAL beside its commits, in the versions that do (db/checkpoints.js). */
  BackgroundCheckpoints?: typeof BackgroundCheckpointsClass;
}

async function loadBuild(name: Build['name'], dir: string): Promise<Build> {
  const dist = path.join(dir, 'dist');
  if (!existsSync(path.join(dist, 'usage/usage-buffer.js'))) throw new Error(`${dist} holds no build: run \`npx tsc -p tsconfig.build.json\` in ${dir}`);
  const load = (file: string) => import(pathToFileURL(path.join(dist, file)).href);
  const [database, migrate, usage] = await Promise.all([load('db/database.js'), load('db/migrate.js'), load('usage/usage-buffer.js')]);
  const checkpoints = existsSync(path.join(dist, 'db/checkpoints.js')) ? await load('db/checkpoints.js') : undefined;
  return {
    name,
    dir,
    openDatabase: database.openDatabase,
    migrateToLatest: migrate.migrateToLatest,
    UsageBuffer: usage.UsageBuffer,
    BackgroundCheckpoints: checkpoints?.BackgroundCheckpoints,
  };
}

interface Sample {
  pair: number;
  build: Build['name'];
  flushMs: number;
  longestStallMs: number;
}

/** Records one call for each key (and its flow), as a second of traffic from that many keys would. */
function recordSecond(buffer: UsageBufferClass, orgId: string, at: number): void {
  for (let i = 0; i < settings.keys; i++) {
    buffer.record({
      keyId: `key_bench${i}`,
      orgId,
      at,
      operation: 'CheckConnection',
      actionType: 'none',
      outcome: 'success',
      accepted: true,
      flow: settings.flows
        ? { workflowName: `flow-${i}`, workflowId: null, runId: `run-${at}`, location: 'westeurope', clientEnvironmentId: null, userAgent: null }
        : null,
    });
  }
}

async function sample(build: Build, pair: number): Promise<Sample> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bdoc-bench-flush-'));
  const handle = build.openDatabase({ dataDir, databaseUrl: undefined });
  let checkpoints: BackgroundCheckpointsClass | undefined;
  let checkpointFailure: Error | undefined;
  try {
    await build.migrateToLatest(handle);
    // As the server does: from a worker thread where the version has one, else inside the commits.
    checkpoints = await build.BackgroundCheckpoints?.start(handle.db, handle.location, {
      onFailure: (error) => {
        checkpointFailure ??= error;
      },
    });
    const [orgId] = await createBenchOrganisations(handle.db, 1, false);
    // The keys exist, so the flush's lastUsedAt updates find their rows as a node's do.
    const createdAt = new Date().toISOString();
    for (let from = 0; from < settings.keys; from += 500) {
      await handle.db
        .insertInto('apiKeys')
        .values(
          Array.from({ length: Math.min(500, settings.keys - from) }, (_, n) =>
            benchKeyRow(orgId!, `bench-key-${from + n}`, generateApiKey(), createdAt, `key_bench${from + n}`),
          ),
        )
        .execute();
    }
    const buffer = new build.UsageBuffer(handle.db);
    // The first flush makes the rows; the measured one adds to them, as every later second does.
    recordSecond(buffer, orgId!, Date.now());
    await buffer.flush();
    recordSecond(buffer, orgId!, Date.now());
    let last = performance.now();
    let longest = 0;
    let flushing = true;
    const turn = () => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      if (flushing) setImmediate(turn);
    };
    setImmediate(turn);
    const started = performance.now();
    await buffer.flush();
    const ended = performance.now();
    flushing = false;
    longest = Math.max(longest, ended - last);
    // A sample whose commits checkpointed by themselves does not measure this version.
    if (checkpointFailure) throw new Error(`the checkpoint worker failed during the sample: ${checkpointFailure.message}`);
    return { pair, build: build.name, flushMs: round(ended - started, 2), longestStallMs: round(longest, 2) };
  } finally {
    await checkpoints?.stop();
    await handle.db.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const builds = [await loadBuild('this build', ROOT), ...(values.baseline ? [await loadBuild('baseline', path.resolve(values.baseline))] : [])];
  log(
    `${settings.pairs} pairs; each flush writes one call of each of ${settings.keys.toLocaleString('en')} keys${settings.flows ? ', each from a flow of its own' : ''} (SQLite)`,
  );
  const samples: Sample[] = [];
  for (let pair = 1; pair <= settings.pairs; pair++) {
    // Each pair's builds take turns going first, so drift in the machine hits both alike.
    const order = pair % 2 === 1 ? builds : [...builds].reverse();
    for (const build of order) {
      const result = await sample(build, pair);
      samples.push(result);
      log(`  ${pair}/${settings.pairs} ${build.name.padEnd(10)} flush ${result.flushMs} ms, longest stall ${result.longestStallMs} ms`);
    }
  }
  const of = (name: Build['name']) => samples.filter((s) => s.build === name);
  const summary: Record<string, unknown> = {};
  for (const build of builds) {
    const mine = of(build.name);
    summary[build.name] = { flushMsMedian: median(mine.map((s) => s.flushMs)), longestStallMsMedian: median(mine.map((s) => s.longestStallMs)) };
  }
  if (builds.length === 2) {
    const ours = of('this build');
    const theirs = of('baseline');
    const ratios = (figure: 'flushMs' | 'longestStallMs') => ours.map((s, i) => round(s[figure] / theirs[i]![figure], 3));
    summary.thisOverBaseline = {
      flushMs: { ratios: ratios('flushMs'), median: median(ratios('flushMs')) },
      longestStallMs: { ratios: ratios('longestStallMs'), median: median(ratios('longestStallMs')) },
    };
  }
  const cpus = os.cpus();
  const machine = { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', node: process.version, loadAverage: os.loadavg() };
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `usage-flush-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const versions = builds.map((b) => ({ name: b.name, dir: b.dir, commit: commitOf(b.dir) }));
  writeFileSync(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), machine, settings, versions, samples, summary }, null, 2)}\n`);
  for (const build of builds) {
    const s = summary[build.name] as { flushMsMedian: number; longestStallMsMedian: number };
    log(`${build.name}: flush ${s.flushMsMedian} ms, longest stall ${s.longestStallMsMedian} ms (medians)`);
  }
  if (summary.thisOverBaseline) {
    const r = summary.thisOverBaseline as Record<string, { median: number }>;
    log(`this build over the baseline, pair by pair (medians): flush ${r.flushMs!.median}, longest stall ${r.longestStallMs!.median}`);
  }
  log(`Results written to ${path.relative(ROOT, file)}`);
}

await main();
