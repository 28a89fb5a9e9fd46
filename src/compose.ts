import path from 'node:path';
import { createAuditService } from './audit/audit.service.js';
import { createAuthService } from './auth/auth.service.js';
import { createMemoryThrottle, type FailureThrottle } from './auth/throttle.js';
import { activeMemberCounts } from './auth/users.repository.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import { EventBus, InProcessTransport } from './events/event-bus.js';
import { PgNotifyTransport } from './events/pg-transport.js';
import { KeyCache } from './gateway/key-cache.js';
import { QuotaTracker, type Quotas } from './limits/quota-tracker.js';
import { RedisLink } from './limits/redis-link.js';
import { RedisQuotas } from './limits/redis-quotas.js';
import { MemoryRateLimiter, type RateLimiter } from './limits/rate-limiter.js';
import { RedisRateLimiter } from './limits/redis-rate-limiter.js';
import { createRedisThrottle } from './limits/redis-throttle.js';
import { createKeyService } from './keys/keys.service.js';
import { flowCountsByKey } from './flows/flows.repository.js';
import { createFlowsService } from './flows/flows.service.js';
import { createRotationService } from './flows/rotation.service.js';
import { createHygieneService } from './hygiene/hygiene.service.js';
import { HOUR, MINUTE, systemClock, type Clock } from './lib/clock.js';
import { newId as defaultNewId, type IdGenerator } from './lib/ids.js';
import { createMailService, fileSender, smtpSender, type MailSender } from './mail/mail.service.js';
import { createMailPreferencesService } from './mail/preferences.service.js';
import { createMembersService } from './members/members.service.js';
import { GithubKeys } from './leaks/github-keys.js';
import { createSecretScanningService } from './leaks/secret-scanning.service.js';
import { createOrgsService } from './orgs/orgs.service.js';
import { PlanCatalogue } from './plans/catalogue.js';
import { UsageBuffer } from './usage/usage-buffer.js';
import { DeliveryWorker } from './webhooks/delivery-worker.js';
import { loadSecretKey, SecretBox } from './webhooks/secret-box.js';
import { createWebhookService } from './webhooks/webhooks.service.js';
import { createUsageService } from './usage/usage.service.js';

/**
 * The one place the parts are wired together, as plain objects. The server and the CLI
 * use the same services, so a change made from the CLI is audited and announced like any other.
 */
