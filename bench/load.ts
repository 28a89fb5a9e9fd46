/**
 * Throughput runs for the benchmarks: wrk (or autocannon) against one or several nodes at once,
 * a no-op route or the gateway with keys cycling, and the small statistics the results use.
 *
 * The load generator shares the machine's cores with the server, so its own cost per answer is
 * part of every throughput figure. autocannon parses answers in JavaScript (http-parser-js) and
 * keeps each body as a string: measured (bench/README.md), it spent 31.7 µs of CPU per /healthz
 * answer and 48.8 µs per /v1/connection answer (three more headers, a 255-byte body), so the
 * gateway route lost throughput to the client's parsing, not to the server. wrk (C, Debian
 * package `wrk`) spent 20.6 and 22.3 µs. `BENCH_CLIENT` chooses (`wrk` when it is installed,
 * else `autocannon`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

// autocannon ships no type declarations; this is the subset the benchmarks use.
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

export type Route = 'noop' | 'gateway';

export type LoadClient = 'wrk' | 'autocannon';

/** The load generator: BENCH_CLIENT, else wrk when it is on the PATH, else autocannon. */
export function loadClient(): LoadClient {
  const chosen = process.env.BENCH_CLIENT;
  if (chosen === 'wrk' || chosen === 'autocannon') return chosen;
  if (chosen) throw new Error(`BENCH_CLIENT must be wrk or autocannon, not ${chosen}`);
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk prints its version and exits 1; only a missing program is a failure to start.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'autocannon';
  }
  return 'wrk';
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than 2xx, plus socket errors and timeouts. */
  failures: number;
  completed: number;
  /** 200 answers of the gateway route (what the nodes must have counted as usage). */
  ok: number;
}

/**
 * The headers Power Automate sends with a flow's call (CONTRACT §10), one flow per key: what the
 * gateway records to tell which flow uses which key.
 */
export function flowHeaders(index: number): Record<string, string> {
  const id = `${index.toString(16).padStart(8, '0')}-7a2b-4c1d-9e8f-0a1b2c3d4e5f`;
  return {
    'x-ms-workflow-name': id,
    'x-ms-workflow-id': `/workflows/${id.replaceAll('-', '')}`,
    'x-ms-workflow-run-id': `08584657881234567890${index}CU00`,
    'x-ms-execution-location': 'westeurope',
    'user-agent': 'azure-logic-apps/1.0 (workflow 7a2b4c1d; version 08584657881234567890)',
  };
}

/** The requests of a run on each node: the path, each key's headers, the node's connections. */
interface NodeRun {
  path: string;
  headers: Record<string, string>[];
  connections: number;
  seconds: number;
}

/** What each request carries, one entry per key: the key on the gateway route, a flow's headers with `flows`. */
function requestHeaders(route: Route, keys: string[], flows: boolean | undefined): Record<string, string>[] {
  return keys.map((key, i) => ({ ...(route === 'gateway' ? { 'x-api-key': key } : {}), ...(flows ? flowHeaders(i) : {}) }));
}

/**
 * One run of `seconds` against every base URL at once (the connections split between them):
 * `GET /healthz` (no-op) or `GET /v1/connection` with `x-api-key` cycling through `keys`, each
 * connection starting at a different key. Throughput is the sum over the nodes. `flows`: every
 * request, on both routes, also carries the headers of a flow (one per key, `flowHeaders`).
 */
export async function load(
  bases: string[],
  route: Route,
  keys: string[],
  options: { connections: number; seconds: number; flows?: boolean; client?: LoadClient },
): Promise<LoadResult> {
  const run: NodeRun = {
    path: route === 'noop' ? '/healthz' : '/v1/connection',
    headers: requestHeaders(route, keys, options.flows),
    connections: Math.max(1, Math.floor(options.connections / bases.length)),
    seconds: options.seconds,
  };
  const nodes = (options.client ?? loadClient()) === 'wrk' ? await loadWithWrk(bases, run) : await loadWithAutocannon(bases, run, options.connections);
  return {
    requestsPerSecond: round(nodes.reduce((sum, r) => sum + r.requestsPerSecond, 0)),
    p50Ms: Math.max(...nodes.map((r) => r.p50Ms)),
    p99Ms: Math.max(...nodes.map((r) => r.p99Ms)),
    failures: nodes.reduce((sum, r) => sum + r.failures, 0),
    completed: nodes.reduce((sum, r) => sum + r.completed, 0),
    ok: route === 'gateway' ? nodes.reduce((sum, r) => sum + r.ok, 0) : 0,
  };
}

