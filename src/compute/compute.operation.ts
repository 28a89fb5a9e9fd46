import { Type } from 'typebox';
import { defineOperation } from '../gateway/operation.js';
import { computeData } from './compute-data.js';
import { MAX_EXPRESSION_LENGTH } from './expression-parser.js';

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
  body: Type.Object({
    data: Type.Array(Type.Unsafe<Record<string, unknown>>({ type: 'object' }), { 'x-ms-summary': 'Data', description: 'The rows, an array of objects such as the value of a List rows action' }),
    expression: Type.String({ minLength: 1, maxLength: MAX_EXPRESSION_LENGTH, 'x-ms-summary': 'Expression', description: 'The aggregate, for example Sum(amount), Avg(price), Count or StDev(score)' }),
    filter: Type.Optional(Type.String({ maxLength: MAX_EXPRESSION_LENGTH, 'x-ms-summary': 'Filter', description: "A condition rows must meet, for example amount > 100 and region == 'EU'" })),
    calculatedColumns: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String({ minLength: 1, maxLength: 100, 'x-ms-summary': 'Column Name', description: 'The name of the new column' }),
          definition: Type.String({ minLength: 1, maxLength: MAX_EXPRESSION_LENGTH, 'x-ms-summary': 'Definition', description: 'Arithmetic over fields, for example price * quantity' }),
        }),
        { 'x-ms-summary': 'Calculated Columns', description: 'Columns computed for every row before the filter', 'x-ms-visibility': 'advanced' },
      ),
    ),
  }),
  response: Type.Object({
    result: Type.Union([Type.Number(), Type.Null()], { 'x-ms-summary': 'Result', description: 'The computed number; empty when no value matched (Count gives 0)' }),
  }),
  handle: (body) => ({ result: computeData(body) }),
});
