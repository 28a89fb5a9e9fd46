/**
 * A worker thread of the job pool: runs one named job at a time with the caps it was started
 * with. An AppError travels back as data (classes do not survive the thread boundary); any
 * other error is a bug and rejects the job.
 */
import type { ValidateFunction } from 'ajv';
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { COMPUTE_JOBS, computeDataOperation } from '../compute/compute.operation.js';
import type { DocumentLimits } from '../config.js';
import { DOCUMENT_JOBS, DOCUMENT_OPERATIONS } from '../documents/document.operations.js';
import { AppError } from '../errors/catalogue.js';
import { parseJsonText } from '../http/json-text.js';
import { assertValidBody, createValidator } from '../http/validation.js';
import { type JobFailure, type JobRequest, type JobResult, movable } from './job-protocol.js';

const limits = (workerData as { limits: DocumentLimits }).limits;

/** The actions whose large bodies come here unparsed, by operation id, with their body schemas. */
const BODY_SCHEMAS = new Map([...DOCUMENT_OPERATIONS, computeDataOperation].map((operation) => [operation.operationId, operation.body]));
const validators = new Map<string, ValidateFunction>();
let ajv: ReturnType<typeof createValidator> | undefined;

/**
 * A large request body (`src/http/json-body.ts`): parsed by the rules a small one meets on the
 * event loop, then validated against its operation's schema as Fastify would have.
 */
function readBody({ operationId, blocks }: NonNullable<JobRequest['unparsed']>): unknown {
  const bytes = blocks.length === 1 ? Buffer.from(blocks[0]!.buffer, blocks[0]!.byteOffset, blocks[0]!.byteLength) : Buffer.concat(blocks);
  const value = parseJsonText(bytes.toString('utf8'));
  if (operationId === null) return value;
  let validate = validators.get(operationId);
  if (!validate) {
    const schema = BODY_SCHEMAS.get(operationId);
    if (!schema) throw new Error(`no body schema for operation ${operationId}`);
    ajv ??= createValidator('body');
    validate = ajv.compile(schema);
    validators.set(operationId, validate);
  }
  return assertValidBody(validate, value);
}

/** A request body only parsed here (a large body of a route that is not an action) goes back as its value. */
const JOBS: Record<string, (input: never, limits: DocumentLimits) => unknown> = { ...DOCUMENT_JOBS, ...COMPUTE_JOBS, ParseJson: (body: unknown) => body };

/**
 * What the job made, moved rather than copied where it is bytes (the whole value, or a field of
 * it): a 50 MB PDF or answer crosses back to the event loop without a copy there.
 */
function sent(value: unknown): JobResult<unknown> {
  const result = { ok: true as const, value };
  const views =
    value instanceof Uint8Array ? [value] : typeof value === 'object' && value !== null ? Object.values(value).filter((v) => v instanceof Uint8Array) : [];
  const buffers = movable(views);
  if (buffers.length === 0) return result;
  const moving = { [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: result };
  return Piscina.move(moving as unknown as Parameters<typeof Piscina.move>[0]) as unknown as JobResult<unknown>;
}

export default async function runJob({ kind, input, unparsed, serialize, started }: JobRequest): Promise<JobResult<unknown> | JobFailure> {
  started.postMessage(0);
  started.close();
  const job = JOBS[kind];
  if (!job) throw new Error(`no job called ${kind}`);
  try {
    const value = await job((unparsed ? readBody(unparsed) : input) as never, limits);
    // An action's answer is made JSON here, where its megabytes of base64 hold up no one.
    return sent(serialize ? Buffer.from(JSON.stringify(value)) : value);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { ok: false, error: { code: error.code, detail: error.detail, extras: error.extras, billed: error.billed } };
  }
}
