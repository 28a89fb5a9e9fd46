/**
 * Document and compute work runs here, off the event loop: a bounded pool of worker threads
 * (Piscina), each with a heap limit, every job with a run-time limit. A job over a limit is
 * stopped (its worker is terminated and replaced) and answers 422 `document_too_complex`,
 * billed, since the work had started; a full queue answers 503 `unavailable` at once.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { DocumentLimits } from '../config.js';
import { AppError } from '../errors/catalogue.js';
import { AnswerDeadline } from '../lib/answer-deadline.js';
import { workerFile } from '../lib/worker-file.js';
import { type JobOptions, JsonAnswer, type JobRunner } from '../operations/operation.js';
import { UnparsedBody } from '../operations/unparsed-body.js';
import { type JobFailure, type JobRequest, type JobResult, movable } from './job-protocol.js';

export interface JobPoolOptions {
  limits: DocumentLimits;
  /** Jobs waiting for a worker at most (DOC_QUEUE_MAX); beyond that, 503 at once. */
  queueMax: number;
}

export class JobPool implements JobRunner {
  readonly #pool: Piscina;
  readonly #limits: DocumentLimits;

  constructor({ limits, queueMax }: JobPoolOptions) {
    this.#limits = limits;
    const { filename, execArgv } = workerFile('job-worker', import.meta.url);
    this.#pool = new Piscina({
      filename,
      execArgv,
      minThreads: 1,
      maxThreads: limits.workers,
      maxQueue: queueMax,
      idleTimeout: 60_000,
      workerData: { limits },
      resourceLimits: { maxOldGenerationSizeMb: limits.workerHeapMb, maxYoungGenerationSizeMb: Math.min(64, Math.ceil(limits.workerHeapMb / 8)) },
    });
    // A worker that dies between jobs is replaced by Piscina; nothing to answer.
    this.#pool.on('error', () => {});
  }

  /** Workers running now and jobs waiting, for readiness and tests. */
  get stats(): { threads: number; queued: number } {
    return { threads: this.#pool.threads.length, queued: this.#pool.queueSize };
  }

  /**
   * Runs a job. Its time limit counts from the moment a worker starts it (the worker says so
   * on a private channel), so waiting in the queue or a worker's start-up is not held against
   * it; a job that waits longer than its limit in the queue answers 503, not billed.
   */
  run<R>(kind: string, input: unknown, options: JobOptions = {}): Promise<R> {
    return this.#run<R>(kind, input, options, false);
  }

  async answer(kind: string, input: unknown, options: JobOptions = {}): Promise<JsonAnswer> {
    return new JsonAnswer(await this.#run<Uint8Array>(kind, input, options, true));
  }

  async #run<R>(kind: string, input: unknown, options: JobOptions, serialize: boolean): Promise<R> {
    // A large request body's blocks move to the worker (no copy here), which parses and validates it.
    const unparsed = input instanceof UnparsedBody ? { operationId: input.operationId, blocks: input.blocks } : undefined;
    const transferList = movable(unparsed ? unparsed.blocks : (options.move ?? []), Boolean(unparsed));
    const timeoutMs = options.timeoutMs ?? this.#limits.timeoutMs;
    const controller = new AbortController();
    let phase = 'queued' as 'queued' | 'running' | 'timed out' | 'waited too long';
    const channel = new MessageChannel();
    // Each deadline reads the messages that arrived before it ends the job: a main thread busy past
    // it (a long collection) must not stop, and bill, a job that started or finished in time.
    let deadline = new AnswerDeadline(
      this.#limits.queueWaitMs,
      () => {
        phase = 'waited too long';
        controller.abort();
      },
      { extendWhenLate: false },
    );
    channel.port1.once('message', () => {
      deadline.clear();
      phase = 'running';
      deadline = new AnswerDeadline(
        timeoutMs,
        () => {
          phase = 'timed out';
          controller.abort();
        },
        { extendWhenLate: false },
      );
    });
    let outcome: JobResult<R> | JobFailure;
    try {
      outcome = await this.#pool.run({ kind, input: unparsed ? undefined : input, unparsed, serialize, started: channel.port2 } satisfies JobRequest, {
        signal: controller.signal,
        transferList: [channel.port2, ...transferList],
      });
    } catch (error) {
      throw this.#stopped(error, options.label ?? kind, phase === 'waited too long' ? this.#limits.queueWaitMs : timeoutMs, phase);
    } finally {
      deadline.clear();
      channel.port1.close();
    }
    if (outcome.ok) return outcome.value;
    const { code, detail, extras, billed } = outcome.error;
    throw new AppError(code, detail, { extras, billed });
  }

  /** Why a job did not finish, as the answer its caller gets. */
  #stopped(error: unknown, what: string, timeoutMs: number, phase: string): Error {
    const What = what.charAt(0).toUpperCase() + what.slice(1);
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (phase === 'waited too long') {
      return new AppError('unavailable', `Every document worker stayed busy for ${timeoutMs / 1000} s, so ${what} did not start. Retry in a few seconds.`, {
        headers: { 'retry-after': '5' },
      });
    }
    if (phase === 'timed out') {
      return new AppError(
        'document_too_complex',
        `${What} was stopped after ${timeoutMs / 1000} s, the longest one action may run (DOC_TIMEOUT_SECONDS / COMPUTE_TIMEOUT_SECONDS). Send a smaller or simpler document, or split the work into several calls.`,
        { billed: true, extras: { limit: 'timeout', limitSeconds: timeoutMs / 1000 } },
      );
    }
    if (code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory|heap/i.test(message)) {
      return new AppError(
        'document_too_complex',
        `${What} needed more than the ${this.#limits.workerHeapMb} MB of memory one action may use (DOC_WORKER_HEAP_MB). Send a smaller or simpler document, or split the work into several calls.`,
        { billed: true, extras: { limit: 'memory', limitMb: this.#limits.workerHeapMb } },
      );
    }
    if (/queue is at limit|task queue/i.test(message)) {
      return new AppError('unavailable', 'Every document worker is busy and the queue is full. Retry in a few seconds.', { headers: { 'retry-after': '5' } });
    }
    return error instanceof Error ? error : new Error(message);
  }

  async close(): Promise<void> {
    await this.#pool.close({ force: true });
  }
}