/** With autocannon, in this process: each connection starts its cycle of requests at another key. */
async function loadWithAutocannon(bases: string[], run: NodeRun, connections: number): Promise<LoadResult[]> {
  const requests: AcRequest[] = run.headers.map((headers) => ({ method: 'GET', path: run.path, headers }));
  const cycling = run.headers.some((headers) => Object.keys(headers).length > 0);
  let client = 0;
  const stride = Math.max(1, Math.floor(requests.length / connections));
  const results = await Promise.all(
    bases.map((base) =>
      autocannon({
        url: `${base}${run.path}`,
        connections: run.connections,
        pipelining: 1,
        duration: run.seconds,
        ...(cycling && {
          setupClient: (c: AcClient) => {
            const offset = (client++ * stride) % requests.length;
            c.setRequests([...requests.slice(offset), ...requests.slice(0, offset)]);
          },
        }),
      }),
    ),
  );
  return results.map((r) => ({
    requestsPerSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    failures: r.non2xx + r.errors + r.timeouts,
    completed: r.requests.total,
    ok: r.statusCodeStats['200']?.count ?? 0,
  }));
}

/** A Lua string literal (keys and flow headers are plain ASCII; quotes and backslashes escaped anyway). */
const lua = (text: string) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/**
 * With wrk, one process per node: every request is built once (`init`), and each next request
 * takes the next key, so consecutive requests carry different keys. wrk counts answers other than
 * 2xx and socket errors; 200s are the rest (the gateway answers nothing else).
 */
async function loadWithWrk(bases: string[], run: NodeRun): Promise<LoadResult[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bdoc-wrk-'));
  try {
    const script = path.join(dir, 'requests.lua');
    writeFileSync(
      script,
      [
        `local headers = {${run.headers
          .map(
            (h) =>
              `{${Object.entries(h)
                .map(([name, value]) => `[${lua(name)}] = ${lua(value)}`)
                .join(', ')}}`,
          )
          .join(',\n')}}`,
        'local requests = {}',
        'local at = 0',
        `init = function(args) for i, h in ipairs(headers) do requests[i] = wrk.format("GET", ${lua(run.path)}, h) end end`,
        'request = function() at = at % #requests + 1; return requests[at] end',
      ].join('\n'),
    );
    const outputs = await Promise.all(
      bases.map(
        (base) =>
          new Promise<string>((resolve, reject) => {
            const args = ['-t1', `-c${run.connections}`, `-d${run.seconds}s`, '--latency', '-s', script, `${base}${run.path}`];
            const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
            let out = '';
            child.stdout.on('data', (chunk) => (out += chunk));
            child.stderr.on('data', (chunk) => (out += chunk));
            child.on('error', reject);
            child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}: ${out}`))));
          }),
      ),
    );
    return outputs.map((output) => {
      const r = parseWrk(output);
      return {
        requestsPerSecond: r.requestsPerSecond,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        failures: r.non2xx + r.socketErrors,
        completed: r.total,
        ok: r.total - r.non2xx,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What one wrk run printed: totals, the rate, the latency percentiles and every failure it counted. */
export function parseWrk(output: string) {
  const number = (pattern: RegExp, fallback?: number): number => {
    const match = pattern.exec(output);
    if (!match) {
      if (fallback !== undefined) return fallback;
      throw new Error(`wrk's output has no ${pattern}: ${output}`);
    }
    return Number(match[1]);
  };
  const ms = (percentile: string): number => {
    const match = new RegExp(`^\\s+${percentile}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(output);
    if (!match) throw new Error(`wrk's output has no ${percentile}% latency: ${output}`);
    return Number(match[1]) * ({ us: 0.001, ms: 1, s: 1000 } as const)[match[2] as 'us' | 'ms' | 's'];
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    total: number(/(\d+) requests in/),
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/, 0),
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    p50Ms: ms('50'),
    p99Ms: ms('99'),
  };
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** The commit a checkout is at, for a results file; null when `dir` is not a git checkout. */
export function commitOf(dir: string): string | null {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}
