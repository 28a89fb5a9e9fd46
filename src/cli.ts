#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Actor } from './domain/actor.js';
import { controlsAsSpaces, lineTextProblem } from './domain/text.js';
import { composeServices, type Services } from './compose.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataDirError, describeDatabaseUrl, openDatabase } from './db/database.js';
import { databaseUnavailableReason, ListenConnectionError } from './db/db-errors.js';
import { migrateToLatest } from './db/migrate.js';
import { AppError } from './errors/catalogue.js';
import { maskKey } from './keys/key-format.js';
import { findKeyOrgId } from './keys/keys.repository.js';
import { SUBSCRIPTION_STATUSES } from './orgs/orgs.service.js';
import type { LimitOverrides } from './plans/catalogue.js';
import { serve } from './server.js';
import type { SubscriptionStatus } from './db/schema.js';

const USAGE = `Usage: build-a-doc <command> [options]

Commands:
  serve                                  Start the portal and gateway (what npm start runs)
  migrate                                Apply database migrations and exit
  org create --name N --admin-email E [--plan free]
                                         Create an organisation; prints its id and a one-time
                                         Admin invitation link (valid 7 days)
  org list [--limit N] [--cursor C]      List organisations, oldest first: id, name, plan,
                                         active members, created; a page at a time (the
                                         last line gives the next page's --cursor)
  subscription set --org ID [--plan P] [--status S] [--requests-per-minute N]
                   [--document-actions N] [--utility-actions N] [--max-keys N]
                                         Change an organisation's plan, status or limits
                                         (numbers override the plan; "plan" restores it)
  keys list --org ID [--limit N] [--offset N]
                                         List an organisation's keys
  keys revoke --id KEY_ID                Revoke a key at once

Configuration comes from the environment (and .env): DATABASE_URL, DATA_DIR, PUBLIC_URL, ...`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

class UsageError extends Error {}

function operator(orgId: string): Actor {
  return { orgId, userId: null, email: null, role: 'operator', ip: null };
}

function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value.trim();
}

