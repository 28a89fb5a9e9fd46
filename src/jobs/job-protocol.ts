/** What crosses the thread boundary between the pool and its workers (structured-cloned). */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode } from '../errors/catalogue.js';

export interface JobRequest {
  kind: string;
  input: unknown;
  /** The worker posts on it when it starts the job: the time limit counts from there. */
  started: MessagePort;
}

export interface JobResult<R> {
  ok: true;
  value: R;
}

/** An AppError raised in a worker: classes do not survive the clone, so it travels as data. */
export interface JobFailure {
  ok: false;
  error: { code: ErrorCode; detail: string; extras: Record<string, unknown>; billed: boolean };
}
