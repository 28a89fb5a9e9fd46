/**
 * Cluster benchmark, on one fresh PostgreSQL database with 1,000,000 keys seeded and built nodes
 * (`node dist/cli.js serve`): one node with local limits (L) and two nodes sharing limits through
 * Redis (A, B). In one run:
 * 1. throughput: gateway (`GET /v1/connection`, keys cycling, rate limit and quotas checked) vs
 *    no-op (`GET /healthz`) on L and on A+B together, in interleaved pairs; the ratio of each
 *    pair is one sample, the median is the figure (goal >= 0.90 for both);
 * 2. revocation propagation: R keys used on B, revoked on A (C at a time, paced renames on both
 *    nodes beside them); the time from A's answer to B's first refusal; a key still accepted after
 *    5 s is missed (goal p99 <= 100 ms, 0 missed; any missed fails the run);
 * 3. usage lost on SIGKILL (goal: at most one flush interval of calls) and on SIGTERM (must be 0;
 *    any loss fails the run): calls driven through a fresh node, the signal sent while more are
 *    in flight, the database's count compared with the 2xx answers.
 * Writes bench/results/cluster-<timestamp>.json and prints a summary.
 *
 * Run with `npm run bench:cluster [-- --keys N --revocations N --concurrency N --writers N
 * --pairs N --duration S --connections N --load-keys N --usage-calls N]`. Needs PostgreSQL
 * (TEST_POSTGRES_URL, default the local server) and Redis (TEST_REDIS_URL, default the local one).
 * Parts are exported functions so other measures can join the run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createOrganisation } from '../src/orgs/orgs.repository.js';
import { loadConfig } from '../src/config.js';
import { type Db, openDatabase } from '../src/db/database.js';
import type { NewApiKeyRow } from '../src/db/schema.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { generateApiKey, keyDisplayParts } from '../src/keys/key-format.js';
import { systemClock } from '../src/lib/clock.js';
import { sha256Hex } from '../src/lib/hash.js';
import { newId } from '../src/lib/ids.js';
import {
  type ClusterAdmin,
  type ClusterNode,
  gatewayStatus,
  inParallel,
  manage,
  setSubscription,
  signupOn,
  startNode,
  timeUntil,
} from '../test/support/cluster.js';
import { createTestDatabase } from '../test/support/postgres.js';
import { dropRedisKeys, REDIS_URL } from '../test/support/redis-proxy.js';
import { load, loadClient, median, round, type Route } from './load.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const MISSED_AFTER_MS = 5000;
/** Each writer renames a key, then pauses this long. */
const WRITE_PAUSE_MS = 20;

/** Limits the load never reaches, but that every request checks (rate limit, the quotas CheckConnection reports). */
export const UNREACHABLE_LIMITS = { requestsPerMinute: 1_000_000_000, documentActionsPerMonth: 1_000_000_000, utilityActionsPerMonth: 1_000_000_000 };

/** An active key of `orgId` stored as KeysService.issue stores one (SHA-256, `start`, `last4`), for seeding. */
export function benchKeyRow(orgId: string, name: string, secret: string, createdAt: string, id = newId('key')): NewApiKeyRow {
  return {
    id,
    orgId,
    name,
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
  };
}

/**
 * `count` enterprise organisations with UNREACHABLE_LIMITS; with `ownPeriods`, each has a billing
 * period of its own (a paid subscription's) around now, the i-th begun `firstDay + i` days ago (mod 28).
 */
export async function createBenchOrganisations(
  db: Db,
  count: number,
  ownPeriods: boolean,
  name = (i: number) => `Benchmark ${i + 1} Ltd`,
  firstDay = 0,
): Promise<string[]> {
  const now = systemClock.nowMs();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const orgId = await db.transaction().execute((trx) => createOrganisation(trx, { clock: systemClock, newId }, name(i), 'enterprise'));
    await setBenchSubscription(db, orgId, ownPeriods ? firstDay + i : undefined, now);
    ids.push(orgId);
  }
  return ids;
}

