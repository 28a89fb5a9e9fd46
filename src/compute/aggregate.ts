/**
 * ComputeData's `expression`: one aggregate over one field.
 *
 *   Sum(amount)  Avg(amount)  Min(amount)  Max(amount)  StDev(amount)  Var(amount)
 *   Count  Count()           number of rows (after the filter)
 *   Count(field)             number of rows where the field is not blank
 *   Sum([Unit Price])        brackets for field names with spaces or symbols
 * Names are case-insensitive; Average/Mean, StdDev and Variance are accepted too. To
 * aggregate a formula (price * qty), define it as a calculated column first.
 *
 * StDev and Var are sample statistics (divide by n − 1) like Excel's STDEV.S and VAR.S, so
 * they need two values; with fewer the answer is null.
 */
import type jsep from 'jsep';
import { validationFailed } from '../errors/catalogue.js';
import { parseRaw, rejectionFor, startOf, type RawNode } from './expression-parser.js';

export const AGGREGATES = ['Sum', 'Avg', 'Min', 'Max', 'Count', 'StDev', 'Var'] as const;
export type AggregateName = (typeof AGGREGATES)[number];

const NAMES: Record<string, AggregateName> = {
  sum: 'Sum',
  avg: 'Avg',
  average: 'Avg',
  mean: 'Avg',
  min: 'Min',
  max: 'Max',
  count: 'Count',
  stdev: 'StDev',
  stddev: 'StDev',
  var: 'Var',
  variance: 'Var',
};

export interface Aggregate {
  name: AggregateName;
  /** The field aggregated; null only for Count of rows. */
  field: string | null;
  /** Where the field name starts in the expression, for messages. */
  fieldStart: number;
}

const EXAMPLES = 'Sum(amount), Avg(amount), Min(amount), Max(amount), StDev(amount), Var(amount) or Count';

export function parseAggregate(text: string, path = 'expression'): Aggregate {
  const fail = (message: string, index: number): never => {
    throw validationFailed(
      [{ path, message: `character ${index + 1}: ${message}` }],
      `The expression "${text}" is not valid at character ${index + 1}: ${message}. Write one aggregate over one field, e.g. ${EXAMPLES}.`,
    );
  };
  const raw = parseRaw(text, path, 'expression');

  const lookup = (node: RawNode): AggregateName => {
    if (node.type !== 'Identifier') return fail('it must start with the name of an aggregate', startOf(node));
    const name = NAMES[(node as jsep.Identifier).name.toLowerCase()];
    if (!name) {
      return fail(`"${(node as jsep.Identifier).name}" is not an aggregate; use one of ${AGGREGATES.join(', ')}`, startOf(node));
    }
    return name;
  };

  if (raw.type === 'Identifier') {
    const name = lookup(raw);
    if (name !== 'Count') return fail(`${name} needs a field in parentheses, e.g. ${name}(amount)`, startOf(raw));
    return { name, field: null, fieldStart: 0 };
  }
  if (raw.type !== 'CallExpression') {
    if (raw.type === 'Compound') {
      const second = (raw['body'] as RawNode[])[1];
      return fail(rejectionFor(raw), second ? startOf(second) : 0);
    }
    return fail('it must be a single aggregate such as Sum(amount)', startOf(raw));
  }
  const call = raw as jsep.CallExpression;
  const name = lookup(call.callee as RawNode);
  const args = call.arguments as RawNode[];
  if (args.length === 0) {
    if (name === 'Count') return { name, field: null, fieldStart: 0 };
    return fail(`${name} needs one field, e.g. ${name}(amount)`, startOf(raw));
  }
  if (args.length > 1) return fail(`${name} takes one field, but ${args.length} were given`, startOf(args[1]!));
  const arg = args[0]!;
  if (arg.type !== 'Identifier') {
    return fail(
      `${name} takes a field name; to aggregate a formula such as price * qty, add it as a calculated column and use ${name}(thatColumn)`,
      startOf(arg),
    );
  }
  return { name, field: (arg as jsep.Identifier).name, fieldStart: startOf(arg) };
}

/** Applies a numeric aggregate (not Count) to the non-blank values; null when there are none. */
export function aggregateNumbers(name: Exclude<AggregateName, 'Count'>, values: number[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  switch (name) {
    case 'Sum':
      return sum(values);
    case 'Avg':
      return sum(values) / n;
    case 'Min': {
      let min = values[0]!;
      for (const v of values) if (v < min) min = v;
      return min;
    }
    case 'Max': {
      let max = values[0]!;
      for (const v of values) if (v > max) max = v;
      return max;
    }
    case 'Var':
      return sampleVariance(values);
    case 'StDev': {
      const variance = sampleVariance(values);
      return variance === null ? null : Math.sqrt(variance);
    }
  }
}

/** Plain left-to-right addition, the same answer a spreadsheet or a JS reduce gives. */
function sum(values: number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/**
 * Two passes (mean first, then squared deviations): the one-pass formula loses all
 * precision on values such as 1e9 + small variations.
 */
function sampleVariance(values: number[]): number | null {
  const n = values.length;
  if (n < 2) return null;
  const mean = sum(values) / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return squares / (n - 1);
}
