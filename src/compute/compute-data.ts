/**
 * ComputeData: one number from a table of rows.
 *
 *   1. calculatedColumns are evaluated for every row, in order (a column may use the data's
 *      fields and the columns before it);
 *   2. `filter`, when given, keeps the rows for which it is true (it may use columns);
 *   3. `expression` aggregates one field over the kept rows.
 * Returns the number, or null when no value was left to aggregate (Count returns 0).
 * See expression-parser.ts, evaluate.ts, values.ts and aggregate.ts for the language.
 */
import { validationFailed } from '../errors/catalogue.js';
import { aggregateNumbers, parseAggregate } from './aggregate.js';
import { evaluate, fieldsOf, rowFailure, type ExpressionSource, type RowReader } from './evaluate.js';
import { parseExpression, type Expr } from './expression-parser.js';
import { asBoolean, asNumber, isBlank, show, type Value } from './values.js';
import { suggestField } from './field-names.js';

export interface ComputeDataInput {
  data: unknown;
  filter?: unknown;
  expression: unknown;
  calculatedColumns?: unknown;
}

export const MAX_ROWS = 100_000;
export const MAX_CALCULATED_COLUMNS = 50;

interface Column {
  name: string;
  expr: Expr;
  source: ExpressionSource;
}

export function computeData(input: ComputeDataInput): number | null {
  const rows = checkRows(input.data);
  const known = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) known.add(key);
  // With no rows there is nothing to check names against, and nothing to compute anyway.
  const checkNames = rows.length > 0;

  const aggregate = parseAggregate(requireText(input.expression, 'expression', 'the aggregate to compute, e.g. Sum(amount)'));
  const columns = compileColumns(input.calculatedColumns, known, checkNames);
  const available = new Set([...known, ...columns.map((c) => c.name)]);

  let filter: { expr: Expr; source: ExpressionSource } | null = null;
  if (input.filter !== undefined && input.filter !== null && !(typeof input.filter === 'string' && input.filter.trim() === '')) {
    const text = requireText(input.filter, 'filter', 'a condition such as amount > 100');
    const source = { path: 'filter', what: 'filter', text };
    const expr = parseExpression(text, source.path, source.what);
    if (checkNames) assertFieldsExist(expr, available, source);
    filter = { expr, source };
  }
  if (checkNames && aggregate.field !== null && !available.has(aggregate.field)) {
    throw unknownField(aggregate.field, available, { path: 'expression', what: 'expression', text: String(input.expression) });
  }

  let count = 0;
  const numbers: number[] = [];
  // One reader reused for every row (rows can number 100,000): calculated values live in an
  // array indexed like `columns`, and are reset per row.
  const columnIndex = new Map(columns.map((column, i) => [column.name, i]));
  const computed: Value[] = [];
  let row: Record<string, unknown> = {};
  const reader: RowReader = {
    index: 0,
    read(name) {
      const i = columnIndex.get(name);
      return i === undefined ? readField(row, name, reader.index) : (computed[i] ?? null);
    },
  };
  for (const [index, current] of rows.entries()) {
    row = current;
    reader.index = index;
    computed.length = 0;
    for (const column of columns) computed.push(evaluate(column.expr, reader, column.source));

    if (filter) {
      const outcome = evaluate(filter.expr, reader, filter.source);
      const kept = asBoolean(outcome);
      if (kept === undefined) {
        throw rowFailure(filter.source, index, `the filter gives ${show(outcome)} instead of true or false; write a condition such as amount > 100`);
      }
      if (!kept) continue;
    }

    if (aggregate.field === null) {
      count++;
      continue;
    }
    const value = reader.read(aggregate.field);
    if (isBlank(value)) continue;
    count++;
    if (aggregate.name === 'Count') continue;
    const n = asNumber(value);
    if (typeof n !== 'number') {
      throw rowFailure(
        { path: 'expression', what: 'expression', text: String(input.expression) },
        index,
        `${aggregate.field} is ${show(value)}, which is not a number, so ${aggregate.name} cannot use it`,
      );
    }
    numbers.push(n);
  }

  if (aggregate.name === 'Count') return count;
  const result = aggregateNumbers(aggregate.name, numbers);
  if (result !== null && !Number.isFinite(result)) {
    throw validationFailed(
      [{ path: 'expression', message: 'the result is too large to represent' }],
      `The result of ${aggregate.name} is too large to represent as a number. Check the data for values that are far too large.`,
    );
  }
  // -0 would serialise as 0 anyway; normalising keeps equality checks simple for callers.
  return result === 0 ? 0 : result;
}

