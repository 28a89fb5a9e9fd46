import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The whole configuration, parsed once at start; nothing else reads `process.env`. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Unset: SQLite at `<dataDir>/build-a-doc.sqlite`; `postgres://…`: PostgreSQL. */
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key (REDIS_PREFIX), so several deployments can share one Redis. */
  readonly redisPrefix: string;
  /** Redis command timeout (REDIS_TIMEOUT_MS); past it, limits use the local share. */
  readonly redisTimeoutMs: number;
  /** Nodes expected to share the limits (LIMIT_NODES): the local share while Redis is lost is 1/n. */
  readonly limitNodes: number;
  /** The base URL users and the connector reach; its origin is the only one allowed to mutate `/api`. */
  readonly publicUrl: string;
  readonly logLevel: LogLevel;
  /** Idle time after which a portal session ends; each use extends it. */
  readonly sessionIdleHours: number;
  /** How often buffered usage is written to the database. */
  readonly usageFlushMs: number;
  /** How often this node looks for changes written by other processes. */
  readonly changePollMs: number;
  /** Trust `X-Forwarded-*` from a reverse proxy (for client IPs in the audit log). */
  readonly trustProxy: boolean;
  /** Admins may change their organisation's plan in the portal (otherwise only the operator can). */
  readonly selfServicePlans: boolean;
  /** Caps on document and compute work (CONTRACT §8), and the pools that run it. */
  readonly documents: DocumentLimits;
}

/** CONTRACT §8: every cap is configurable; the defaults are the contract's. */
export interface DocumentLimits {
  /** Largest accepted file, in bytes (DOC_MAX_UPLOAD_MB). */
  readonly maxUploadBytes: number;
  /** Pages per PDF read or written (DOC_MAX_PAGES). */
  readonly maxPages: number;
  /** Expanded XML of a Word template, in bytes (DOC_MAX_EXPANDED_MB). */
  readonly maxExpandedBytes: number;
  /** Largest produced output, in bytes (DOC_MAX_OUTPUT_MB). */
  readonly maxOutputBytes: number;
  /** Run time of one document job (DOC_TIMEOUT_SECONDS). */
  readonly timeoutMs: number;
  /** Heap of one document worker, in MB (DOC_WORKER_HEAP_MB). */
  readonly workerHeapMb: number;
  /** Document/compute worker threads (DOC_WORKERS; default from the CPU count). */
  readonly workers: number;
  /** ComputeData rows (COMPUTE_MAX_ROWS) and run time (COMPUTE_TIMEOUT_SECONDS). */
  readonly computeMaxRows: number;
  readonly computeTimeoutMs: number;
  /** LibreOffice processes at once (CONVERT_WORKERS; default from the CPU count). */
  readonly convertWorkers: number;
  /** Conversions waiting at most, all organisations together (CONVERT_QUEUE_MAX). */
  readonly convertQueueMax: number;
  /** Longest wait in the conversion queue before 503 (CONVERT_QUEUE_WAIT_SECONDS). */
  readonly convertQueueWaitMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw.replace(/\/\/[^@/]*@/, '//***@')}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

/** Reads `KEY=value` lines of an optional `.env`; real environment variables win. */
export function readDotEnv(file: string): Env {
  if (!existsSync(file)) return {};
  const out: Env = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trim().startsWith('#')) continue;
    out[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

/** Parses and validates the configuration; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: Env = { ...readDotEnv('.env'), ...process.env }): Config {
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = env.HOST?.trim() || '127.0.0.1';
  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const publicUrl = (url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/+$/, '');
  return Object.freeze({
    port,
    host,
    dataDir: path.resolve(env.DATA_DIR?.trim() || './data'),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: env.REDIS_PREFIX?.trim() || 'bdoc:',
    redisTimeoutMs: int(env, 'REDIS_TIMEOUT_MS', 500, 10, 60_000),
    limitNodes: int(env, 'LIMIT_NODES', 2, 1, 1000),
    publicUrl,
    logLevel,
    sessionIdleHours: int(env, 'SESSION_IDLE_HOURS', 12, 1, 24 * 90),
    usageFlushMs: int(env, 'USAGE_FLUSH_MS', 1000, 10, 1000),
    changePollMs: int(env, 'CHANGE_POLL_MS', 250, 10, 1000),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    selfServicePlans: bool(env, 'SELF_SERVICE_PLANS', false),
    documents: documentLimits(env),
  });
}

const MB = 1024 * 1024;

function documentLimits(env: Env): DocumentLimits {
  const cores = availableParallelism();
  return Object.freeze({
    maxUploadBytes: int(env, 'DOC_MAX_UPLOAD_MB', 25, 1, 1024) * MB,
    maxPages: int(env, 'DOC_MAX_PAGES', 2000, 1, 100_000),
    maxExpandedBytes: int(env, 'DOC_MAX_EXPANDED_MB', 100, 1, 4096) * MB,
    maxOutputBytes: int(env, 'DOC_MAX_OUTPUT_MB', 50, 1, 4096) * MB,
    timeoutMs: int(env, 'DOC_TIMEOUT_SECONDS', 60, 1, 3600) * 1000,
    workerHeapMb: int(env, 'DOC_WORKER_HEAP_MB', 512, 64, 16_384),
    workers: int(env, 'DOC_WORKERS', Math.max(1, Math.min(4, cores)), 1, 64),
    computeMaxRows: int(env, 'COMPUTE_MAX_ROWS', 50_000, 1, 10_000_000),
    computeTimeoutMs: int(env, 'COMPUTE_TIMEOUT_SECONDS', 5, 1, 600) * 1000,
    convertWorkers: int(env, 'CONVERT_WORKERS', Math.max(1, Math.min(4, Math.floor(cores / 2))), 1, 32),
    convertQueueMax: int(env, 'CONVERT_QUEUE_MAX', 16, 0, 10_000),
    convertQueueWaitMs: int(env, 'CONVERT_QUEUE_WAIT_SECONDS', 60, 1, 3600) * 1000,
  });
}
