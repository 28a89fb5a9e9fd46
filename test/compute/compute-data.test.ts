import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/catalogue.js';
import { MAX_ROWS, computeData, type ComputeDataInput } from '../../src/compute/compute-data.js';

/**
 * qty: 10, 4, 6, 3, 7 → sum 30, mean 6, squared deviations 16+4+0+9+1 = 30,
 * sample variance 30/4 = 7.5, sample standard deviation √7.5.
 * total = qty*price: 25, 28, 15, 12, 49 → sum 129, mean 25.8, squared deviations
 * 0.64+4.84+116.64+190.44+538.24 = 850.8, sample variance 212.7.
 */
const sales = [
  { region: 'North', product: 'Pen', qty: 10, price: 2.5, returned: false, 'Unit Price': 2.5 },
  { region: 'North', product: 'Ink', qty: 4, price: 7, returned: true, 'Unit Price': 7 },
  { region: 'South', product: 'Pen', qty: 6, price: 2.5, returned: false, 'Unit Price': 2.5 },
  { region: 'South', product: 'Pad', qty: 3, price: 4, returned: false, 'Unit Price': 4 },
  { region: 'East', product: 'Ink', qty: 7, price: 7, returned: false, 'Unit Price': 7 },
];
const total = [{ name: 'total', definition: 'qty * price' }];

function run(input: Partial<ComputeDataInput>): number | null {
  return computeData({ data: sales, expression: 'Count', ...input });
}

