import { type Static, Type } from 'typebox';
import type { DocumentLimits } from '../config.js';
import { AppError } from '../errors/catalogue.js';
import { defineOperation } from '../operations/operation.js';
import { computeData } from './compute-data.js';
import { MAX_EXPRESSION_LENGTH } from './expression-parser.js';

const ComputeBody = Type.Object({
  data: Type.Array(Type.Unsafe<Record<string, unknown>>({ type: 'object' }), {
    'x-ms-summary': 'Data',
    description: 'The rows, an array of objects such as the value of a List rows action',
  }),
  expression: Type.String({
    minLength: 1,
    maxLength: MAX_EXPRESSION_LENGTH,
    'x-ms-summary': 'Expression',
    description: 'The aggregate, for example Sum(amount), Avg(price), Count or StDev(score)',
  }),
  filter: Type.Optional(
    Type.String({
      maxLength: MAX_EXPRESSION_LENGTH,
      'x-ms-summary': 'Filter',
      description: "A condition rows must meet, for example amount > 100 and region == 'EU'",
    }),
  ),
  calculatedColumns: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String({ minLength: 1, maxLength: 100, 'x-ms-summary': 'Column Name', description: 'The name of the new column' }),
        definition: Type.String({
          minLength: 1,
          maxLength: MAX_EXPRESSION_LENGTH,
          'x-ms-summary': 'Definition',
          description: 'Arithmetic over fields, for example price * quantity',
        }),
      }),
      { 'x-ms-summary': 'Calculated Columns', description: 'Columns computed for every row before the filter', 'x-ms-visibility': 'advanced' },
    ),
  ),
});

export const computeDataOperation = defineOperation({
  operationId: 'ComputeData',
  method: 'POST',
  path: '/data/compute',
  summary: 'Compute a value from table data',
  description: 'Aggregates one field of an array of objects (Sum, Avg, Min, Max, Count, StDev or Var), after optional calculated columns and a filter.',
  actionType: 'utility',
  feature: 'compute',
  visibility: 'important',
  bodyLimit: 16 * 1024 * 1024,
  body: ComputeBody,
  response: Type.Object({
    result: Type.Union([Type.Number(), Type.Null()], {
      'x-ms-summary': 'Result',
      description: 'The computed number; empty when no value matched (Count gives 0)',
    }),
  }),
  handle: (body, { jobs, limits }) => jobs.run('ComputeData', body, { timeoutMs: limits.computeTimeoutMs }),
});

/** ComputeData's work, run in a worker thread (`src/jobs/job-worker.ts`) with COMPUTE_TIMEOUT_SECONDS. */
export const COMPUTE_JOBS = {
  ComputeData(body: Static<typeof ComputeBody>, limits: DocumentLimits) {
    // Counted before any work: not billed.
    if (body.data.length > limits.computeMaxRows) {
      throw new AppError(
        'payload_too_large',
        `"data" has ${body.data.length} rows; ComputeData accepts at most ${limits.computeMaxRows} rows per call (COMPUTE_MAX_ROWS). Filter the rows first (for example with an OData filter in List rows) or compute in batches.`,
        { extras: { path: 'data', limit: 'COMPUTE_MAX_ROWS', limitRows: limits.computeMaxRows, rows: body.data.length } },
      );
    }
    return { result: computeData(body) };
  },
};
