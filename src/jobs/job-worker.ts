/**
 * A worker thread of the job pool: runs one named job at a time with the caps it was started
 * with. An AppError travels back as data (classes do not survive the thread boundary); any
 * other error is a bug and rejects the job.
 */
import { workerData } from 'node:worker_threads';
import { COMPUTE_JOBS } from '../compute/compute.operation.js';
import type { DocumentLimits } from '../config.js';
import { DOCUMENT_JOBS } from '../documents/document.operations.js';
import { AppError } from '../errors/catalogue.js';
import { parseJsonText } from '../http/json-text.js';
import type { JobFailure, JobRequest, JobResult } from './job-protocol.js';

const limits = (workerData as { limits: DocumentLimits }).limits;

/** A large request body's JSON (`src/http/json-body.ts`), refused by the same rules as a small one on the event loop. */
function parseJson(bytes: Uint8Array): unknown {
  return parseJsonText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

const JOBS: Record<string, (input: never, limits: DocumentLimits) => unknown> = { ...DOCUMENT_JOBS, ...COMPUTE_JOBS, ParseJson: parseJson };

export default async function runJob({ kind, input, started }: JobRequest): Promise<JobResult<unknown> | JobFailure> {
  started.postMessage(0);
  started.close();
  const job = JOBS[kind];
  if (!job) throw new Error(`no job called ${kind}`);
  try {
    return { ok: true, value: await job(input as never, limits) };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { ok: false, error: { code: error.code, detail: error.detail, extras: error.extras, billed: error.billed } };
  }
}
