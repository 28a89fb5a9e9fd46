/**
 * Parses ComputeData's filters and column definitions with jsep, then converts jsep's tree
 * into our own small one (`Expr`). The conversion is the whitelist: any jsep node or operator
 * that has no `Expr` counterpart is rejected here with its position, so the evaluator only
 * ever sees literals, field reads and the operators below. Nothing is ever executed as code.
 *
 * Grammar, for makers:
 *   fields        amount, unit_price, [Unit Price] (brackets for names with spaces or symbols)
 *   literals      12, 3.5, 'text', "text", true, false, null
 *   arithmetic    + - * /  and parentheses
 *   comparison    == != < <= > >=   (=== and !== mean the same as == and !=)
 *   logic         && || !   or the words and, or, not (any case)
 *
 * jsep is configured once, process-wide, when this module loads; nothing else in the
 * product uses jsep.
 */
import jsep from 'jsep';
import { validationFailed } from '../errors/catalogue.js';
import type { Value } from './values.js';

export type ArithmeticOp = '+' | '-' | '*' | '/';
export type ComparisonOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { kind: 'literal'; value: Value; start: number }
  | { kind: 'field'; name: string; start: number }
  | { kind: 'negate' | 'plus' | 'not'; arg: Expr; start: number }
  | { kind: 'arithmetic'; op: ArithmeticOp; left: Expr; right: Expr; start: number }
  | { kind: 'compare'; op: ComparisonOp; left: Expr; right: Expr; start: number }
  | { kind: 'and' | 'or'; left: Expr; right: Expr; start: number };

/** A parsed jsep node with the source offset our hooks attach. */
export type RawNode = jsep.Expression & { start?: number };

export const MAX_EXPRESSION_LENGTH = 1000;

/** All spellings of a word in any letter case ("and", "AND", "And", …). */
function caseVariants(word: string): string[] {
  let variants = [''];
  for (const ch of word) variants = variants.flatMap((prefix) => [prefix + ch.toLowerCase(), prefix + ch.toUpperCase()]);
  return [...new Set(variants)];
}

const REMOVED_BINARY = ['??', '|', '^', '&', '<<', '>>', '>>>', '%', '**'];
for (const op of REMOVED_BINARY) jsep.removeBinaryOp(op);
jsep.removeUnaryOp('~');
for (const op of caseVariants('or')) jsep.addBinaryOp(op, 1);
for (const op of caseVariants('and')) jsep.addBinaryOp(op, 2);
for (const op of caseVariants('not')) jsep.addUnaryOp(op);
for (const [word, value] of [
  ['true', true],
  ['false', false],
  ['null', null],
] as const) {
  for (const variant of caseVariants(word)) jsep.addLiteral(variant, value);
}

// jsep records no positions. Every token starts with the 'gobble-token' hook and ends with
// 'after-token' (numbers are routed through the hook so this holds for them too), so a stack
// of start offsets pairs them up.
const tokenStarts: number[] = [];
const OPEN_BRACKET = 91;

jsep.hooks.add('gobble-token', function (env) {
  tokenStarts.push(this.index);
  if (this.code === OPEN_BRACKET) env.node = gobbleBracketedField(this);
  else if ((this.code >= 48 && this.code <= 57) || this.code === 46) env.node = this.gobbleNumericLiteral();
});
jsep.hooks.add('after-token', (env) => {
  const start = tokenStarts.pop();
  if (env.node && start !== undefined) (env.node as RawNode).start ??= start;
});

/** `[Unit Price]` is a field name; `]]` inside brackets stands for one `]`. */
function gobbleBracketedField(scope: jsep.HookScope): jsep.Expression {
  const { expr } = scope;
  const start = scope.index;
  let name = '';
  let i = start + 1;
  for (;;) {
    if (i >= expr.length) scope.throwError('Unclosed [ (a field name in brackets must end with ])');
    const ch = expr.charAt(i);
    if (ch === ']' && expr.charAt(i + 1) === ']') {
      name += ']';
      i += 2;
    } else if (ch === ']') {
      break;
    } else {
      name += ch;
      i++;
    }
  }
  if (name.trim() === '') scope.throwError('Empty field name []');
  scope.index = i + 1;
  return { type: 'Identifier', name: name.trim() };
}

const GRAMMAR_HINT =
  'Use field names (in [brackets] if they contain spaces), numbers, quoted text, + - * /, comparisons == != < <= > >=, and &&, ||, ! (or and, or, not).';

function fail(path: string, what: string, text: string, message: string, index: number): never {
  throw validationFailed(
    [{ path, message: `character ${index + 1}: ${message}` }],
    `The ${what} "${text}" is not valid at character ${index + 1}: ${message}. ${GRAMMAR_HINT}`,
  );
}