function checkRows(data: unknown): Record<string, unknown>[] {
  if (!Array.isArray(data)) {
    throw validationFailed(
      [{ path: 'data', message: 'must be a list of objects' }],
      'ComputeData needs "data" to be a list (array) of rows, each an object such as {"amount": 12, "region": "North"}. Pass the "value" list of the previous step, not the whole response.',
    );
  }
  if (data.length > MAX_ROWS) {
    throw validationFailed(
      [{ path: 'data', message: `must have at most ${MAX_ROWS} rows` }],
      `"data" has ${data.length} rows; ComputeData accepts at most ${MAX_ROWS}. Filter the rows in the earlier step, or compute in batches.`,
    );
  }
  data.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw validationFailed(
        [{ path: `data[${i}]`, message: 'must be an object' }],
        `Row ${i + 1} of "data" (data[${i}]) is ${Array.isArray(row) ? 'a list' : row === null ? 'null' : `a ${typeof row}`}, but each row must be an object of fields, e.g. {"amount": 12}.`,
      );
    }
  });
  return data as Record<string, unknown>[];
}

function requireText(value: unknown, path: string, example: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw validationFailed([{ path, message: 'must be non-empty text' }], `"${path}" is missing or not text; set it to ${example}.`);
  }
  return value;
}

function compileColumns(value: unknown, known: Set<string>, checkNames: boolean): Column[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw validationFailed(
      [{ path: 'calculatedColumns', message: 'must be a list of {name, definition}' }],
      '"calculatedColumns" must be a list of objects like {"name": "total", "definition": "price * qty"}.',
    );
  }
  if (value.length > MAX_CALCULATED_COLUMNS) {
    throw validationFailed(
      [{ path: 'calculatedColumns', message: `must have at most ${MAX_CALCULATED_COLUMNS} columns` }],
      `At most ${MAX_CALCULATED_COLUMNS} calculated columns are allowed; ${value.length} were sent.`,
    );
  }
  const columns: Column[] = [];
  const visible = new Set(known);
  value.forEach((item: unknown, i) => {
    const path = `calculatedColumns[${i}]`;
    const spec = (item ?? {}) as { name?: unknown; definition?: unknown };
    if (typeof spec.name !== 'string' || spec.name.trim() === '') {
      throw validationFailed(
        [{ path: `${path}.name`, message: 'must be non-empty text' }],
        `Calculated column ${i + 1} has no name; give it one, e.g. "total".`,
      );
    }
    const name = spec.name.trim();
    if (visible.has(name)) {
      const clash = known.has(name) ? 'a field of the data' : 'the name of an earlier calculated column';
      throw validationFailed(
        [{ path: `${path}.name`, message: `"${name}" is already ${clash}` }],
        `Calculated column ${i + 1} is named "${name}", which is already ${clash}. Choose another name.`,
      );
    }
    const text = requireText(spec.definition, `${path}.definition`, 'a formula such as price * qty');
    const source = { path: `${path}.definition`, what: `definition of column "${name}"`, text };
    const expr = parseExpression(text, source.path, source.what);
    if (checkNames) assertFieldsExist(expr, visible, source, value, i);
    columns.push({ name, expr, source });
    visible.add(name);
  });
  return columns;
}

function assertFieldsExist(expr: Expr, available: Set<string>, source: ExpressionSource, columnSpecs?: unknown[], position?: number): void {
  for (const name of fieldsOf(expr).keys()) {
    if (available.has(name)) continue;
    const later = columnSpecs?.findIndex((c, j) => j >= (position ?? 0) && (c as { name?: unknown })?.name === name) ?? -1;
    if (later === position) {
      throw validationFailed(
        [{ path: source.path, message: `uses its own column "${name}"` }],
        `The ${source.what} uses the column itself; a column cannot refer to itself.`,
      );
    }
    if (later > (position ?? 0)) {
      throw validationFailed(
        [{ path: source.path, message: `uses column "${name}", which is defined later` }],
        `The ${source.what} uses the column "${name}", which is defined after it. Columns are computed in order: move "${name}" before it.`,
      );
    }
    throw unknownField(name, available, source);
  }
}

function unknownField(name: string, available: Set<string>, source: ExpressionSource): Error {
  const suggestion = suggestField(name, available);
  const fields = [...available].slice(0, 20).map((f) => `"${f}"`);
  const more = available.size > 20 ? ', …' : '';
  return validationFailed(
    [{ path: source.path, message: `the field "${name}" does not exist in any row` }],
    `The ${source.what} "${source.text}" uses the field "${name}", which no row of the data has.${suggestion ? ` Did you mean "${suggestion}"?` : ''} Field names are case-sensitive; the fields are ${fields.join(', ')}${more}.`,
  );
}

/** Only the row's own properties are fields; objects and lists cannot take part in formulas. */
function readField(row: Record<string, unknown>, name: string, index: number): Value {
  if (!Object.hasOwn(row, name)) return null;
  const value = row[name];
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  throw validationFailed(
    [{ path: `data[${index}].${name}`, message: `is ${Array.isArray(value) ? 'a list' : 'an object'}` }],
    `The field "${name}" of row ${index + 1} (data[${index}]) is ${Array.isArray(value) ? 'a list' : 'an object'}; only numbers, text and true/false can be used. Pick a simple field, or flatten the data with a Select action first.`,
  );
}
