import type { Db } from '../db/database.js';
import { addBounded } from '../lib/bounded-set.js';
import { HOUR, MINUTE, type Clock } from '../lib/clock.js';
import { sendWebhook, type SendResult } from './sender.js';
import * as repo from './webhooks.repository.js';
import type { DeliveryRow } from './webhooks.repository.js';
import { signDelivery, type WebhookService } from './webhooks.service.js';

/** Waits after each failed attempt (CONTRACT §11): about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; then the delivery has failed. */
export const RETRY_DELAYS_MS = [5_000, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR] as const;

const EXPECTED_MAX = 10_000;

export interface DeliveryWorkerOptions {
  postgres: boolean;
  allowPrivate: boolean;
  timeoutMs: number;
  pollMs: number;
  /** Deliveries in flight on this node at once. */
  concurrency: number;
}

/**
 * Sends due deliveries from the durable `webhook_deliveries` table. Each node claims rows for a
 * lease longer than the timeout (one node sends each attempt; a node that died mid-send has its
 * rows retried after the lease). Runs beside the gateway, never on its path: a slow receiver
 * only holds one of this node's delivery slots.
 */
export class DeliveryWorker {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #webhooks: WebhookService;
  readonly #options: DeliveryWorkerOptions;
  #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #claiming = false;
  #again = false;
  #stopped = true;
  #rounds = 0;
  /** Events whose deliveries this node queued, until their commit is heard (bounded: a rolled-back one is never heard). */
  readonly #expected = new Set<string>();
  onError: (error: unknown) => void = () => {};

  constructor(deps: { db: Db; clock: Clock; webhooks: WebhookService }, options: DeliveryWorkerOptions) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#webhooks = deps.webhooks;
    this.#options = options;
  }

  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.kick(), this.#options.pollMs);
    this.#timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await Promise.all(this.#inFlight);
  }

  /** Inside the recording transaction: these events queued deliveries (`WebhookService.fanOut`). */
  expect(eventIds: readonly string[]): void {
    for (const id of eventIds) addBounded(this.#expected, id, EXPECTED_MAX);
  }

  /**
   * An event was committed: claim at once when this node queued deliveries for it. Another node's
   * events, and this node's that queued none, cost no query: the node that queued sends its own,
   * and the poll finds what a process without a worker (the CLI) queued.
   */
  committed(eventId: string): void {
    if (this.#expected.delete(eventId)) this.kick();
  }

  /** Claim rounds run so far (a claim query each). */
  get rounds(): number {
    return this.#rounds;
  }

  /** Something may be due (deliveries were queued, time passed): claim and send what fits. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    this.#claiming = true;
    void this.#claim()
      .catch((error) => this.onError(error))
      .finally(() => {
        this.#claiming = false;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /** Resolves when nothing is in flight (tests, benchmark). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#claiming) await Promise.race([...this.#inFlight, new Promise((r) => setTimeout(r, 5))]);
  }

  async #claim(): Promise<void> {
    const room = this.#options.concurrency - this.#inFlight.size;
    if (room <= 0) return;
    this.#rounds++;
    const now = this.#clock.nowMs();
    const lease = new Date(now + this.#options.timeoutMs + MINUTE).toISOString();
    const rows = await repo.claimDue(this.#db, this.#options.postgres, new Date(now).toISOString(), lease, room);
    for (const row of rows) {
      const sending: Promise<void> = this.#send(row)
        .catch((error) => this.onError(error))
        .finally(() => {
          this.#inFlight.delete(sending);
          this.kick();
        });
      this.#inFlight.add(sending);
    }
    if (rows.length === room) this.#again = true;
  }

  async #send(row: DeliveryRow): Promise<void> {
    const endpoint = await repo.findEndpointById(this.#db, row.endpointId);
    const now = this.#clock.now();
    // A delivery goes while its endpoint is on, or after its key was revoked (the revoke event itself).
    if (!endpoint || (endpoint.status !== 'enabled' && endpoint.disabledReason !== 'key_revoked')) {
      await repo.finishAttempt(this.#db, row.id, {
        status: 'failed',
        nextAttemptAt: null,
        attemptLog: JSON.stringify([...JSON.parse(row.attemptLog), { at: now.toISOString(), statusCode: null, error: 'endpoint disabled', durationMs: 0 }]),
      });
      return;
    }
    const headers = signDelivery(this.#webhooks.secretsOf(endpoint, now), row.eventId, now, row.payload);
    const result: SendResult = await sendWebhook(endpoint.url, row.payload, headers, {
      allowPrivate: this.#options.allowPrivate,
      timeoutMs: this.#options.timeoutMs,
    });
    const done = this.#clock.now();
    const attempts = Number(row.attempts) + 1;
    const log = [...JSON.parse(row.attemptLog), { at: now.toISOString(), ...result }].slice(-20);
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const gone = result.statusCode === 410;
    const retryIn = RETRY_DELAYS_MS[attempts - 1];
    await repo.finishAttempt(this.#db, row.id, {
      status: ok ? 'succeeded' : gone || retryIn === undefined ? 'failed' : 'pending',
      nextAttemptAt: ok || gone || retryIn === undefined ? null : new Date(done.getTime() + retryIn).toISOString(),
      lastStatusCode: result.statusCode,
      deliveredAt: ok ? done.toISOString() : null,
      attemptLog: JSON.stringify(log),
    });
    if (gone) await this.#webhooks.disableGone(endpoint, done);
  }
}
