import { auditRoutes } from './audit/audit.routes.js';
import { authRoutes } from './auth/auth.routes.js';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import { openDatabase, type DatabaseHandle, assertWritableDataDir } from './db/database.js';
import { BackgroundCheckpoints } from './db/checkpoints.js';
import { runExclusive } from './db/exclusive.js';
import { probeWrite } from './db/heartbeat.js';
import { migrateToLatest } from './db/migrate.js';
import { AppError } from './errors/catalogue.js';
import { gatewayRoutes } from './gateway/gateway.routes.js';
import { JobPool } from './jobs/job-pool.js';
import { GATEWAY_OPERATIONS } from './operation-registry.js';
import { connectorRoutes } from './connector/connector.routes.js';
import { triggerRoutes } from './connector/trigger.routes.js';
import { createConverter } from './documents/convert.js';
import { privacyRoutes } from './http/privacy.js';
import { portalRoutes } from './http/static.js';
import { DATABASE_UNAVAILABLE_TASK, failureLog, sendProblem } from './http/problem.js';
import { installJsonBodies } from './http/json-body.js';
import { createServer, installShell } from './http/shell.js';
import { MINUTE, type Clock } from './lib/clock.js';
import type { IdGenerator } from './lib/ids.js';
import { composeServices, type Services } from './compose.js';
import { RepeatedFailures } from './lib/repeated-failures.js';
import { randomBase62 } from './lib/random.js';
import { announceExpiringKeys, recordExpiredKeys, recordRevokedKeyUse } from './keys/expiry-sweeper.js';
import { recordQuotaThreshold, sweepQuotaThresholds } from './limits/quota-events.js';
import { keysRoutes } from './keys/keys.routes.js';
import { flowsRoutes } from './flows/flows.routes.js';
import { hygieneRoutes } from './hygiene/hygiene.routes.js';
import { membersRoutes } from './members/members.routes.js';
import type { MailSender } from './mail/mail.service.js';
import { mailPreferencesRoutes } from './mail/preferences.routes.js';
import { mailOnEvents } from './notifications/mail-notifier.js';
import { secretScanningRoutes } from './leaks/secret-scanning.routes.js';
import { organisationSettingsRoutes } from './orgs/settings.routes.js';
import { subscriptionRoutes } from './orgs/subscription.routes.js';
import type { PlanCatalogue } from './plans/catalogue.js';
import { usageRoutes } from './usage/usage.routes.js';
import type { UsageBuffer } from './usage/usage-buffer.js';
import { claimUnwrittenUsage, keepUnwrittenUsage } from './usage/usage-spill.js';
import { webhooksRoutes } from './webhooks/webhooks.routes.js';

export interface AppOptions {
  config: Config;
  clock?: Clock;
  newId?: IdGenerator;
  /** An already open database (tests, CLI); otherwise the configured one is opened. */
  database?: DatabaseHandle;
  /** Where logs go (tests capture them); stdout by default. */
  logStream?: NodeJS.WritableStream;
  plans?: PlanCatalogue;
  /** The built portal's folder; `public` beside this module (dist/public) by default. */
  portalRoot?: string;
  /** Where mail goes (tests); by default SMTP_URL or `.eml` files. */
  mailSender?: MailSender;
}