/** A billing period of its own around `now`, begun `day` days ago (mod 28), as a paid subscription has. */
export function benchPeriod(day: number, now = systemClock.nowMs()): { periodStart: string; periodEnd: string } {
  const DAY_MS = 86_400_000;
  return { periodStart: new Date(now - (day % 28) * DAY_MS).toISOString(), periodEnd: new Date(now + (28 - (day % 28)) * DAY_MS).toISOString() };
}

/** UNREACHABLE_LIMITS for `orgId`, with a billing period of its own begun `periodDay` days ago when given. */
async function setBenchSubscription(db: Db, orgId: string, periodDay: number | undefined, now: number): Promise<void> {
  await db
    .updateTable('subscriptions')
    .set({ overrides: JSON.stringify(UNREACHABLE_LIMITS), ...(periodDay === undefined ? {} : benchPeriod(periodDay, now)) })
    .where('orgId', '=', orgId)
    .execute();
}

/** Seeds `count` keys (SHA-256 of made-up secrets) into a filler organisation, in batches generated by the database. */
export async function seedKeys(databaseUrl: string, count: number): Promise<{ seconds: number }> {
  const handle = openDatabase(loadConfig({ DATABASE_URL: databaseUrl }));
  const started = performance.now();
  try {
    await migrateToLatest(handle);
    const orgId = await handle.db.transaction().execute((trx) => createOrganisation(trx, { clock: systemClock, newId }, 'Seeded Ltd', 'enterprise'));
    const now = new Date().toISOString();
    const batch = 100_000;
    for (let from = 1; from <= count; from += batch) {
      const to = Math.min(count, from + batch - 1);
      await sql`
        insert into api_keys (id, org_id, name, hash, start, last4, status, created_at)
        select 'key_seed' || g, ${orgId}, 'seeded-' || g, encode(sha256(('seed-' || g)::bytea), 'hex'), 'bdoc_seed', lpad((g % 10000)::text, 4, '0'), 'active', ${now}
        from generate_series(${from}::int, ${to}::int) g`.execute(handle.db);
    }
    await sql`analyze api_keys`.execute(handle.db);
  } finally {
    await handle.db.destroy();
  }
  return { seconds: (performance.now() - started) / 1000 };
}

export interface PropagationResult {
  revocations: number;
  concurrency: number;
  missed: number;
  renamesBeside: number;
  msAfterAnswer: Distribution;
  /** One gateway call on B for a cached key, for scale: propagation is measured through such calls. */
  gatewayCallMs: Distribution;
  /**
   * Revocations whose first request to B after A's answer was already refused: B knew before any
   * later request could ask, so their time is that one request's own latency.
   */
  refusedOnFirstRequest: number;
  /** A key nobody revokes, asked on B every 5 ms during the revocations: what any call on B took meanwhile. */
  liveKeyCallMsBeside: Distribution;
  /** How late the benchmark's own event loop ran meanwhile (its stalls lengthen every time it takes). */
  benchLoopDelayMs: { p50: number; p99: number; max: number };
}

