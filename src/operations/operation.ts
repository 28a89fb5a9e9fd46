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

/**
 * Runs a named job (see `src/jobs/job-worker.ts`) in a worker with its limits; rejects with the
 * AppError the job raised, or 422 `document_too_complex` (billed) when it was stopped.
 */
export interface JobRunner {
  /**
   * `transfer`: `input` is a Buffer whose memory moves to the worker (unusable here afterwards)
   * instead of being copied; `label`: what the job is called in a refusal (default `kind`).
   */
  run<R>(kind: string, input: unknown, options?: { timeoutMs?: number; transfer?: boolean; label?: string }): Promise<R>;
}

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
  handle(body: Static<B>, context: OperationContext): Promise<Static<R>> | Static<R>;
}

/** Declares an operation with its types inferred from its schemas. */
export function defineOperation<B extends TSchema, R extends TSchema>(operation: GatewayOperation<B, R>): GatewayOperation<B, R> {
  return operation;
}