/** Builds the whole service: database, caches, services and routes. `server.ts` only boots it. */
export async function buildApp(options: AppOptions) {
  const { config } = options;
  // With PostgreSQL, DATA_DIR still keeps the usage a shutdown could not write, and mail without SMTP_URL.
  if (config.databaseUrl) assertWritableDataDir(config.dataDir, 'the data folder (usage kept at shutdown, mail without SMTP_URL)');
  const handle = options.database ?? openDatabase(config);
  const nodePrefix = randomBase62(6);
  const app = createServer(config, { nodePrefix, logStream: options.logStream });
  // Work that retries by itself logs its first failure, then at most a line a minute while it keeps failing.
  const logFailure = failureLog(app.log);
  const failures = new RepeatedFailures(logFailure);
  const connectionLost = 'database connection lost; the pool reconnects';
  handle.onConnectionError = failures.of(connectionLost);
  handle.onAnswerChange = (reason) => {
    // Its end is the line below, with the outage's length and what it cost.
    if (reason !== undefined) app.log.error({ reason }, 'the database is not answering; requests that need it answer 503 until it does');
  };
  handle.onReachableAgain = (downMs) => {
    // Counted from the first failure the node saw (a refused request or connection), once per outage.
    const refused = failures.ended(DATABASE_UNAVAILABLE_TASK);
    failures.ended(connectionLost);
    const seconds = Math.max(downMs, refused?.forMs ?? 0) / 1000;
    const answered = refused?.failures ?? 0;
    app.log.info(
      { downSeconds: seconds, answered503: answered },
      `database reachable again after ${seconds.toFixed(1)} s, ${answered} request${answered === 1 ? '' : 's'} answered 503`,
    );
  };
  let services: Services;
  try {
    const applied = await migrateToLatest(handle);
    if (applied.length > 0) app.log.info({ database: handle.location, migrations: applied }, `database migrated: ${applied.length} migration(s) applied`);
    services = composeServices({ config, handle, clock: options.clock, newId: options.newId, plans: options.plans, mailSender: options.mailSender });
    services.secretBox.check();
    if (services.redis) {
      services.redis.log = (level, message) => app.log[level](message);
      await services.redis.connect();
    }
    await writeKeptUsage(config.dataDir, services.usage, app.log);
  } catch (error) {
    // A start that fails (migrations, WEBHOOK_SECRET_KEY, REDIS_URL) closes what it opened, so
    // the process exits with its message at once instead of when the pool's idle clients time out.
    if (!options.database) await handle.db.destroy().catch(() => {});
    throw error;
  }
  const { db } = handle;
  const { clock } = services;
  const { events, cache, usage, audit, auth, keys, members, orgs, usageQueries } = services;
  events.onError = failures.of('reading the event log failed; retrying');
  events.onDeaf = (reason) =>
    app.log.warn(
      `${reason}: changes made on other nodes (revocations too) reach this node from the event log every ${config.changePollMs} ms (CHANGE_POLL_MS) instead of at once`,
    );
  services.deliveries.onError = failures.of('a webhook delivery round failed; retrying');
  // This node's events that queued deliveries are sent once committed; after a reset, look for due ones now.
  events.subscribe({ event: (event) => services.deliveries.committed(event.id), reset: () => services.deliveries.kick() });
  usage.onError = failures.of('usage flush failed; counts kept for the next flush', 'error');
  services.quotas.onThreshold = (event) =>
    void recordQuotaThreshold({ db, audit, events, clock }, event).catch((error) => logFailure('error', { err: error }, 'could not record a quota threshold'));
  services.mail.log = (level, fields, message) => app.log[level](fields, message);
  const stopMailOnEvents = mailOnEvents({
    db,
    events,
    mail: services.mail,
    onError: (error) => logFailure('error', { err: error }, 'could not queue a mail for an event'),
  });
  const cookie = { secure: config.publicUrl.startsWith('https:') };

  // Document and compute work runs in worker threads: one tenant's document never stalls the gateway.
  const jobs = new JobPool({ limits: config.documents, queueMax: config.documents.queueMax });
  await installShell(app, { publicUrl: config.publicUrl, resolveSession: auth.resolveSession, cookie, failures });
  // So do large JSON bodies: a document action's megabytes are parsed in the worker that does its work.
  installJsonBodies(app, { parseLarge: (body) => jobs.run('ParseJson', body, { label: 'reading the request body' }) });
  // LibreOffice: sandboxed (bubblewrap) where it can be, behind the fair conversion queue.
  const converter = createConverter({
    sandbox: config.convertSandbox,
    timeoutMs: config.documents.timeoutMs,
    maxConcurrent: config.documents.convertWorkers,
    queueMax: config.documents.convertQueueMax,
    queueWaitMs: config.documents.convertQueueWaitMs,
  });
  if (converter.sandbox === 'none' && config.convertSandbox === 'auto') {
    app.log.warn(
      'CONVERTER NOT SANDBOXED: bubblewrap is missing or cannot run here, so LibreOffice runs without network isolation; only the document filter keeps it from fetching. Install the Debian package bubblewrap, or set CONVERT_SANDBOX=none to accept this.',
    );
  }
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    // Ready means the database takes writes: read-only, full, locked or unreachable is 503.
    const probe = await probeWrite(handle, `node_${nodePrefix}`, clock.now(), 2000);
    if (!probe.writable) {
      return sendProblem(
        reply,
        new AppError('unavailable', `The database cannot be written: ${probe.reason}`, {
          extras: { database: handle.dialect, reason: probe.reason },
          headers: { 'retry-after': '5' },
        }),
        config.publicUrl,
      );
    }
    // ConvertToPdf needs LibreOffice; without it the rest still works, so this informs, not fails.
    // Redis lost does not stop serving (limits fall back to a local share): reported, still 200.
    const redis = services.redis ? (services.redis.healthy ? 'ok' : 'degraded') : 'unused';
    return {
      status: 'ready',
      database: handle.dialect,
      redis,
      converter: (await converter.available()) ? 'available' : 'unavailable',
      converterSandbox: converter.sandbox,
    };
  });
  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  authRoutes(app, { auth, orgs, acceptInvitation: members.accept, cookie, resolveSession: auth.resolveSession });
  keysRoutes(app, keys);
  usageRoutes(app, usageQueries);
  flowsRoutes(app, { flows: services.flows, rotation: services.rotation });
  hygieneRoutes(app, services.hygiene);
  membersRoutes(app, members);
  auditRoutes(app, audit);
  subscriptionRoutes(app, orgs);
  mailPreferencesRoutes(app, services.mailPreferences);
  organisationSettingsRoutes(app, orgs);
  secretScanningRoutes(app, { keys: services.githubKeys, scanning: services.secretScanning });
  webhooksRoutes(app, services.webhooks, services.deliveries);
  const revokedSeen = new Set<string>();
  gatewayRoutes(app, {
    cache,
    clock,
    usage,
    plans: services.plans,
    rateLimiter: services.rateLimiter,
    quotas: services.quotas,
    operations: GATEWAY_OPERATIONS,
    jobs,
    limits: config.documents,
    converter,
    keyedRoutes: (gateway, planChecked) => triggerRoutes(gateway, { webhooks: services.webhooks, publicUrl: config.publicUrl, planChecked }),
    onRevokedKeyUsed: (key) => {
      // Once per key and day on this node; the day's mark makes it once in the cluster.
      const seen = `${key.id}:${clock.now().toISOString().slice(0, 10)}`;
      if (revokedSeen.has(seen)) return;
      if (revokedSeen.size > 10_000) revokedSeen.clear();
      revokedSeen.add(seen);
      void recordRevokedKeyUse({ db, clock, events }, key).catch((error) => logFailure('warn', { err: error }, 'could not record the use of a revoked key'));
    },
  });
  connectorRoutes(app, { operations: GATEWAY_OPERATIONS, publicUrl: config.publicUrl });
  privacyRoutes(app);
  await portalRoutes(app, { root: options.portalRoot ?? `${import.meta.dirname}/public` });

  // One node at a time sweeps (an advisory lock on PostgreSQL).
  const sweep = () =>
    Promise.all([
      runExclusive(handle, 'expiry-sweeper', () => recordExpiredKeys({ db, clock, audit, events })).catch((error) =>
        logFailure('warn', { err: error }, 'expiry sweep failed'),
      ),
      runExclusive(handle, 'expiring-keys', () => announceExpiringKeys({ db, clock, events })).catch((error) =>
        logFailure('warn', { err: error }, 'announcing expiring keys failed'),
      ),
      runExclusive(handle, 'quota-thresholds', () => sweepQuotaThresholds({ db, clock, audit, events, plans: services.plans })).catch((error) =>
        logFailure('warn', { err: error }, 'the quota threshold sweep failed'),
      ),
      runExclusive(handle, 'rotation-drain', () => services.rotation.revokeDrainedKeys()).catch((error) =>
        logFailure('warn', { err: error }, 'revoking drained keys failed'),
      ),
      runExclusive(handle, 'event-log-pruning', () => events.prune()).catch((error) => logFailure('warn', { err: error }, 'pruning the event log failed')),
      runExclusive(handle, 'stopped-trigger-pruning', () => services.webhooks.pruneStoppedTriggers()).catch((error) =>
        logFailure('warn', { err: error }, 'pruning stopped trigger subscriptions failed'),
      ),
    ]);
  let sweeper: NodeJS.Timeout | undefined;
  // The outbox is sent by one node at a time; a mail is also held by the node sending it (outbox.repository).
  const sendMail = () => runExclusive(handle, 'mail-outbox', () => services.mail.drain()).catch(failures.of('sending mail failed; retrying'));
  let mailer: NodeJS.Timeout | undefined;
  // On SQLite the WAL is copied back into the database file by a worker thread, not inside the commits of this one.
  let checkpoints: BackgroundCheckpoints | undefined;
  const checkpointsFailed = (error: Error) =>
    app.log.warn(
      { err: error },
      'the SQLite checkpoint worker failed; the server’s own commits checkpoint the WAL again until a new one, tried in a minute, runs',
    );
  const checkpointsRecovered = () => app.log.info('the SQLite checkpoint worker runs again; the server’s own commits leave the WAL to it');

  app.addHook('onReady', async () => {
    if (handle.dialect === 'sqlite') {
      checkpoints = await BackgroundCheckpoints.start(db, handle.location, { onFailure: checkpointsFailed, onRecovered: checkpointsRecovered });
    }
    await events.start();
    usage.start(config.usageFlushMs);
    services.deliveries.start();
    await sweep();
    sweeper = setInterval(sweep, MINUTE);
    sweeper.unref();
    mailer = setInterval(sendMail, config.mail.sendIntervalMs);
    mailer.unref();
  });
  // Runs after in-flight requests have finished: nothing buffered is lost on shutdown.
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    clearInterval(mailer);
    stopMailOnEvents();
    await services.deliveries.stop();
    await events.stop();
    services.mail.close();
    await stopUsage(config, usage, app.log, failures);
    await jobs.close();
    await services.quotas.close?.();
    await services.rateLimiter.close?.();
    await services.redis?.close();
    await checkpoints?.stop();
    if (!options.database) await db.destroy();
  });

  return { app, services };
}

