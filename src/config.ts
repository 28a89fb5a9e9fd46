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
  /**
   * The event listener's own connection (DATABASE_LISTEN_URL), when DATABASE_URL goes through a
   * pooler in transaction mode, where LISTEN cannot work: a direct connection to the same database.
   */
  readonly databaseListenUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key (REDIS_PREFIX), so several deployments can share one Redis. */
  readonly redisPrefix: string;
  /** Redis command timeout (REDIS_TIMEOUT_MS); past it, limits use the local share. */
  readonly redisTimeoutMs: number;
  /**
   * How long a node's quota places stay held in its name without a word from it (REDIS_HOLDER_TTL_MS):
   * a node that stops without closing has its unused places given back after this; one cut off
   * from Redis stops using them after half of it.
   */
  readonly redisHolderTtlMs: number;
  /** Nodes expected to share the limits (LIMIT_NODES): the local share while Redis is lost is 1/n. */
  readonly limitNodes: number;
  /** Pool size, timeouts and lock waits of the database (DATABASE_* and SQLITE_LOCK_WAIT_MS). */
  readonly database: DatabaseTuning;
  /** The base URL users and the connector reach; its origin is the only one allowed to mutate `/api`. */
  readonly publicUrl: string;
  readonly logLevel: LogLevel;
  /** Idle time after which a portal session ends; each use extends it. */
  readonly sessionIdleHours: number;
  /** On SIGTERM, how long open connections are given to finish (each answered with `Connection: close`) before the listener closes. */
  readonly shutdownDrainMs: number;
  /** On shutdown, how long to keep trying to write buffered usage while the database cannot take it (then it is kept in DATA_DIR). */
  readonly shutdownUsageRetryMs: number;
  /** How often buffered usage is written to the database. */
  readonly usageFlushMs: number;
  /** How often this node looks for changes written by other processes. */
  readonly changePollMs: number;
  /** How long a reader waits for an event position committed late before giving it up (EVENT_GAP_WAIT_SECONDS). */
  readonly eventGapWaitMs: number;
  /** Events are kept this long (EVENT_RETENTION_DAYS); a node away longer drops its caches. */
  readonly eventRetentionMs: number;
  /** Trust `X-Forwarded-*` from a reverse proxy (for client IPs in the audit log). */
  readonly trustProxy: boolean;
  /** Admins may change their organisation's plan in the portal (otherwise only the operator can). */
  readonly selfServicePlans: boolean;
  /** Sign-ups from one IP address per hour (SIGNUPS_PER_IP_PER_HOUR). */
  readonly signupsPerIpPerHour: number;
  /** Flows remembered per key (FLOWS_PER_KEY_MAX); calls of further flows count under the key only. */
  readonly flowsPerKeyMax: number;
  /** Caps on document and compute work (CONTRACT §8), and the pools that run it. */
  readonly documents: DocumentLimits;
  /** How LibreOffice is confined (CONVERT_SANDBOX): bubblewrap, none, or auto (bubblewrap where it runs). */
  readonly convertSandbox: 'auto' | 'bubblewrap' | 'none';
  /** Mail (CONTRACT §11): SMTP_URL, MAIL_FROM; without SMTP mails are `.eml` files in `<dataDir>/outbox/`. */
  readonly mail: MailConfig;
  /** Where GitHub's secret-scanning public keys come from (GITHUB_SECRET_SCANNING_KEYS_URL or _FILE). */
  readonly secretScanning: SecretScanningConfig;
  /** Webhook deliveries (CONTRACT §11). */
  readonly webhooks: WebhookSettings;
}

export interface MailConfig {
  /** `smtp://user:pass@host:port` or `smtps://…`; unset: mails are written as files and logged. */
  readonly smtpUrl: string | undefined;
  readonly from: string;
  /** How often one node sends what the outbox holds (MAIL_SEND_INTERVAL_MS). */
  readonly sendIntervalMs: number;
}

export interface SecretScanningConfig {
  /** GitHub's public keys document (`{ public_keys: [{ key_identifier, key }] }`), fetched and cached. */
  readonly keysUrl: string | undefined;
  /** The same document from a local file (takes precedence over the URL). */
  readonly keysFile: string | undefined;
}

