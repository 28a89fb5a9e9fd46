/**
 * Webhooks benchmark (CONTRACT §11): one built node (`dist/cli.js serve`) on a fresh PostgreSQL
 * database, a local receiver on 127.0.0.1.
 *
 * 1. Change to delivered webhook: N key renames (C at a time) through the management API, each
 *    an `api_key.updated` event sent to one endpoint. Latency is from the rename's answer to the
 *    receiver getting its delivery; throughput is events delivered per second over the run.
 * 2. Gateway cost of webhooks: gateway/no-op throughput ratio (`GET /v1/connection` against
 *    `GET /healthz`, autocannon) with no endpoint registered and with 10 endpoints registered,
 *    in interleaved pairs (none, ten, none, ten, …), so drift in the machine hits both alike.
 *
 * Writes bench/results/webhooks-<timestamp>.json. Run with `npm run bench:webhooks
 * [-- --events N --concurrency C --pairs P --duration S]`. Needs PostgreSQL (TEST_POSTGRES_URL).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { inParallel, liftLimits, manage, signupOn, startNode } from '../test/support/cluster.js';
import { createTestDatabase } from '../test/support/postgres.js';

interface AcResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => Promise<AcResult>;

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    pairs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' },
  },
});
const settings = {
  events: Number(values.events),
  concurrency: Number(values.concurrency),
  pairs: Number(values.pairs),
  durationSeconds: Number(values.duration),
  connections: Number(values.connections),
  endpoints: 10,
};
const log = (line: string) => process.stdout.write(`${line}\n`);
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const median = (list: number[]) =>
  percentile(
    [...list].sort((a, b) => a - b),
    50,
  );

/** Answers 200 at once and notes when each event arrived (by the key name it carries). */
async function startReceiver() {
  const arrived = new Map<string, number>();
  let deliveries = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      deliveries++;
      try {
        const name = JSON.parse(Buffer.concat(chunks).toString('utf8'))?.data?.key?.name as string | undefined;
        if (name && !arrived.has(name)) arrived.set(name, at);
      } catch {
        // not an event of this run
      }
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, arrived, deliveries: () => deliveries, close: () => new Promise((r) => server.close(r)) };
}

async function main() {
  const database = await createTestDatabase('bench_webhooks');
  const receiver = await startReceiver();
  const node = await startNode({
    databaseUrl: database.url,
    entry: 'built',
    env: {
      WEBHOOKS_ALLOW_PRIVATE: 'true',
      WEBHOOK_SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
      SIGNUPS_PER_IP_PER_HOUR: '100000',
      LOG_LEVEL: 'warn',
    },
  });
  try {
    const admin = await signupOn(node.url, 'Bench Ltd');
    await liftLimits(database.url, admin.orgId);
    const created = await manage(node.url, admin, 'POST', '/api/keys', { name: 'bench-key-start' });
    if (created.status !== 201) throw new Error(`key: ${created.status} ${JSON.stringify(created.json)}`);
    const { key, secret } = created.json as { key: { id: string }; secret: string };

    // 1. Change to delivered webhook.
    const hook = await manage(node.url, admin, 'POST', '/api/webhooks', { url: `${receiver.url}/updated`, eventTypes: ['api_key.updated'] });
    if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${JSON.stringify(hook.json)}`);
    log(`change to delivered webhook: ${settings.events} renames, ${settings.concurrency} at a time`);
    const answered = new Map<string, number>();
    const names = Array.from({ length: settings.events }, (_, i) => `bench-key-${i}`);
    const started = performance.now();
    await inParallel(names, settings.concurrency, async (name) => {
      const renamed = await manage(node.url, admin, 'PATCH', `/api/keys/${key.id}`, { name });
      if (renamed.status !== 200) throw new Error(`rename: ${renamed.status} ${JSON.stringify(renamed.json)}`);
      answered.set(name, performance.now());
    });
    const deadline = performance.now() + 60_000;
    while (receiver.arrived.size < settings.events && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const latencies = names
      .filter((n) => receiver.arrived.has(n))
      .map((n) => Math.max(0, receiver.arrived.get(n)! - answered.get(n)!))
      .sort((a, b) => a - b);
    const lastArrival = Math.max(...receiver.arrived.values());
    const delivery = {
      events: settings.events,
      delivered: latencies.length,
      missing: settings.events - latencies.length,
      concurrency: settings.concurrency,
      seconds: round((lastArrival - started) / 1000),
      eventsPerSecond: round(latencies.length / ((lastArrival - started) / 1000), 1),
      latencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? 0) },
    };
    log(JSON.stringify(delivery));

    // 2. Gateway/no-op ratio with none and with 10 endpoints, interleaved.
    await manage(node.url, admin, 'DELETE', `/api/webhooks/${hook.json.endpoint.id}`);
    const ten: string[] = [];
    for (let i = 0; i < settings.endpoints; i++) {
      const made = await manage(node.url, admin, 'POST', '/api/webhooks', {
        url: `${receiver.url}/ten-${i}`,
        eventTypes: ['api_key.revoked_key_used', 'api_key.updated', 'quota.threshold'],
      });
      ten.push(made.json.endpoint.id);
    }
    const setEndpoints = async (enabled: boolean) => {
      for (const id of ten) await manage(node.url, admin, 'PATCH', `/api/webhooks/${id}`, { enabled });
    };
    const run = (path: string, headers?: Record<string, string>) =>
      autocannon({ url: `${node.url}${path}`, connections: settings.connections, duration: settings.durationSeconds, ...(headers ? { headers } : {}) });
    await run('/healthz');
    await run('/v1/connection', { 'x-api-key': secret });
    const pairs: Array<{ pair: number; endpoints: number; noopRps: number; gatewayRps: number; ratio: number; gatewayP99Ms: number; non2xx: number }> = [];
    for (let pair = 1; pair <= settings.pairs; pair++) {
      for (const endpoints of [0, settings.endpoints]) {
        await setEndpoints(endpoints > 0);
        const noop = await run('/healthz');
        const gateway = await run('/v1/connection', { 'x-api-key': secret });
        const entry = {
          pair,
          endpoints,
          noopRps: round(noop.requests.average, 0),
          gatewayRps: round(gateway.requests.average, 0),
          ratio: round(gateway.requests.average / noop.requests.average, 3),
          gatewayP99Ms: gateway.latency.p99,
          non2xx: gateway.non2xx + noop.non2xx,
        };
        pairs.push(entry);
        log(JSON.stringify(entry));
      }
    }
    const ratioNone = median(pairs.filter((p) => p.endpoints === 0).map((p) => p.ratio));
    const ratioTen = median(pairs.filter((p) => p.endpoints > 0).map((p) => p.ratio));
    const result = {
      benchmark: 'webhooks',
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadAverage: os.loadavg().map((l) => round(l)) },
      database: 'postgresql',
      settings,
      delivery,
      gateway: {
        pairs,
        medianRatioNoEndpoints: ratioNone,
        medianRatioTenEndpoints: ratioTen,
        tenOverNone: round(ratioTen / ratioNone, 3),
      },
    };
    const dir = path.join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `webhooks-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`median gateway/no-op ratio: ${ratioNone} with no endpoint, ${ratioTen} with ${settings.endpoints}; written to ${path.relative(ROOT, file)}`);
  } finally {
    await node.stop();
    await receiver.close();
    await database.drop();
  }
}

await main();