/** Turns jsep's parse error texts into advice. */
function explainJsepError(description: string): string {
  if (description === 'Unexpected "="') return 'a single "=" (to compare, write ==)';
  const unexpected = /^Unexpected "?(.+?)"?$/.exec(description);
  if (unexpected) return `"${unexpected[1]}" is not allowed here`;
  if (description.startsWith('Variable names cannot start with a number')) {
    return 'a field name cannot start with a digit; write such a name in brackets, e.g. [2024 sales]';
  }
  return description.charAt(0).toLowerCase() + description.slice(1);
}

/** jsep's tree for `text`, with positions; throws validation errors for syntax errors. */
export function parseRaw(text: string, path: string, what: string): RawNode {
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw validationFailed(
      [{ path, message: `must be at most ${MAX_EXPRESSION_LENGTH} characters` }],
      `The ${what} is ${text.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed. Split the work into calculated columns.`,
    );
  }
  if (text.trim() === '') fail(path, what, text, 'it is empty', 0);
  tokenStarts.length = 0;
  try {
    return jsep(text) as RawNode;
  } catch (error) {
    if (error instanceof RangeError) fail(path, what, text, 'it is nested too deeply', 0);
    const { description, index } = error as { description?: string; index?: number };
    fail(path, what, text, explainJsepError(description ?? String(error)), index ?? 0);
  }
}

/** Start offset of a node; composite nodes start where their leftmost part starts. */
export function startOf(node: RawNode): number {
  if (typeof node.start === 'number') return node.start;
  for (const key of ['left', 'test', 'callee', 'object', 'argument']) {
    const child = node[key];
    if (child && typeof child === 'object' && 'type' in child) return startOf(child as RawNode);
  }
  const body = (node['body'] ?? node['expressions']) as RawNode[] | undefined;
  return body?.[0] ? startOf(body[0]) : 0;
}

const ARITHMETIC = new Set<string>(['+', '-', '*', '/']);
const COMPARISON: Record<string, ComparisonOp> = { '==': '==', '===': '==', '!=': '!=', '!==': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

/** Parses a filter or column definition into the whitelisted tree. */
export function parseExpression(text: string, path: string, what: string): Expr {
  const raw = parseRaw(text, path, what);
  const convert = (node: RawNode): Expr => {
    const start = startOf(node);
    switch (node.type) {
      case 'Literal': {
        const value = (node as jsep.Literal).value;
        if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
          return { kind: 'literal', value, start };
        }
        break;
      }
      case 'Identifier':
        return { kind: 'field', name: (node as jsep.Identifier).name, start };
      case 'UnaryExpression': {
        const { operator, argument } = node as jsep.UnaryExpression;
        const arg = convert(argument as RawNode);
        if (operator === '-') return { kind: 'negate', arg, start };
        if (operator === '+') return { kind: 'plus', arg, start };
        if (operator === '!' || operator.toLowerCase() === 'not') return { kind: 'not', arg, start };
        return fail(path, what, text, `the operator "${operator}" is not supported`, start);
      }
      case 'BinaryExpression': {
        const { operator, left, right } = node as jsep.BinaryExpression;
        const l = convert(left as RawNode);
        const r = convert(right as RawNode);
        const word = operator.toLowerCase();
        if (operator === '&&' || word === 'and') return { kind: 'and', left: l, right: r, start };
        if (operator === '||' || word === 'or') return { kind: 'or', left: l, right: r, start };
        if (ARITHMETIC.has(operator)) return { kind: 'arithmetic', op: operator as ArithmeticOp, left: l, right: r, start };
        const comparison = COMPARISON[operator];
        if (comparison) return { kind: 'compare', op: comparison, left: l, right: r, start };
        return fail(path, what, text, `the operator "${operator}" is not supported`, start);
      }
    }
    // For side-by-side expressions, point at the second one: that is where an operator is missing.
    const second = node.type === 'Compound' ? (node['body'] as RawNode[])[1] : undefined;
    return fail(path, what, text, rejectionFor(node), second ? startOf(second) : start);
  };
  return convert(raw);
}

/** Why a jsep node type is refused, in terms of what the maker wrote. */
export function rejectionFor(node: RawNode): string {
  switch (node.type) {
    case 'CallExpression':
      return 'functions such as round(...) are not supported here (only expression takes an aggregate like Sum(amount))';
    case 'MemberExpression':
      return 'reading part of a field (a.b or a[b]) is not supported; for a field whose name contains a dot, write [a.b]';
    case 'ThisExpression':
      return '"this" is not supported';
    case 'ArrayExpression':
      return 'lists are not supported';
    case 'ConditionalExpression':
      return 'the conditional "? :" is not supported';
    case 'Compound':
      return 'a second expression starts here; join the parts with an operator such as && or +, and remove any comma or semicolon';
    case 'SequenceExpression':
      return 'commas are not allowed inside parentheses';
    case 'Literal':
      return 'this kind of literal is not supported';
    default:
      return `"${node.type}" is not supported`;
  }
}