export interface WebhookSettings {
  /** Encrypts webhook secrets at rest (WEBHOOK_SECRET_KEY, base64 of 32 bytes); unset: generated into DATA_DIR (one node only). */
  readonly secretKey: Buffer | undefined;
  /** Plain http and private, loopback and link-local targets allowed (WEBHOOKS_ALLOW_PRIVATE; local development only). */
  readonly allowPrivate: boolean;
  /** How long a receiver has to answer (WEBHOOK_TIMEOUT_SECONDS). */
  readonly timeoutMs: number;
  /** How often a node looks for due deliveries besides being woken by events (WEBHOOK_POLL_MS). */
  readonly pollMs: number;
  /** Deliveries one node sends at once (WEBHOOK_CONCURRENCY). */
  readonly concurrency: number;
}

/** How the database is used: a slow or lost database answers 503 instead of holding requests. */
export interface DatabaseTuning {
  /** PostgreSQL connections per node (DATABASE_POOL_MAX). */
  readonly poolMax: number;
  /** Longest wait for a new PostgreSQL connection (DATABASE_CONNECT_TIMEOUT_MS). */
  readonly connectTimeoutMs: number;
  /** Longest run of one statement (DATABASE_STATEMENT_TIMEOUT_MS). */
  readonly statementTimeoutMs: number;
  /**
   * A query without an answer this long has the node ask PostgreSQL on a new connection within the
   * same time; no answer there either and the database is treated as away (503) until it answers
   * (DATABASE_ANSWER_TIMEOUT_MS).
   */
  readonly answerTimeoutMs: number;
  /** A transaction left idle this long is ended by PostgreSQL (DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS). */
  readonly idleInTransactionTimeoutMs: number;
  /** An idle pooled connection is closed after this (DATABASE_IDLE_TIMEOUT_MS). */
  readonly idleTimeoutMs: number;
  /** SQLite: how long a write waits for a lock held by another process before 503 (SQLITE_LOCK_WAIT_MS). */
  readonly sqliteLockWaitMs: number;
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
  /** Document/compute jobs waiting for a worker at most (DOC_QUEUE_MAX); beyond, 503 at once. */
  readonly queueMax: number;
  /** Longest wait for a document worker before 503 (DOC_QUEUE_WAIT_SECONDS); not billed. */
  readonly queueWaitMs: number;
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

function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  return raw as T;
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
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const databaseListenUrl = url(env, 'DATABASE_LISTEN_URL', ['postgres:', 'postgresql:']);
  if (databaseListenUrl && !databaseUrl) throw new ConfigError('DATABASE_LISTEN_URL is for PostgreSQL: set DATABASE_URL too, or unset DATABASE_LISTEN_URL');
  const publicUrl = (url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/+$/, '');
  return Object.freeze({
    port,
    host,
    dataDir: path.resolve(env.DATA_DIR?.trim() || './data'),
    databaseUrl,
    databaseListenUrl,
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: env.REDIS_PREFIX?.trim() || 'bdoc:',
    redisTimeoutMs: int(env, 'REDIS_TIMEOUT_MS', 500, 10, 60_000),
    redisHolderTtlMs: int(env, 'REDIS_HOLDER_TTL_MS', 60_000, 1000, 3_600_000),
    limitNodes: int(env, 'LIMIT_NODES', 2, 1, 1000),
    publicUrl,
    logLevel,
    sessionIdleHours: int(env, 'SESSION_IDLE_HOURS', 12, 1, 24 * 90),
    shutdownDrainMs: int(env, 'SHUTDOWN_DRAIN_MS', 5000, 0, 120_000),
    shutdownUsageRetryMs: int(env, 'SHUTDOWN_USAGE_RETRY_MS', 10_000, 0, 60_000),
    usageFlushMs: int(env, 'USAGE_FLUSH_MS', 1000, 10, 1000),
    changePollMs: int(env, 'CHANGE_POLL_MS', 250, 10, 1000),
    eventGapWaitMs: int(env, 'EVENT_GAP_WAIT_SECONDS', 60, 1, 3600) * 1000,
    eventRetentionMs: int(env, 'EVENT_RETENTION_DAYS', 7, 1, 365) * 24 * 3600 * 1000,
    trustProxy: bool(env, 'TRUST_PROXY', false),
    selfServicePlans: bool(env, 'SELF_SERVICE_PLANS', false),
    signupsPerIpPerHour: int(env, 'SIGNUPS_PER_IP_PER_HOUR', 10, 1, 1_000_000),
    flowsPerKeyMax: int(env, 'FLOWS_PER_KEY_MAX', 500, 1, 100_000),
    database: databaseTuning(env),
    convertSandbox: oneOf(env, 'CONVERT_SANDBOX', ['auto', 'bubblewrap', 'none'] as const, 'auto'),
    documents: documentLimits(env),
    mail: Object.freeze({
      smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
      from: env.MAIL_FROM?.trim() || `Build a Doc <no-reply@${new URL(publicUrl).hostname}>`,
      sendIntervalMs: int(env, 'MAIL_SEND_INTERVAL_MS', 5000, 50, 3_600_000),
    }),
    secretScanning: Object.freeze({
      keysUrl: url(env, 'GITHUB_SECRET_SCANNING_KEYS_URL', ['https:', 'http:']),
      keysFile: env.GITHUB_SECRET_SCANNING_KEYS_FILE?.trim() ? path.resolve(env.GITHUB_SECRET_SCANNING_KEYS_FILE.trim()) : undefined,
    }),
    webhooks: webhookSettings(env),
  });
}

