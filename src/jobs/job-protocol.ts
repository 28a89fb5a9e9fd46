/** What crosses the thread boundary between the pool and its workers (structured-cloned). */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode } from '../errors/catalogue.js';

export interface JobRequest {
  kind: string;
  /** The job's input; a large request body comes as `unparsed` instead. */
  input: unknown;
  /** A request body still to parse and validate (`UnparsedBody`), its blocks moved here. */
  unparsed?: { operationId: string | null; blocks: readonly Uint8Array[] };
  /** The job's value is an action's answer: the worker sends it back as JSON bytes. */
  serialize?: boolean;
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

/**
 * The memory of `views` that can move to another thread: a view's whole buffer (`owned`: each view's
 * buffer is known to be its own, as an `UnparsedBody`'s blocks are); a view into a larger buffer,
 * such as Node's shared pool, is left to be copied.
 */
export function movable(views: readonly Uint8Array[], owned = false): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) {
    const { buffer } = view;
    if (buffer instanceof ArrayBuffer && (owned || (view.byteOffset === 0 && view.byteLength === buffer.byteLength))) buffers.add(buffer);
  }
  return [...buffers];
}
