/**
 * Throughput runs for the benchmarks: autocannon against one or several nodes at once, a no-op
 * route or the gateway with keys cycling, and the small statistics the results use.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

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
  options: { connections: number; seconds: number; flows?: boolean },
): Promise<LoadResult> {
  const requests: AcRequest[] = keys.map((key, i) =>
    route === 'noop'
      ? { method: 'GET', path: '/healthz', headers: options.flows ? flowHeaders(i) : {} }
      : { method: 'GET', path: '/v1/connection', headers: { 'x-api-key': key, ...(options.flows ? flowHeaders(i) : {}) } },
  );
  const perNode = Math.max(1, Math.floor(options.connections / bases.length));
  let client = 0;
  const stride = Math.max(1, Math.floor(keys.length / options.connections));
  const results = await Promise.all(
    bases.map((base) =>
      autocannon({
        url: `${base}${route === 'noop' ? '/healthz' : '/v1/connection'}`,
        connections: perNode,
        pipelining: 1,
        duration: options.seconds,
        ...((route === 'gateway' || options.flows) && {
          setupClient: (c: AcClient) => {
            const offset = (client++ * stride) % requests.length;
            c.setRequests([...requests.slice(offset), ...requests.slice(0, offset)]);
          },
        }),
      }),
    ),
  );
  return {
    requestsPerSecond: round(results.reduce((sum, r) => sum + r.requests.average, 0)),
    p50Ms: Math.max(...results.map((r) => r.latency.p50)),
    p99Ms: Math.max(...results.map((r) => r.latency.p99)),
    failures: results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
    completed: results.reduce((sum, r) => sum + r.requests.total, 0),
    ok: results.reduce((sum, r) => sum + (r.statusCodeStats['200']?.count ?? 0), 0),
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
