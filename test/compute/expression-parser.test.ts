import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/catalogue.js';
import { parseAggregate } from '../../src/compute/aggregate.js';
import { parseExpression, type Expr } from '../../src/compute/expression-parser.js';
import { suggestField, editDistance } from '../../src/compute/field-names.js';

const parse = (text: string): Expr => parseExpression(text, 'filter', 'filter');

/** A compact rendering of the tree, to assert structure and precedence. */
function show(expr: Expr): string {
  switch (expr.kind) {
    case 'literal':
      return JSON.stringify(expr.value);
    case 'field':
      return `[${expr.name}]`;
    case 'negate':
    case 'plus':
    case 'not':
      return `${expr.kind}(${show(expr.arg)})`;
    case 'arithmetic':
    case 'compare':
      return `(${show(expr.left)} ${expr.op} ${show(expr.right)})`;
    case 'and':
    case 'or':
      return `(${show(expr.left)} ${expr.kind} ${show(expr.right)})`;
  }
}

describe('parseExpression', () => {
  it.each([
    ['a + b * 2', '([a] + ([b] * 2))'],
    ['(a + b) * 2', '(([a] + [b]) * 2)'],
    ['a - -b', '([a] - negate([b]))'],
    ['a > 1 && b < 2 || c', '((([a] > 1) and ([b] < 2)) or [c])'],
    ['a > 1 AND b < 2 Or NOT c', '((([a] > 1) and ([b] < 2)) or not([c]))'],
    ['!a == b', '(not([a]) == [b])'],
    ['a === "x" and b !== \'y\'', '(([a] == "x") and ([b] != "y"))'],
    ['[Unit Price] * [qty]', '([Unit Price] * [qty])'],
    ['[a]]b] > 0', '([a]b] > 0)'],
    ['TRUE == true and Null == null', '((true == true) and (null == null))'],
    ['.5 + 1e3', '(0.5 + 1000)'],
    ['notes > 1 and android', '(([notes] > 1) and [android])'],
    ['+a', 'plus([a])'],
  ])('parses %j', (text, tree) => {
    expect(show(parse(text))).toBe(tree);
  });

  it('records where each part starts, for error messages', () => {
    const expr = parse('  price * [Unit Qty]');
    expect(expr.start).toBe(2);
    expect(expr.kind === 'arithmetic' && expr.right.start).toBe(10);
  });

  it.each([
    ['a.b', 1, /reading part of a field/],
    ['a[0] > 1', 1, /reading part of a field/],
    ['x > 1 || f(x)', 10, /functions such as/],
    ['a ? b : c', 1, /conditional/],
    ['a, b', 4, /a second expression starts here/],
    ['(a, b)', 1, /commas are not allowed/],
    ['a = b', 3, /a single "="/],
    ['a ** 2', 4, /expected expression after \*/],
    ['a ?? b', 4, /expected expression/],
    ['a % b', 3, /"%" is not allowed here/],
    ['2024sales > 1', 5, /cannot start with a digit/],
    ['[]', 1, /empty field name/i],
    ['', 1, /it is empty/],
  ])('rejects %j at character %i', (text, position, reason) => {
    let error: unknown;
    try {
      parse(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).detail).toMatch(reason);
    expect((error as AppError).detail).toContain(`at character ${position}:`);
  });
});

describe('parseAggregate', () => {
  it.each([
    ['Sum(amount)', 'Sum', 'amount'],
    ['  avg ( amount ) ', 'Avg', 'amount'],
    ['MEAN(x)', 'Avg', 'x'],
    ['StdDev([Unit Price])', 'StDev', 'Unit Price'],
    ['Count', 'Count', null],
    ['count()', 'Count', null],
    ['Count(x)', 'Count', 'x'],
  ])('reads %j', (text, name, field) => {
    expect(parseAggregate(text)).toMatchObject({ name, field });
  });
});

describe('suggestField', () => {
  it('prefers a case-insensitive match, then a near spelling, else nothing', () => {
    expect(suggestField('amount', ['Amount', 'amounts'])).toBe('Amount');
    expect(suggestField('ammount', ['amount', 'region'])).toBe('amount');
    expect(suggestField('zzz', ['amount', 'region'])).toBeNull();
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
