import type { Static, TSchema } from 'typebox';
import type { ActionType } from '../domain/vocabulary.js';
import type { DocumentLimits } from '../config.js';
import type { CachedKey, CachedOrg } from './caller.js';

/** What a handler knows of the caller: the verified key and its organisation. */
export interface OperationContext {
  key: CachedKey;
  org: CachedOrg;
  /** Actions of this type the organisation may still make this billing period (`null`: unlimited); a method: call it on the context. */
  quotaLeft(actionType: 'document' | 'utility'): number | null | Promise<number | null>;
  /** Where document and compute work runs: a worker pool, off the event loop. */
  jobs: JobRunner;
  /** The caps of document work (CONTRACT §8), for checks made before a job starts. */
  limits: DocumentLimits;
  /** LibreOffice, sandboxed, behind the fair conversion queue. */
  converter: PdfConverter;
}

/** What ConvertToPdf needs of the converter (src/documents/convert.ts). */
export interface PdfConverter {
  convertPrepared(input: Buffer, format: string, orgId: string, path?: string): Promise<Buffer>;
}

/** Options of a job: its time limit, what it is called in a refusal (default its kind), bytes of its input to move. */
export interface JobOptions {
  timeoutMs?: number;
  label?: string;
  /** Views in `input` whose memory moves to the worker instead of being copied (unusable here afterwards). */
  move?: readonly Uint8Array[];
}

/**
 * Runs a named job (see `src/jobs/job-worker.ts`) in a worker with its limits; rejects with the
 * AppError the job raised, or 422 `document_too_complex` (billed) when it was stopped. `input`
 * may be an action's `RequestBody`: a large one reaches the job parsed and validated there.
 * Bytes a job returns (a field or the whole value) move back rather than being copied.
 */
export interface JobRunner {
  run<R>(kind: string, input: unknown, options?: JobOptions): Promise<R>;
  /** Runs a job whose value is an action's answer: serialized to JSON in the worker, sent as is. */
  answer(kind: string, input: unknown, options?: JobOptions): Promise<JsonAnswer>;
}

/** An action's JSON answer, serialized by the job that made it: a large file's base64 is never turned into JSON on the event loop. */
export class JsonAnswer {
  constructor(readonly bytes: Uint8Array) {}
}

declare const sealed: unique symbol;

/**
 * An action's request body as its handler gets it: the validated value, or a large body not yet
 * parsed (`UnparsedBody`). Either way the handler only hands it to a job (`jobs.run`), which
 * receives the validated value typed `T`: no action reads its body on the event loop.
 */
export type RequestBody<T> = { readonly [sealed]: T };

/**
 * One connector action. The same object registers the `/v1` route (validation and
 * serialisation), counts its usage, and generates its entry in the connector definition,
 * so the three cannot drift apart.
 */
export interface GatewayOperation<B extends TSchema = TSchema, R extends TSchema = TSchema> {
  /** PascalCase, unique: the connector's operationId. */
  operationId: string;
  method: 'GET' | 'POST';
  /** Below `/v1`. */
  path: string;
  /** Sentence case, at most 80 characters, no trailing punctuation. */
  summary: string;
  /** A sentence or two, ending with a period. */
  description: string;
  actionType: ActionType;
  /** The plan feature that includes this action. */
  feature: string;
  visibility?: 'important' | 'advanced' | 'internal';
  body?: B;
  response: R;
  /** Largest accepted request body in bytes (default: the server's). */
  bodyLimit?: number;
  handle(body: RequestBody<Static<B>>, context: OperationContext): Promise<Static<R> | JsonAnswer> | Static<R>;
}

/** Declares an operation with its types inferred from its schemas. */
export function defineOperation<B extends TSchema, R extends TSchema>(operation: GatewayOperation<B, R>): GatewayOperation<B, R> {
  return operation;
}