export type BuiltApp = Awaited<ReturnType<typeof buildApp>>;

/** Writes the usage an earlier shutdown could not write and kept in DATA_DIR (see stopUsage). */
async function writeKeptUsage(dataDir: string, usage: UsageBuffer, log: FastifyBaseLogger): Promise<void> {
  const kept = claimUnwrittenUsage(dataDir);
  if (kept.length === 0) return;
  for (const file of kept) usage.add(file.usage);
  try {
    await usage.flush();
  } catch (error) {
    for (const file of kept) file.release();
    throw error;
  }
  for (const file of kept) file.done();
  log.info({ files: kept.map((file) => file.file) }, 'wrote the usage that an earlier shutdown kept in DATA_DIR');
}

/**
 * Writes buffered usage on shutdown. While the database cannot take it, tries again for
 * SHUTDOWN_USAGE_RETRY_MS; then keeps it in a file in DATA_DIR for the next start, so a node
 * stopped during a database outage loses nothing.
 */
async function stopUsage(config: Config, usage: UsageBuffer, log: FastifyBaseLogger, failures: RepeatedFailures): Promise<void> {
  try {
    await usage.stop({
      retryForMs: config.shutdownUsageRetryMs,
      onRetry: failures.of('writing usage at shutdown failed; trying again until the database is back', 'warn'),
    });
    return;
  } catch (error) {
    const held = usage.unwritten();
    const calls = held.counts.reduce((sum, row) => sum + row.count, 0);
    try {
      const file = keepUnwrittenUsage(config.dataDir, held);
      log.error({ err: error, file, calls }, `the database could not take the usage of ${calls} calls at shutdown: kept in ${file}, written at the next start`);
    } catch (keepError) {
      log.error({ err: keepError, calls }, `the usage of ${calls} calls is lost: neither the database nor DATA_DIR could take it at shutdown`);
    }
  }
}