export function composeServices(input: {
  config: Config;
  handle: DatabaseHandle;
  clock?: Clock;
  newId?: IdGenerator;
  plans?: PlanCatalogue;
  /** Where mail goes; by default SMTP_URL, or `.eml` files in `DATA_DIR/outbox/`. */
  mailSender?: MailSender;
}) {
  const { config, handle } = input;
  const { db } = handle;
  const clock = input.clock ?? systemClock;
  const newId = input.newId ?? defaultNewId;
  const plans = input.plans ?? new PlanCatalogue();

  const transport =
    config.databaseUrl && handle.dialect === 'postgres'
      ? new PgNotifyTransport(config.databaseUrl, { answerTimeoutMs: config.database.answerTimeoutMs, listenUrl: config.databaseListenUrl })
      : new InProcessTransport();
  const events = new EventBus(
    { db, clock, newId, transport },
    { pollMs: config.changePollMs, gapWaitMs: config.eventGapWaitMs, retentionMs: config.eventRetentionMs },
  );
  const cache = new KeyCache(db, clock, plans, events);
  const usage = new UsageBuffer(db, { flowsPerKeyMax: config.flowsPerKeyMax, clock });
  // With REDIS_URL, quotas are shared by every node; otherwise this node counts alone.
  const redis = config.redisUrl
    ? new RedisLink(config.redisUrl, { prefix: config.redisPrefix, timeoutMs: config.redisTimeoutMs, holderTtlMs: config.redisHolderTtlMs })
    : undefined;
  const rateLimiter: RateLimiter = redis ? new RedisRateLimiter(redis, { expectedNodes: config.limitNodes }) : new MemoryRateLimiter();
  const quotas: Quotas = redis ? new RedisQuotas(db, redis, { expectedNodes: config.limitNodes }) : new QuotaTracker(db);
  // A plan change (on any node) gives back the places this node leased under the old limits.
  events.subscribe({
    event: (event) => {
      if (event.type !== 'subscription.changed') return;
      rateLimiter.release?.(event.organisationId);
      quotas.release?.(event.organisationId);
    },
    reset: () => {},
  });
  // Sign-in and sign-up attempts: counted in Redis across every node when there is one.
  const throttle = (name: string, limit: number, windowMs: number): FailureThrottle =>
    redis ? createRedisThrottle(redis, clock, { name, limit, windowMs, expectedNodes: config.limitNodes }) : createMemoryThrottle(clock, limit, windowMs);
  const audit = createAuditService({ db, clock, newId });
  const auth = createAuthService({
    db,
    clock,
    newId,
    events,
    audit,
    ipThrottle: throttle('signin-ip', 30, 10 * MINUTE),
    accountThrottle: throttle('signin-account', 10, 10 * MINUTE),
    signupThrottle: throttle('signup-ip', config.signupsPerIpPerHour, HOUR),
    sessionIdleMs: config.sessionIdleHours * HOUR,
  });
  const keys = createKeyService({ db, clock, newId, events, audit, plans, flowCounts: flowCountsByKey });
  const flows = createFlowsService({ db, clock, audit });
  const rotation = createRotationService({ db, clock, keys });
  const hygiene = createHygieneService({ db, clock });
  const sender =
    input.mailSender ??
    (config.mail.smtpUrl ? smtpSender(config.mail.smtpUrl, config.mail.from) : fileSender(path.join(config.dataDir, 'outbox'), config.mail.from));
  const mail = createMailService({ db, clock, newId, publicUrl: config.publicUrl, sender });
  const mailPreferences = createMailPreferencesService({ db, clock });
  const githubKeys = new GithubKeys(config.secretScanning, clock);
  const secretScanning = createSecretScanningService({ db, clock, events, audit, mail });
  const members = createMembersService({ db, clock, newId, events, audit, auth, plans, mail, keys, publicUrl: config.publicUrl });
  const orgs = createOrgsService({ db, clock, events, audit, plans, selfServicePlans: config.selfServicePlans, memberCounts: activeMemberCounts });
  const usageQueries = createUsageService({ db, clock, audit, plans });
  const box = new SecretBox(() => loadSecretKey({ configured: config.webhooks.secretKey, dataDir: config.dataDir, postgres: handle.dialect === 'postgres' }));
  const webhooks = createWebhookService({ db, clock, newId, audit, box, allowPrivate: config.webhooks.allowPrivate });
  const deliveries = new DeliveryWorker(
    { db, clock, webhooks },
    {
      postgres: handle.dialect === 'postgres',
      allowPrivate: config.webhooks.allowPrivate,
      timeoutMs: config.webhooks.timeoutMs,
      pollMs: config.webhooks.pollMs,
      concurrency: config.webhooks.concurrency,
    },
  );
  // Every recorded event queues its webhook deliveries in the same transaction; this node's worker
  // is told which events did, to send them once they commit.
  events.onRecord(async (trx, recorded) => deliveries.expect(await webhooks.fanOut(trx, recorded)));

  return {
    db,
    dialect: handle.dialect,
    clock,
    newId,
    plans,
    events,
    cache,
    usage,
    rateLimiter,
    quotas,
    redis,
    audit,
    auth,
    keys,
    flows,
    rotation,
    hygiene,
    members,
    orgs,
    usageQueries,
    mail,
    mailPreferences,
    githubKeys,
    secretScanning,
    webhooks,
    deliveries,
    secretBox: box,
  };
}

export type Services = ReturnType<typeof composeServices>;