/** A limit option: a number, `null` (unlimited), `'plan'` (the plan's own value again) or `undefined` (not given). */
function limitOption(values: Record<string, unknown>, name: string): number | null | 'plan' | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (raw === 'plan') return 'plan';
  if (raw === 'unlimited') return null;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, "unlimited" or "plan", got "${String(raw)}"`);
  return Number(raw);
}

async function withServices<T>(config: Config, work: (services: Services) => Promise<T>): Promise<T> {
  const handle = openDatabase(config);
  try {
    await migrateToLatest(handle);
    return await work(composeServices({ config, handle }));
  } finally {
    await handle.db.destroy();
  }
}

/** The root cause's code or message: `ECONNREFUSED`, `3D000: database "x" does not exist`, … */
function rootCause(error: unknown): string {
  let e = error as { cause?: unknown; code?: unknown; message?: unknown };
  while (e.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  return code && !message.includes(code) ? (message ? `${code}: ${message}` : code) : message || code || String(error);
}

/** Whether any error in the chain is a connect timeout (`Connection terminated due to connection timeout`, `timeout expired`). */
function timedOut(error: unknown): boolean {
  for (let e = error as { cause?: unknown; message?: unknown } | undefined; e && typeof e === 'object'; e = e.cause as typeof e) {
    if (typeof e.message === 'string' && /connection timeout|timeout expired/i.test(e.message)) return true;
  }
  return false;
}

/** A database that cannot be reached at start, said with the variable to fix and no credentials. */
function startupDatabaseError(error: unknown, config: Config | undefined): string | undefined {
  const cfg = config ?? safeConfig();
  if (!cfg?.databaseUrl) return undefined;
  // pg ends a connection that stays silent past its connect timeout and then says only that it was
  // "terminated unexpectedly"; the outer error knows it was the timeout.
  const silent = timedOut(error);
  const cause = silent ? `no answer within ${cfg.database.connectTimeoutMs} ms (DATABASE_CONNECT_TIMEOUT_MS)` : rootCause(error);
  const unreachable = silent || databaseUnavailableReason(error) !== undefined || /^(3D000|28P01|28000)\b/.test(cause);
  if (!unreachable) return undefined;
  // The event listener's own connection failed: name its variable, not DATABASE_URL.
  if (error instanceof ListenConnectionError && cfg.databaseListenUrl)
    return `cannot reach the database at ${describeDatabaseUrl(cfg.databaseListenUrl)} (DATABASE_LISTEN_URL): ${cause}`;
  return `cannot reach the database at ${describeDatabaseUrl(cfg.databaseUrl)} (DATABASE_URL): ${cause}`;
}

function safeConfig(): Config | undefined {
  try {
    return loadConfig();
  } catch {
    return undefined;
  }
}

/** Runs one CLI command; returns the exit code. Tests call it in-process with their own config. */
export async function runCli(argv: string[], io: CliIo, config?: Config): Promise<number> {
  const [command, sub] = argv;
  try {
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      io.out(USAGE);
      return command ? 0 : 2;
    }
    const cfg = config ?? loadConfig();
    const rest = argv.slice(command === 'serve' || command === 'migrate' ? 1 : 2);
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        name: { type: 'string' },
        'admin-email': { type: 'string' },
        plan: { type: 'string' },
        org: { type: 'string' },
        status: { type: 'string' },
        'requests-per-minute': { type: 'string' },
        'document-actions': { type: 'string' },
        'utility-actions': { type: 'string' },
        'max-keys': { type: 'string' },
        id: { type: 'string' },
        limit: { type: 'string' },
        offset: { type: 'string' },
        cursor: { type: 'string' },
      },
    });

    switch (`${command} ${command === 'serve' || command === 'migrate' ? '' : (sub ?? '')}`.trim()) {
      case 'serve':
        await serve(cfg);
        return 0;
      case 'migrate': {
        const handle = openDatabase(cfg);
        try {
          io.out(`Migrating ${handle.location} …`);
          const applied = await migrateToLatest(handle);
          for (const name of applied) io.out(`  applied ${name}`);
          io.out(applied.length ? `Done: ${applied.length} migration(s) applied.` : 'Done: the database was already up to date.');
        } finally {
          await handle.db.destroy();
        }
        return 0;
      }
      case 'org create':
        return await withServices(cfg, async (s) => {
          const name = required(values, 'name');
          // The rule of every name typed in the portal (no control characters, something visible).
          const wrong = lineTextProblem(String(values.name), 'required');
          if (wrong) throw new UsageError(`--name ${wrong}`);
          const created = await s.members.createOrganisationWithAdmin({
            name,
            adminEmail: required(values, 'admin-email'),
            plan: values.plan ?? 'free',
          });
          io.out(`Organisation: ${created.orgId}`);
          io.out(`Admin invitation (one-time, valid until ${created.expiresAt}):`);
          io.out(created.url);
          return 0;
        });
      case 'org list':
        return await withServices(cfg, async (s) => {
          const limit = Number(values.limit ?? 50);
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be between 1 and 1000');
          const cursor = values.cursor?.trim();
          if (cursor !== undefined && !/^org_[0-9A-Za-z]{1,60}$/.test(cursor)) {
            throw new UsageError('--cursor must be the org_… id the previous page printed after "--cursor"');
          }
          const { items, nextCursor } = await s.orgs.listForOperator({ cursor, limit });
          io.out(['ID', 'NAME', 'PLAN', 'MEMBERS', 'CREATED'].join('\t'));
          // A name stored before control characters were refused must not break the columns.
          for (const org of items) io.out([org.id, controlsAsSpaces(org.name), org.plan, String(org.members), org.createdAt].join('\t'));
          io.out(`${items.length} organisation(s)${nextCursor ? `; next page: --cursor ${nextCursor}` : '; that is all'}.`);
          return 0;
        });
      case 'subscription set':
        return await withServices(cfg, async (s) => {
          const orgId = required(values, 'org');
          const status = values.status as SubscriptionStatus | undefined;
          if (status !== undefined && !SUBSCRIPTION_STATUSES.includes(status)) {
            throw new UsageError(`--status must be one of ${SUBSCRIPTION_STATUSES.join(', ')}`);
          }
          const overrides: LimitOverrides = {};
          const entries: Array<[keyof LimitOverrides, string]> = [
            ['requestsPerMinute', 'requests-per-minute'],
            ['documentActionsPerMonth', 'document-actions'],
            ['utilityActionsPerMonth', 'utility-actions'],
            ['maxKeys', 'max-keys'],
          ];
          for (const [field, option] of entries) {
            const value = limitOption(values, option);
            // An override set to undefined is dropped when the overrides are stored: the plan's value holds again.
            if (value === 'plan') overrides[field] = undefined;
            else if (value !== undefined) overrides[field] = value;
          }
          const view = await s.orgs.setSubscription(operator(orgId), { plan: values.plan, status, overrides });
          io.out(`${view.organisation.name} (${view.organisation.id}): plan ${view.plan}, status ${view.status}`);
          const l = view.limits;
          const show = (n: number | null) => (n === null ? 'unlimited' : String(n));
          io.out(
            `  document actions/month ${show(l.documentActionsPerMonth)}, utility actions/month ${show(l.utilityActionsPerMonth)}, requests/minute ${show(l.requestsPerMinute)}, keys ${show(l.maxKeys)}`,
          );
          return 0;
        });
      case 'keys list':
        return await withServices(cfg, async (s) => {
          const orgId = required(values, 'org');
          const limit = Number(values.limit ?? 100);
          const offset = Number(values.offset ?? 0);
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be between 1 and 1000');
          if (!Number.isInteger(offset) || offset < 0) throw new UsageError('--offset must be 0 or more');
          await s.orgs.subscription(operator(orgId));
          const { items, total } = await s.keys.list(operator(orgId), {}, { limit, offset });
          io.out(['ID', 'NAME', 'KEY', 'STATUS', 'OWNER', 'CREATED', 'LAST USED'].join('\t'));
          for (const k of items) {
            io.out([k.id, k.name, maskKey(k.start, k.last4), k.status, k.createdBy?.email ?? '-', k.createdAt, k.lastUsedAt ?? 'never'].join('\t'));
          }
          io.out(
            `Showing ${items.length ? offset + 1 : 0}–${offset + items.length} of ${total} key(s)${offset + items.length < total ? `; next page: --offset ${offset + items.length}` : ''}.`,
          );
          return 0;
        });
      case 'keys revoke':
        return await withServices(cfg, async (s) => {
          const id = required(values, 'id');
          const orgId = await findKeyOrgId(s.db, id);
          if (!orgId) throw new AppError('not_found', `No key with id ${id}.`);
          const key = await s.keys.revoke(operator(orgId), id);
          io.out(`Revoked ${key.id} (${key.name}) at ${key.revokedAt}. The next request with it gets api_key_revoked.`);
          return 0;
        });
      default:
        throw new UsageError(`unknown command "${argv.slice(0, 2).join(' ')}"; run build-a-doc help`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) io.err(`error: ${error.message}`);
    else if (error instanceof AppError) io.err(`error: ${error.detail}`);
    else if (error instanceof DataDirError) io.err(`error: ${error.message}`);
    else if (startupDatabaseError(error, config)) io.err(`error: ${startupDatabaseError(error, config)}`);
    else if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) io.err(`error: ${error.message}`);
    else io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof UsageError || (error instanceof TypeError && 'code' in error) ? 2 : 1;
  }
}

const invokedDirectly = process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const io: CliIo = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };
  const argv = process.argv.slice(2);
  runCli(argv, io).then((code) => {
    if (argv[0] !== 'serve' || code !== 0) process.exitCode = code;
  });
}
