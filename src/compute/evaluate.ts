/**
 * Evaluates a parsed filter or column definition against one row. Semantics (documented for
 * makers with ComputeData):
 *   - arithmetic needs numbers (or numeric text); a blank operand makes the result blank;
 *     dividing by zero gives blank too, so one zero row does not sink a whole report —
 *     aggregates skip blanks and a blank never satisfies <, >, <=, >=;
 *   - two values compare as numbers when both are numbers or numeric text, else as text
 *     (case-sensitive); blank equals only blank; ordering text against a number is an error;
 *   - &&, ||, ! take conditions: true/false, "true"/"false" text, and blank (false).
 * Every failure is a validation error naming the row and the character position.
 */
import { validationFailed } from '../errors/catalogue.js';
import type { ComparisonOp, Expr } from './expression-parser.js';
import { asBoolean, asNumber, isBlank, kindOf, show, type Value } from './values.js';

/** Where an expression came from, for messages. */
export interface ExpressionSource {
  path: string;
  what: string;
  text: string;
}

/** One row as the evaluator sees it: a 0-based index and a reader of field values. */
export interface RowReader {
  index: number;
  read(name: string): Value;
}

export function rowFailure(source: ExpressionSource, rowIndex: number, message: string, start?: number): Error {
  const row = `row ${rowIndex + 1} (data[${rowIndex}])`;
  const at = start === undefined ? '' : ` (at character ${start + 1})`;
  return validationFailed(
    [{ path: source.path, message: `${row}: ${message}${at}` }],
    `The ${source.what} "${source.text}" cannot be computed for ${row}: ${message}${at}. Check that row's data, or use a filter to leave such rows out.`,
  );
}

function nameOf(expr: Expr, value: Value): string {
  return expr.kind === 'field' ? `${expr.name} is ${show(value)}, which` : `${show(value)}`;
}

// Module-level functions rather than closures per call: evaluate runs once per row and
// column, up to millions of times per request.
export function evaluate(expr: Expr, row: RowReader, source: ExpressionSource): Value {
  return walk(expr, row, source);
}

function walk(node: Expr, row: RowReader, source: ExpressionSource): Value {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'field':
      return row.read(node.name);
    case 'negate': {
      const n = number(node.arg, row, source);
      return n === null ? null : -n;
    }
    case 'plus':
      return number(node.arg, row, source);
    case 'not':
      return !condition(node.arg, row, source);
    case 'and':
      return condition(node.left, row, source) && condition(node.right, row, source);
    case 'or':
      return condition(node.left, row, source) || condition(node.right, row, source);
    case 'arithmetic': {
      const left = number(node.left, row, source);
      const right = number(node.right, row, source);
      if (left === null || right === null) return null;
      if (node.op === '/' && right === 0) return null;
      const result = node.op === '+' ? left + right : node.op === '-' ? left - right : node.op === '*' ? left * right : left / right;
      if (!Number.isFinite(result)) throw rowFailure(source, row.index, `the result of "${node.op}" is too large to represent`, node.start);
      return result;
    }
    case 'compare':
      return compare(node.op, walk(node.left, row, source), walk(node.right, row, source), (message) => {
        throw rowFailure(source, row.index, message, node.start);
      });
  }
}

function number(node: Expr, row: RowReader, source: ExpressionSource): number | null {
  const value = walk(node, row, source);
  const n = asNumber(value);
  if (n === undefined) throw rowFailure(source, row.index, `${nameOf(node, value)} is not a number`, node.start);
  return n;
}

function condition(node: Expr, row: RowReader, source: ExpressionSource): boolean {
  const value = walk(node, row, source);
  const b = asBoolean(value);
  if (b === undefined) {
    const message = `${nameOf(node, value)} is not a condition (true or false); compare it, e.g. ${exampleComparison(node)}`;
    throw rowFailure(source, row.index, message, node.start);
  }
  return b;
}

function exampleComparison(node: Expr): string {
  return node.kind === 'field' ? `${node.name} == "yes" or ${node.name} > 0` : 'amount > 0';
}

/** Equality and ordering with the coercions described at the top of this file. */
export function compare(op: ComparisonOp, a: Value, b: Value, fail: (message: string) => never): boolean {
  const blankA = isBlank(a);
  const blankB = isBlank(b);
  if (blankA || blankB) {
    if (op === '==') return blankA && blankB;
    if (op === '!=') return !(blankA && blankB);
    return false;
  }
  const na = asNumber(a);
  const nb = asNumber(b);
  let order: number;
  if (typeof na === 'number' && typeof nb === 'number') {
    order = na < nb ? -1 : na > nb ? 1 : 0;
  } else if (typeof a === 'string' && typeof b === 'string') {
    order = a < b ? -1 : a > b ? 1 : 0;
  } else if (typeof a === 'boolean' && typeof b === 'boolean') {
    if (op === '==') return a === b;
    if (op === '!=') return a !== b;
    return fail(`true/false values cannot be ordered with "${op}"`);
  } else {
    if (op === '==') return false;
    if (op === '!=') return true;
    return fail(`${kindOf(a)} ${show(a)} cannot be compared with ${kindOf(b)} ${show(b)} using "${op}"`);
  }
  switch (op) {
    case '==':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

/** Field names an expression reads, in order of first use, with where each first appears. */
export function fieldsOf(expr: Expr, found = new Map<string, number>()): Map<string, number> {
  switch (expr.kind) {
    case 'field':
      if (!found.has(expr.name)) found.set(expr.name, expr.start);
      break;
    case 'negate':
    case 'plus':
    case 'not':
      fieldsOf(expr.arg, found);
      break;
    case 'arithmetic':
    case 'compare':
    case 'and':
    case 'or':
      fieldsOf(expr.left, found);
      fieldsOf(expr.right, found);
      break;
    case 'literal':
      break;
  }
  return found;
}