function webhookSettings(env: Env): WebhookSettings {
  const raw = env.WEBHOOK_SECRET_KEY?.trim();
  let secretKey: Buffer | undefined;
  if (raw) {
    secretKey = Buffer.from(raw, 'base64');
    if (secretKey.length !== 32) throw new ConfigError('WEBHOOK_SECRET_KEY must be the base64 of 32 bytes (e.g. openssl rand -base64 32)');
  }
  return Object.freeze({
    secretKey,
    allowPrivate: bool(env, 'WEBHOOKS_ALLOW_PRIVATE', false),
    timeoutMs: int(env, 'WEBHOOK_TIMEOUT_SECONDS', 15, 1, 120) * 1000,
    pollMs: int(env, 'WEBHOOK_POLL_MS', 1000, 10, 60_000),
    concurrency: int(env, 'WEBHOOK_CONCURRENCY', 16, 1, 1000),
  });
}

const MB = 1024 * 1024;

function databaseTuning(env: Env): DatabaseTuning {
  return Object.freeze({
    poolMax: int(env, 'DATABASE_POOL_MAX', 10, 1, 1000),
    connectTimeoutMs: int(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    statementTimeoutMs: int(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 30_000, 100, 3_600_000),
    answerTimeoutMs: int(env, 'DATABASE_ANSWER_TIMEOUT_MS', 2000, 100, 600_000),
    idleInTransactionTimeoutMs: int(env, 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, 100, 3_600_000),
    idleTimeoutMs: int(env, 'DATABASE_IDLE_TIMEOUT_MS', 30_000, 100, 3_600_000),
    sqliteLockWaitMs: int(env, 'SQLITE_LOCK_WAIT_MS', 5000, 0, 600_000),
  });
}

/** The caps of CONTRACT §8 with no variable set (for callers outside the server, such as tests). */
export function defaultDocumentLimits(): DocumentLimits {
  return documentLimits({});
}

function documentLimits(env: Env): DocumentLimits {
  const cores = availableParallelism();
  return Object.freeze({
    maxUploadBytes: int(env, 'DOC_MAX_UPLOAD_MB', 25, 1, 1024) * MB,
    maxPages: int(env, 'DOC_MAX_PAGES', 2000, 1, 100_000),
    maxExpandedBytes: int(env, 'DOC_MAX_EXPANDED_MB', 100, 1, 4096) * MB,
    maxOutputBytes: int(env, 'DOC_MAX_OUTPUT_MB', 50, 1, 4096) * MB,
    timeoutMs: int(env, 'DOC_TIMEOUT_SECONDS', 60, 1, 3600) * 1000,
    workerHeapMb: int(env, 'DOC_WORKER_HEAP_MB', 512, 64, 16_384),
    // One core stays with the event loop (the gateway); the workers share the others.
    workers: int(env, 'DOC_WORKERS', Math.max(1, Math.min(4, cores - 1)), 1, 64),
    queueMax: int(env, 'DOC_QUEUE_MAX', 64, 0, 10_000),
    queueWaitMs: int(env, 'DOC_QUEUE_WAIT_SECONDS', 30, 1, 3600) * 1000,
    computeMaxRows: int(env, 'COMPUTE_MAX_ROWS', 50_000, 1, 10_000_000),
    computeTimeoutMs: int(env, 'COMPUTE_TIMEOUT_SECONDS', 5, 1, 600) * 1000,
    convertWorkers: int(env, 'CONVERT_WORKERS', Math.max(1, Math.min(4, Math.floor(cores / 2))), 1, 32),
    convertQueueMax: int(env, 'CONVERT_QUEUE_MAX', 16, 0, 10_000),
    convertQueueWaitMs: int(env, 'CONVERT_QUEUE_WAIT_SECONDS', 60, 1, 3600) * 1000,
  });
}
