/**
 * The conversion queue: a few LibreOffice processes at once (CONVERT_WORKERS), and in front of
 * them a bounded wait (CONVERT_QUEUE_MAX) served organisation by organisation in turn, so one
 * organisation's burst cannot starve another: one organisation may hold at most half of the
 * waiting places, so another always finds one. A full queue answers 503 at once; a conversion
 * that waited longer than CONVERT_QUEUE_WAIT_SECONDS answers 503 without having started (and
 * so is not billed).
 */
import { AppError } from '../errors/catalogue.js';

export interface ConversionQueueOptions {
  slots: number;
  maxWaiting: number;
  maxWaitMs: number;
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

export class ConversionQueue {
  readonly #options: ConversionQueueOptions;
  #running = 0;
  #waiting = 0;
  /** Waiters per organisation; Map order is the round: the first organisation goes next. */
  readonly #byOrg = new Map<string, Waiter[]>();

  constructor(options: ConversionQueueOptions) {
    this.#options = options;
  }

  get stats(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting };
  }

  async run<T>(orgId: string, task: () => Promise<T>): Promise<T> {
    if (this.#running < this.#options.slots && this.#waiting === 0) this.#running++;
    else await this.#wait(orgId);
    try {
      return await task();
    } finally {
      this.#next();
    }
  }

  #wait(orgId: string): Promise<void> {
    const retryAfter = String(Math.max(1, Math.ceil(this.#options.maxWaitMs / 2000)));
    const ownWaiting = this.#byOrg.get(orgId)?.length ?? 0;
    const ownShare = Math.max(1, Math.ceil(this.#options.maxWaiting / 2));
    if (this.#waiting >= this.#options.maxWaiting || ownWaiting >= ownShare) {
      const why =
        ownWaiting >= ownShare ? `${ownWaiting} of your organisation's conversions are already waiting` : `${this.#waiting} conversions are already waiting`;
      return Promise.reject(
        new AppError('unavailable', `Every document converter is busy and ${why}. Retry in a few seconds.`, {
          headers: { 'retry-after': retryAfter },
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: resolve,
        timer: setTimeout(() => {
          this.#remove(orgId, waiter);
          reject(
            new AppError(
              'unavailable',
              `The conversion waited ${this.#options.maxWaitMs / 1000} s for a free converter and did not start; it was not counted. Retry in a few seconds.`,
              {
                headers: { 'retry-after': retryAfter },
              },
            ),
          );
        }, this.#options.maxWaitMs),
      };
      const queue = this.#byOrg.get(orgId);
      if (queue) queue.push(waiter);
      else this.#byOrg.set(orgId, [waiter]);
      this.#waiting++;
    });
  }

  #remove(orgId: string, waiter: Waiter): void {
    const queue = this.#byOrg.get(orgId);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index < 0) return;
    queue.splice(index, 1);
    this.#waiting--;
    if (queue.length === 0) this.#byOrg.delete(orgId);
  }

  /** A slot is free: the next organisation in the round starts its oldest waiter, then goes to the back. */
  #next(): void {
    const first = this.#byOrg.entries().next();
    if (first.done) {
      this.#running--;
      return;
    }
    const [orgId, queue] = first.value;
    const waiter = queue.shift()!;
    this.#byOrg.delete(orgId);
    if (queue.length > 0) this.#byOrg.set(orgId, queue);
    this.#waiting--;
    clearTimeout(waiter.timer);
    waiter.start();
  }
}