function failure(input: Partial<ComputeDataInput>): AppError {
  try {
    run(input);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a validation error');
}

describe('computeData: known answers', () => {
  it.each([
    ['Sum(qty)', undefined, undefined, 30],
    ['Avg(qty)', undefined, undefined, 6],
    ['Min(qty)', undefined, undefined, 3],
    ['Max(qty)', undefined, undefined, 10],
    ['Count', undefined, undefined, 5],
    ['Count()', undefined, undefined, 5],
    ['count(qty)', undefined, undefined, 5],
    ['Var(qty)', undefined, undefined, 7.5],
    ['StDev(qty)', undefined, undefined, Math.sqrt(7.5)],
    ['Sum(qty)', "region == 'North'", undefined, 14],
    ['Var(qty)', "region == 'North'", undefined, 18],
    ['StDev(qty)', 'region == "North"', undefined, Math.sqrt(18)],
    ['Count', 'qty > 5 && !returned', undefined, 3],
    ['Sum(qty)', 'qty > 5 and not returned', undefined, 23],
    ['Sum(qty)', 'qty >= 4 AND qty <= 7', undefined, 17],
    ['Count', "product != 'Pen' Or region === 'South'", undefined, 4],
    ['Count', "region == 'East' or region == 'North' and qty < 5", undefined, 2],
    ['Count', '1 + 2 * 3 == 7', undefined, 5],
    ['Count', '(1 + 2) * 3 == 9 && -qty < -5', undefined, 3],
    ['Count', 'qty / 2 > 2.5', undefined, 3],
    ['Sum([Unit Price])', 'price == [Unit Price]', undefined, 23],
    ['Sum(total)', undefined, total, 129],
    ['Avg(total)', undefined, total, 25.8],
    ['Min(total)', undefined, total, 12],
    ['Max(total)', undefined, total, 49],
    ['Var(total)', undefined, total, 212.7],
    ['StDev(total)', undefined, total, Math.sqrt(212.7)],
    ['Sum(qty)', 'total > 20', total, 21],
    ['Sum(double)', undefined, [...total, { name: 'less', definition: 'total - 5' }, { name: 'double', definition: 'less * 2' }], 208],
    ['Average(qty)', undefined, undefined, 6],
    ['STDDEV(qty)', undefined, undefined, Math.sqrt(7.5)],
    ['variance(qty)', undefined, undefined, 7.5],
  ])('%s where %s → %d', (expression, filter, calculatedColumns, expected) => {
    const result = run({ expression, filter, calculatedColumns });
    expect(result).not.toBeNull();
    expect(result).toBeCloseTo(expected, 10);
  });

  it('returns null when nothing matches, but Count returns 0', () => {
    for (const expression of ['Sum(qty)', 'Avg(qty)', 'Min(qty)', 'Max(qty)', 'StDev(qty)', 'Var(qty)']) {
      expect(run({ expression, filter: 'qty > 100' })).toBeNull();
    }
    expect(run({ expression: 'Count', filter: 'qty > 100' })).toBe(0);
    expect(run({ expression: 'Count(qty)', filter: 'qty > 100' })).toBe(0);
  });

  it('returns null for StDev and Var of a single value, which have no sample statistic', () => {
    expect(run({ expression: 'StDev(qty)', filter: "region == 'East'" })).toBeNull();
    expect(run({ expression: 'Var(qty)', filter: "region == 'East'" })).toBeNull();
    expect(run({ expression: 'Avg(qty)', filter: "region == 'East'" })).toBe(7);
  });

  it('handles empty data without complaining about field names', () => {
    expect(computeData({ data: [], expression: 'Sum(anything)', filter: 'x > 1' })).toBeNull();
    expect(computeData({ data: [], expression: 'Count' })).toBe(0);
  });

  it('reads numbers sent as text and skips blanks, as Excel and SharePoint rows need', () => {
    const data = [{ amount: '12.5' }, { amount: ' 3 ' }, { amount: '' }, { amount: null }, { other: 1 }, { amount: '-1e1' }];
    expect(computeData({ data, expression: 'Sum(amount)' })).toBe(5.5);
    expect(computeData({ data, expression: 'Count(amount)' })).toBe(3);
    expect(computeData({ data, expression: 'Count' })).toBe(6);
    expect(computeData({ data, expression: 'Count', filter: 'amount > 2' })).toBe(2);
    expect(computeData({ data, expression: 'Count', filter: 'amount == null' })).toBe(3);
    expect(computeData({ data, expression: 'Count', filter: "amount == '12.50'" })).toBe(1);
  });

  it('compares text exactly and case-sensitively, and treats blank as equal only to blank', () => {
    const data = [{ s: 'apple' }, { s: 'Apple' }, { s: 'banana' }, { s: '' }];
    expect(computeData({ data, expression: 'Count', filter: "s == 'apple'" })).toBe(1);
    expect(computeData({ data, expression: 'Count', filter: "s < 'b'" })).toBe(2);
    expect(computeData({ data, expression: 'Count', filter: 's == ""' })).toBe(1);
    expect(computeData({ data, expression: 'Count', filter: 's != null' })).toBe(3);
  });

  it('gives blank for division by zero, so those rows drop out of the aggregate', () => {
    const data = [
      { profit: 10, revenue: 100 },
      { profit: 5, revenue: 0 },
      { profit: 30, revenue: 100 },
    ];
    const margin = [{ name: 'margin', definition: 'profit / revenue' }];
    expect(computeData({ data, expression: 'Avg(margin)', calculatedColumns: margin })).toBeCloseTo(0.2, 12);
    expect(computeData({ data, expression: 'Count(margin)', calculatedColumns: margin })).toBe(2);
    expect(computeData({ data, expression: 'Count', filter: 'margin > 0 or margin <= 0', calculatedColumns: margin })).toBe(2);
  });

  it('accepts conditions stored as true/false text', () => {
    const data = [{ done: 'TRUE' }, { done: 'false' }, { done: true }];
    expect(computeData({ data, expression: 'Count', filter: 'done' })).toBe(2);
    expect(computeData({ data, expression: 'Count', filter: 'not done' })).toBe(1);
  });

  it('does not treat inherited object properties as fields', () => {
    // Row 1 inherits a hasOwnProperty function from Object.prototype; it must read as blank.
    const data: Record<string, unknown>[] = [{ a: 1 }, { a: 2, hasOwnProperty: 'yes' }];
    expect(computeData({ data, expression: 'Count', filter: 'hasOwnProperty == null' })).toBe(1);
    expect(() => computeData({ data: [{ a: 1 }], expression: 'Sum(constructor)' })).toThrow(/"constructor", which no row of the data has/);
  });
});

describe('computeData: bad input is a 400 naming the problem', () => {
  it.each([
    ['filter', { filter: 'qty >' }, 'filter', /at character 6: expected expression after >/],
    ['filter', { filter: 'qty = 5' }, 'filter', /at character 5: a single "=" \(to compare, write ==\)/],
    ['filter', { filter: 'qty.value > 1' }, 'filter', /at character 1: reading part of a field/],
    ['filter', { filter: 'qty > 1 && Math.max(qty) > 1' }, 'filter', /at character 12: functions such as round/],
    ['filter', { filter: 'sum(qty) > 1' }, 'filter', /at character 1: functions/],
    ['filter', { filter: 'this.qty > 1' }, 'filter', /reading part of a field/],
    ['filter', { filter: 'this > 1' }, 'filter', /at character 1: "this" is not supported/],
    ['filter', { filter: 'qty > 1 ? true : false' }, 'filter', /the conditional "\? :" is not supported/],
    ['filter', { filter: 'qty % 2 == 0' }, 'filter', /at character 5: "%" is not allowed here/],
    ['filter', { filter: 'qty | 1' }, 'filter', /"\|" is not allowed here/],
    ['filter', { filter: '~qty' }, 'filter', /"~" is not allowed here/],
    ['filter', { filter: 'qty > 1; qty < 5' }, 'filter', /at character 10: a second expression starts here/],
    ['filter', { filter: "'unclosed" }, 'filter', /unclosed quote/],
    ['filter', { filter: 'Qty > 1' }, 'filter', /uses the field "Qty", which no row of the data has\. Did you mean "qty"\?/],
    ['filter', { filter: 'region > 5' }, 'filter', /row 1 \(data\[0\]\): text "North" cannot be compared with a number 5 using ">"/],
    ['filter', { filter: 'qty' }, 'filter', /row 1 \(data\[0\]\): the filter gives 10 instead of true or false/],
    ['filter', { filter: 'region && qty > 1' }, 'filter', /region is "North", which is not a condition/],
    ['filter', { filter: 42 }, 'filter', /"filter" is missing or not text/],
    ['expression', { expression: 'Total(qty)' }, 'expression', /"Total" is not an aggregate; use one of Sum, Avg, Min, Max, Count, StDev, Var/],
    ['expression', { expression: 'Sum(qty, price)' }, 'expression', /Sum takes one field, but 2 were given/],
    ['expression', { expression: 'Sum(qty * price)' }, 'expression', /add it as a calculated column/],
    ['expression', { expression: 'Sum' }, 'expression', /Sum needs a field in parentheses/],
    ['expression', { expression: 'Avg()' }, 'expression', /Avg needs one field/],
    ['expression', { expression: 'Sum(qty) + 1' }, 'expression', /must be a single aggregate/],
    ['expression', { expression: 'Sum(region)' }, 'expression', /row 1 \(data\[0\]\): region is "North", which is not a number, so Sum cannot use it/],
    ['expression', { expression: 'Max(qtty)' }, 'expression', /"qtty".*Did you mean "qty"\?/],
    ['expression', { expression: '' }, 'expression', /"expression" is missing or not text/],
    ['data', { data: { rows: [] } }, 'data', /"data" to be a list/],
    ['data[1]', { data: [{ a: 1 }, 'x'] }, 'data[1]', /Row 2 of "data" \(data\[1\]\) is a string/],
    [
      'column',
      { expression: 'Sum(t)', calculatedColumns: [{ name: 't', definition: 'region * 2' }] },
      'calculatedColumns[0].definition',
      /row 1 \(data\[0\]\): region is "North", which is not a number/,
    ],
    [
      'column',
      { calculatedColumns: [{ name: 'qty', definition: '1' }] },
      'calculatedColumns[0].name',
      /named "qty", which is already a field of the data\. Choose another name/,
    ],
    [
      'column',
      {
        calculatedColumns: [
          { name: 'a', definition: '1' },
          { name: 'a', definition: '2' },
        ],
      },
      'calculatedColumns[1].name',
      /already the name of an earlier calculated column/,
    ],
    [
      'column',
      {
        calculatedColumns: [
          { name: 'a', definition: 'b + 1' },
          { name: 'b', definition: '2' },
        ],
      },
      'calculatedColumns[0].definition',
      /uses the column "b", which is defined after it/,
    ],
    ['column', { calculatedColumns: [{ name: 'a', definition: 'a + 1' }] }, 'calculatedColumns[0].definition', /cannot refer to itself/],
    ['column', { calculatedColumns: [{ name: 'a' }] }, 'calculatedColumns[0].definition', /is missing or not text/],
    ['column', { calculatedColumns: [{ definition: '1' }] }, 'calculatedColumns[0].name', /has no name/],
    ['column', { calculatedColumns: 'qty * 2' }, 'calculatedColumns', /must be a list of objects/],
    ['column', { calculatedColumns: [{ name: 'big', definition: '1e308 * 10' }] }, 'calculatedColumns[0].definition', /too large/],
  ] as const)('%s: %j', (_, input, path, reason) => {
    const error = failure(input as Partial<ComputeDataInput>);
    expect(error.code).toBe('validation_failed');
    expect(error.status).toBe(400);
    const errors = error.extras['errors'] as { path: string; message: string }[];
    expect(errors[0]?.path).toBe(path);
    expect(error.detail).toMatch(reason);
  });

  it('refuses objects and lists used as values', () => {
    const error = (() => {
      try {
        computeData({ data: [{ a: { b: 1 } }], expression: 'Sum(a)' });
      } catch (e) {
        return e as AppError;
      }
      throw new Error('expected an error');
    })();
    expect(error.extras['errors']).toEqual([{ path: 'data[0].a', message: 'is an object' }]);
    expect(error.detail).toContain('Select action');
  });

  it('limits expression length and row count', () => {
    expect(failure({ filter: `qty > ${'1'.repeat(1001)}` }).detail).toMatch(/1007 characters long; at most 1000/);
    expect(failure({ data: Array.from({ length: MAX_ROWS + 1 }, () => ({ a: 1 })) }).detail).toMatch(/at most 100000/);
  });

  it('survives deeply nested parentheses within the length limit', () => {
    expect(run({ filter: `${'('.repeat(450)}qty > 5${')'.repeat(450)}` })).toBe(3);
  });
});