interface Distribution {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function distribution(times: number[]): Distribution {
  const sorted = [...times].sort((x, y) => x - y);
  return {
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    mean: round(sorted.reduce((s, t) => s + t, 0) / Math.max(1, sorted.length)),
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** Revokes `revocations` keys on A and times how long B keeps accepting each. */
export async function measureRevocations(
  a: ClusterNode,
  b: ClusterNode,
  admin: ClusterAdmin,
  { revocations, concurrency, writers: writerCount }: { revocations: number; concurrency: number; writers: number },
): Promise<PropagationResult> {
  const keys: Array<{ id: string; secret: string }> = [];
  await inParallel(Array.from({ length: revocations + writerCount + 1 }), 8, async () => {
    const created = await manage(a.url, admin, 'POST', '/api/keys', { name: 'bench-revoke' });
    if (created.status !== 201) throw new Error(`create key: ${created.status} ${JSON.stringify(created.json)}`);
    keys.push({ id: created.json.key.id, secret: created.json.secret });
  });
  const live = keys.pop()!;
  const busy = keys.splice(revocations);
  await inParallel(keys, 16, async (key) => {
    if ((await gatewayStatus(b.url, key.secret)) !== 200) throw new Error('a new key was not accepted on B');
  });

  const calls: number[] = [];
  for (let i = 0; i < 300; i++) {
    const started = performance.now();
    await gatewayStatus(b.url, keys[i % keys.length]!.secret);
    calls.push(performance.now() - started);
  }

  let writing = true;
  let renames = 0;
  const writers = busy.slice(0, writerCount).map(async (key, i) => {
    while (writing) {
      await manage((i % 2 === 0 ? a : b).url, admin, 'PATCH', `/api/keys/${key.id}`, { name: `bench-busy-${renames++}` });
      // Paced: writes beside the revocations, not a load test that starves both nodes of CPU.
      await new Promise((r) => setTimeout(r, WRITE_PAUSE_MS));
    }
  });
  const liveCalls: number[] = [];
  const watcher = (async () => {
    while (writing) {
      const started = performance.now();
      if ((await gatewayStatus(b.url, live.secret)) !== 200) throw new Error('a live key was refused on B');
      liveCalls.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const times: number[] = [];
  let missed = 0;
  let refusedOnFirstRequest = 0;
  try {
    await inParallel(keys, concurrency, async (key) => {
      const revoked = await manage(a.url, admin, 'POST', `/api/keys/${key.id}/revoke`);
      if (revoked.status !== 200) throw new Error(`revoke: ${revoked.status}`);
      const answeredAt = performance.now();
      const firstRefused = (await gatewayStatus(b.url, key.secret)) === 401;
      if (firstRefused) refusedOnFirstRequest++;
      const refused = firstRefused || (await timeUntil(b.url, key.secret, (status) => status === 401, MISSED_AFTER_MS, 1)) !== null;
      if (refused) times.push(performance.now() - answeredAt);
      else missed++;
    });
  } finally {
    loopDelay.disable();
    writing = false;
    await Promise.all([...writers, watcher]);
  }
  const ms = (ns: number) => round(ns / 1e6);
  return {
    revocations,
    concurrency,
    missed,
    renamesBeside: renames,
    msAfterAnswer: distribution(times),
    gatewayCallMs: distribution(calls),
    refusedOnFirstRequest,
    liveKeyCallMsBeside: distribution(liveCalls),
    benchLoopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
  };
}

/**
 * This process's CPU time in ms with its waited-for children's (utime, stime, cutime, cstime from
 * /proc; Linux only), or null: the load generator's cost, autocannon running in this process and
 * wrk as a child.
 */
function clientCpuMs(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

/** A node's CPU time in ms (utime + stime from /proc; Linux only), or null. */
function cpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** Inserts `count` keys with known secrets into the organisation (stored as the service stores them); answers the secrets. */
export async function seedLoadKeys(databaseUrl: string, orgId: string, count: number): Promise<string[]> {
  const handle = openDatabase(loadConfig({ DATABASE_URL: databaseUrl }));
  try {
    const secrets = Array.from({ length: count }, () => generateApiKey());
    const createdAt = new Date().toISOString();
    await handle.db
      .insertInto('apiKeys')
      .values(secrets.map((secret, i) => benchKeyRow(orgId, `bench-load-${i}`, secret, createdAt)))
      .execute();
    return secrets;
  } finally {
    await handle.db.destroy();
  }
}

/**
 * Every load key once on `node` (proves each is accepted, and fills the node's key cache before
 * timing), then one more call that must carry RateLimit headers: the plan checks are part of
 * what is measured. Makes `keys.length + 1` successful gateway calls.
 */
export async function primeKeys(node: ClusterNode, keys: string[]): Promise<void> {
  await inParallel(keys, 16, async (key) => {
    if ((await gatewayStatus(node.url, key)) !== 200) throw new Error('a load key was not accepted');
  });
  const checked = await fetch(`${node.url}/v1/connection`, { headers: { 'x-api-key': keys[0]! } });
  if (!checked.headers.get('ratelimit-limit')) throw new Error('GET /v1/connection answered without RateLimit headers: the rate limiter did not run');
}

interface ThroughputRun {
  pair: number;
  setup: SetupName;
  route: Route;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** CPU of the node(s) per request, in µs: less sensitive than throughput to the load generator sharing the machine. */
  cpuUsPerRequest: number | null;
  /** CPU of the load generator (this process and its children) per request, in µs. */
  clientCpuUsPerRequest: number | null;
}

/**
 * `floor`: the service's HTTP shell answering CheckConnection's answer with no checks (bench/floor-server.ts);
 * `baseline`: another build of the server (bench:gateway's BENCH_BASELINE), to compare two versions side by side.
 */
type SetupName = 'local' | 'cluster' | 'floor' | 'baseline';

export interface ThroughputSetup {
  name: SetupName;
  nodes: ClusterNode[];
}

/**
 * Gateway/no-op throughput ratio of each setup, from interleaved pairs: in each round every
 * setup runs the no-op then the gateway back to to back (the setups take turns going first),
 * and the ratio of that pair is one sample; the result is the median of the samples.
 */
export async function measureThroughput(
  setups: ThroughputSetup[],
  keys: string[],
  options: { pairs: number; seconds: number; connections: number; warmupSeconds: number; flows?: boolean },
) {
  const runs: ThroughputRun[] = [];
  const client = loadClient();
  console.log(
    `  load generator: ${client}${client === 'autocannon' && !process.env.BENCH_CLIENT ? ' (wrk is not installed: apt-get install wrk; autocannon parses answers in JavaScript, so bigger answers cost the client more)' : ''}`,
  );
  /** 200 answers of the gateway route per setup (what its nodes must have counted as usage). */
  const gatewayOk = Object.fromEntries(setups.map((setup) => [setup.name, 0])) as Partial<Record<SetupName, number>>;
  for (const setup of setups) {
    for (const route of ['noop', 'gateway'] as const) {
      const warm = await load(
        setup.nodes.map((n) => n.url),
        route,
        keys,
        { connections: options.connections, seconds: options.warmupSeconds, flows: options.flows, client },
      );
      if (route === 'gateway') gatewayOk[setup.name]! += warm.ok;
    }
  }
  console.log(
    `  ${'pair'.padEnd(6)}${'setup'.padEnd(9)}${'route'.padEnd(9)}${'req/s'.padStart(9)}${'p99 ms'.padStart(8)}${'cpu µs/req'.padStart(12)}${'client µs'.padStart(11)}${'fail'.padStart(6)}`,
  );
  for (let pair = 1; pair <= options.pairs; pair++) {
    const order = pair % 2 === 1 ? setups : [...setups].reverse();
    for (const setup of order) {
      for (const route of ['noop', 'gateway'] as const) {
        const before = setup.nodes.map((n) => cpuMs(n.pid));
        const clientBefore = clientCpuMs();
        const r = await load(
          setup.nodes.map((n) => n.url),
          route,
          keys,
          { connections: options.connections, seconds: options.seconds, flows: options.flows, client },
        );
        const after = setup.nodes.map((n) => cpuMs(n.pid));
        const clientAfter = clientCpuMs();
        const cpu = before.some((c) => c === null) || after.some((c) => c === null) ? null : after.reduce<number>((sum, c, i) => sum + c! - before[i]!, 0);
        if (route === 'gateway') gatewayOk[setup.name]! += r.ok;
        const run: ThroughputRun = {
          pair,
          setup: setup.name,
          route,
          requestsPerSecond: r.requestsPerSecond,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          failures: r.failures,
          cpuUsPerRequest: cpu === null ? null : round((cpu * 1000) / Math.max(1, r.completed)),
          clientCpuUsPerRequest: clientBefore === null || clientAfter === null ? null : round(((clientAfter - clientBefore) * 1000) / Math.max(1, r.completed)),
        };
        runs.push(run);
        console.log(
          `  ${`${pair}/${options.pairs}`.padEnd(6)}${setup.name.padEnd(9)}${route.padEnd(9)}${run.requestsPerSecond.toFixed(0).padStart(9)}${String(run.p99Ms).padStart(8)}${String(run.cpuUsPerRequest ?? '-').padStart(12)}${String(run.clientCpuUsPerRequest ?? '-').padStart(11)}${String(run.failures).padStart(6)}`,
        );
      }
    }
  }
  const summary = Object.fromEntries(
    setups.map((setup) => {
      const of = (route: Route) => runs.filter((r) => r.setup === setup.name && r.route === route);
      const noop = of('noop');
      const gateway = of('gateway');
      const ratios = gateway.map((g) => round(g.requestsPerSecond / noop.find((n) => n.pair === g.pair)!.requestsPerSecond, 3));
      const cpu = (list: ThroughputRun[], of: 'cpuUsPerRequest' | 'clientCpuUsPerRequest' = 'cpuUsPerRequest') => {
        const values = list.flatMap((r) => (r[of] === null ? [] : [r[of]]));
        return values.length ? round(median(values)) : null;
      };
      return [
        setup.name,
        {
          nodes: setup.nodes.length,
          noopRequestsPerSecondMedian: round(median(noop.map((r) => r.requestsPerSecond))),
          gatewayRequestsPerSecondMedian: round(median(gateway.map((r) => r.requestsPerSecond))),
          noopCpuUsPerRequestMedian: cpu(noop),
          gatewayCpuUsPerRequestMedian: cpu(gateway),
          noopClientCpuUsPerRequestMedian: cpu(noop, 'clientCpuUsPerRequest'),
          gatewayClientCpuUsPerRequestMedian: cpu(gateway, 'clientCpuUsPerRequest'),
          ratios,
          medianRatio: round(median(ratios), 3),
        },
      ];
    }),
  );
  return { client, runs, summary, gatewayOk, failedRuns: runs.filter((r) => r.failures > 0).length };
}

/** Usage counted in the database for one key (successful calls). */
async function countedUsage(databaseUrl: string, keyId: string): Promise<number> {
  const handle = openDatabase(loadConfig({ DATABASE_URL: databaseUrl }));
  try {
    const row = await handle.db
      .selectFrom('keyUsageDaily')
      .select((eb) => eb.fn.sum<number>('count').as('total'))
      .where('keyId', '=', keyId)
      .where('outcome', '=', 'success')
      .executeTakeFirst();
    return Number(row?.total ?? 0);
  } finally {
    await handle.db.destroy();
  }
}

export interface UsageLossResult {
  signal: 'SIGKILL' | 'SIGTERM';
  answered2xx: number;
  counted: number;
  lost: number;
  /** The lost calls were the last ones answered within this many ms before the signal (0: none lost). */
  lostWindowMs: number;
  /** Calls answered in the last flush interval before the signal, for scale. */
  answeredInLastFlushInterval: number;
  callsPerSecond: number;
  exitCode: number | null;
}

/**
 * Drives calls through a fresh node (`concurrency` at a time) and sends `signal` once `calls`
 * were answered, while more are in flight; then compares the usage the database counted for
 * the key with the 2xx answers the client received. On SIGKILL what was counted since the last
 * flush is lost: `lostWindowMs` says how many ms of answers that was (goal: one flush interval).
 */
export async function measureUsageLoss(
  databaseUrl: string,
  admin: ClusterAdmin,
  nodeEnv: Record<string, string>,
  { signal, calls, concurrency, flushMs }: { signal: 'SIGKILL' | 'SIGTERM'; calls: number; concurrency: number; flushMs: number },
): Promise<UsageLossResult> {
  const node = await startNode({ databaseUrl, entry: 'built', timeoutMs: 60_000, env: nodeEnv });
  const created = await manage(node.url, admin, 'POST', '/api/keys', { name: `bench-usage-${signal.toLowerCase()}` });
  if (created.status !== 201) throw new Error(`create key: ${created.status}`);
  const { secret } = created.json as { secret: string };
  const keyId = (created.json as { key: { id: string } }).key.id;
  const answeredAt: number[] = [];
  let exited: Promise<number | null> | undefined;
  const started = performance.now();
  let signalledAt = 0;
  const worker = async () => {
    while (!exited) {
      try {
        if ((await gatewayStatus(node.url, secret)) < 300) answeredAt.push(performance.now());
      } catch {
        return;
      }
      if (answeredAt.length >= calls && !exited) {
        signalledAt = performance.now();
        exited = signal === 'SIGKILL' ? node.kill().then(() => null) : node.stop();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const exitCode = await exited!;
  const answered = answeredAt.length;
  const counted = await countedUsage(databaseUrl, keyId);
  const lost = Math.max(0, answered - counted);
  answeredAt.sort((x, y) => x - y);
  return {
    signal,
    answered2xx: answered,
    counted,
    lost,
    lostWindowMs: lost === 0 ? 0 : round(Math.max(0, signalledAt - answeredAt[answered - lost]!)),
    answeredInLastFlushInterval: answeredAt.filter((t) => t >= signalledAt - flushMs).length,
    callsPerSecond: round((answered * 1000) / Math.max(1, signalledAt - started)),
    exitCode,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      keys: { type: 'string', default: '1000000' },
      revocations: { type: 'string', default: '300' },
      concurrency: { type: 'string', default: '8' },
      writers: { type: 'string', default: '2' },
      // Many short pairs: the shared machine's slowdowns last seconds, and a median of 15 rides them out better than of 5.
      pairs: { type: 'string', default: '15' },
      duration: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      'load-keys': { type: 'string', default: '200' },
      // Organisations the load keys are spread over; with more than one, each has a billing period of its own.
      orgs: { type: 'string', default: '1' },
      'usage-calls': { type: 'string', default: '3000' },
    },
  });
  const settings = {
    keys: Number(values.keys),
    revocations: Number(values.revocations),
    concurrency: Number(values.concurrency),
    writers: Number(values.writers),
    pairs: Number(values.pairs),
    durationSeconds: Number(values.duration),
    connections: Number(values.connections),
    loadKeys: Number(values['load-keys']),
    orgs: Number(values.orgs),
    usageCalls: Number(values['usage-calls']),
    warmupSeconds: 2,
  };
  for (const [name, value] of Object.entries(settings))
    if (!Number.isInteger(value) || value < (name === 'writers' ? 0 : 1)) throw new Error(`--${name} must be a positive whole number`);
  const startedAt = new Date();
  const database = await createTestDatabase('bench_cluster');
  const redisPrefix = `bdoc-bench-${process.pid}-${Date.now()}:`;
  // Nodes on PostgreSQL need one shared webhook secret key (a bench value unless one is set).
  const nodeEnv = { WEBHOOK_SECRET_KEY: process.env.WEBHOOK_SECRET_KEY || Buffer.alloc(32, 3).toString('base64') };
  const clusterEnv = { ...nodeEnv, REDIS_URL, REDIS_PREFIX: redisPrefix, LIMIT_NODES: '2' };
  const flushMs = loadConfig({}).usageFlushMs;
  const nodes: ClusterNode[] = [];
  try {
    console.log(`seeding ${settings.keys.toLocaleString('en')} keys…`);
    const seed = await seedKeys(database.url, settings.keys);
    console.log(`seeded in ${seed.seconds.toFixed(1)} s; starting one node with local limits and two nodes sharing limits through Redis`);
    const [local, a, b, floor] = await Promise.all([
      startNode({ databaseUrl: database.url, entry: 'built', timeoutMs: 60_000, env: nodeEnv }),
      startNode({ databaseUrl: database.url, entry: 'built', timeoutMs: 60_000, env: clusterEnv }),
      startNode({ databaseUrl: database.url, entry: 'built', timeoutMs: 60_000, env: clusterEnv }),
      startNode({ databaseUrl: database.url, timeoutMs: 60_000, script: ['--import', 'tsx', 'bench/floor-server.ts'] }),
    ]);
    nodes.push(local, a, b, floor);
    const admin = await signupOn(a.url, 'Bench Cluster');
    // Limits the load never reaches, but that every request checks: the rate limit (leased from
    // Redis on the cluster) and the quotas CheckConnection reports.
    const unreachable = String(1_000_000_000);
    await setSubscription(database.url, admin.orgId, [
      '--plan',
      'enterprise',
      '--requests-per-minute',
      unreachable,
      '--document-actions',
      unreachable,
      '--utility-actions',
      unreachable,
      '--max-keys',
      'unlimited',
    ]);

    const orgIds = [admin.orgId];
    if (settings.orgs > 1) {
      const handle = openDatabase(loadConfig({ DATABASE_URL: database.url }));
      try {
        // The first organisation keeps the limits set above (its keys are created and revoked below), with a period of its own.
        await handle.db.updateTable('subscriptions').set(benchPeriod(0)).where('orgId', '=', admin.orgId).execute();
        orgIds.push(...(await createBenchOrganisations(handle.db, settings.orgs - 1, true, (i) => `Bench Cluster ${i + 2}`, 1)));
      } finally {
        await handle.db.destroy();
      }
    }
    // The load's consecutive keys belong to different organisations.
    const perOrg = await Promise.all(orgIds.map((orgId, i) => seedLoadKeys(database.url, orgId, Math.ceil((settings.loadKeys - i) / orgIds.length))));
    const loadKeys = Array.from({ length: settings.loadKeys }, (_, i) => perOrg[i % orgIds.length]![Math.floor(i / orgIds.length)]!);
    for (const node of nodes) await primeKeys(node, loadKeys);
    console.log(
      `throughput, gateway/no-op: ${settings.pairs} interleaved pairs of ${settings.durationSeconds} s runs, ${settings.connections} connections (split over the nodes), ${settings.loadKeys} keys of ${settings.orgs} organisation(s) cycling`,
    );
    const throughput = await measureThroughput(
      [
        { name: 'local', nodes: [local] },
        { name: 'cluster', nodes: [a, b] },
        { name: 'floor', nodes: [floor] },
      ],
      loadKeys,
      { pairs: settings.pairs, seconds: settings.durationSeconds, connections: settings.connections, warmupSeconds: settings.warmupSeconds },
    );
    const localExit = await local.stop();
    nodes.splice(nodes.indexOf(local), 1);
    const floorExit = await floor.stop();
    nodes.splice(nodes.indexOf(floor), 1);

    const propagation = await measureRevocations(a, b, admin, settings);

    const usageLoss: UsageLossResult[] = [];
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      usageLoss.push(await measureUsageLoss(database.url, admin, clusterEnv, { signal, calls: settings.usageCalls, concurrency: 16, flushMs }));
    }
    const [killed, terminated] = usageLoss as [UsageLossResult, UsageLossResult];

    const ratioGoal = 0.9;
    const goals = {
      ratioAtLeast: ratioGoal,
      localRatioMet: throughput.summary.local!.medianRatio >= ratioGoal,
      clusterRatioMet: throughput.summary.cluster!.medianRatio >= ratioGoal,
      propagationP99AtMostMs: 100,
      propagationMet: propagation.msAfterAnswer.p99 <= 100 && propagation.missed === 0,
      sigkillLossAtMostOneFlushInterval: killed.lostWindowMs <= flushMs,
      sigtermLossZero: terminated.lost === 0 && terminated.exitCode === 0,
    };

    console.log('\nsummary');
    const labels = { local: 'one node, local limits        ', cluster: 'two nodes, PostgreSQL + Redis ', floor: 'framework floor, no checks    ' };
    for (const name of ['local', 'cluster', 'floor'] as const) {
      const t = throughput.summary[name]!;
      console.log(
        `  ${labels[name]}: gateway/no-op ${t.medianRatio} (pairs ${t.ratios.join(', ')}); no-op ${t.noopRequestsPerSecondMedian} req/s, gateway ${t.gatewayRequestsPerSecondMedian} req/s; cpu µs/req no-op ${t.noopCpuUsPerRequestMedian}, gateway ${t.gatewayCpuUsPerRequestMedian}; load generator (${throughput.client}) ${t.noopClientCpuUsPerRequestMedian}, ${t.gatewayClientCpuUsPerRequestMedian}`,
      );
    }
    console.log(
      `  revocation propagation A → B over ${propagation.revocations} (at ${propagation.concurrency} a time, ${propagation.renamesBeside} renames beside): p50 ${propagation.msAfterAnswer.p50} ms, p90 ${propagation.msAfterAnswer.p90} ms, p99 ${propagation.msAfterAnswer.p99} ms, max ${propagation.msAfterAnswer.max} ms, missed ${propagation.missed}; refused on the first request after A's answer: ${propagation.refusedOnFirstRequest}; a live key's call on B meanwhile p50 ${propagation.liveKeyCallMsBeside.p50} ms, p99 ${propagation.liveKeyCallMsBeside.p99} ms; the benchmark's own event-loop delay p99 ${propagation.benchLoopDelayMs.p99} ms, max ${propagation.benchLoopDelayMs.max} ms`,
    );
    for (const u of usageLoss) {
      console.log(
        `  usage on ${u.signal}: ${u.answered2xx} calls answered 2xx, ${u.counted} counted, ${u.lost} lost = the last ${u.lostWindowMs} ms of answers (flush interval ${flushMs} ms; ${u.answeredInLastFlushInterval} answered in the last one, ${u.callsPerSecond} calls/s); exit ${u.exitCode ?? 'killed'}`,
      );
    }
    console.log(
      `  goals: ratio >= ${ratioGoal} local ${goals.localRatioMet ? 'met' : 'NOT met'}, cluster ${goals.clusterRatioMet ? 'met' : 'NOT met'}; propagation ${goals.propagationMet ? 'met' : 'NOT met'}; SIGKILL loss ${goals.sigkillLossAtMostOneFlushInterval ? 'met' : 'NOT met'}; SIGTERM loss ${goals.sigtermLossZero ? 'met' : 'NOT met'}; load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} CPUs`,
    );

    const machine = {
      loadAverage: os.loadavg(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    };
    mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
    const file = path.join(ROOT, 'bench/results', `cluster-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    const result = {
      startedAt: startedAt.toISOString(),
      wallSeconds: round((Date.now() - startedAt.getTime()) / 1000),
      machine,
      settings: { ...settings, usageFlushMs: flushMs },
      seed,
      throughput: { client: throughput.client, summary: throughput.summary, runs: throughput.runs, failedRuns: throughput.failedRuns },
      propagation,
      usageLoss,
      goals,
    };
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`written ${path.relative(ROOT, file)} (${result.wallSeconds} s in all)`);
    const failures = [
      propagation.missed > 0 && `${propagation.missed} revocations missed`,
      throughput.failedRuns > 0 && `${throughput.failedRuns} throughput runs had non-2xx answers or socket errors`,
      localExit !== 0 && `the local node exited with ${localExit}`,
      floorExit !== 0 && `the framework floor exited with ${floorExit}`,
      !goals.sigtermLossZero && 'usage was lost on SIGTERM',
    ].filter(Boolean);
    for (const failure of failures) console.error(`FAILED: ${failure}`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    const codes = await Promise.all(nodes.map((n) => n.stop()));
    await database.drop();
    await dropRedisKeys(redisPrefix);
    if (codes.some((c) => c !== 0)) {
      console.error(`a node exited with ${codes.join(', ')}`);
      process.exitCode = 1;
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
