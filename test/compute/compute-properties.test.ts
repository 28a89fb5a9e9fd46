import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/catalogue.js';
import { computeData } from '../../src/compute/compute-data.js';

const amount = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
const rows = fc.array(fc.record({ amount, n: fc.integer({ min: -50, max: 50 }) }), { maxLength: 60 });

/** Sample variance computed the textbook way, independently of the implementation. */
function referenceVariance(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((acc, v) => acc + (v - mean) * (v - mean), 0) / (values.length - 1);
}

describe('computeData properties', () => {
  it('Sum equals a JavaScript reduce (null for no rows)', () => {
    fc.assert(
      fc.property(rows, (data) => {
        const expected = data.length === 0 ? null : data.reduce((sum, row) => sum + row.amount, 0);
        expect(computeData({ data, expression: 'Sum(amount)' })).toBe(expected === 0 ? 0 : expected);
      }),
    );
  });

  it('Count with a filter equals Array.filter(...).length', () => {
    fc.assert(
      fc.property(rows, fc.integer({ min: -60, max: 60 }), (data, threshold) => {
        const expected = data.filter((row) => row.n > threshold).length;
        expect(computeData({ data, expression: 'Count', filter: `n > ${threshold}` })).toBe(expected);
        const inside = data.filter((row) => !(row.n < threshold || row.n > threshold + 10)).length;
        expect(computeData({ data, expression: 'Count()', filter: `not (n < ${threshold} or n > ${threshold} + 10)` })).toBe(inside);
      }),
    );
  });

  it('Min ≤ Avg ≤ Max, and Avg × Count ≈ Sum', () => {
    fc.assert(
      fc.property(
        rows.filter((d) => d.length > 0),
        (data) => {
          const [min, avg, max, sum, count] = ['Min', 'Avg', 'Max', 'Sum', 'Count'].map((f) => computeData({ data, expression: `${f}(amount)` })) as number[];
          // computeData reports -0 as 0; adding 0 normalises the reference the same way.
          expect(min).toBe(Math.min(...data.map((r) => r.amount)) + 0);
          expect(max).toBe(Math.max(...data.map((r) => r.amount)) + 0);
          expect(avg!).toBeGreaterThanOrEqual(min! - 1e-6);
          expect(avg!).toBeLessThanOrEqual(max! + 1e-6);
          expect(count).toBe(data.length);
          expect(Math.abs(avg! * count! - sum!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(sum!), data.length * 1e6));
        },
      ),
    );
  });

  it('Var is the sample variance, StDev its square root, and shifting the data changes neither', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 2, maxLength: 40 }), fc.integer({ min: -1e6, max: 1e6 }), (values, shift) => {
        const data = values.map((v) => ({ v, shifted: v + shift }));
        const variance = computeData({ data, expression: 'Var(v)' })!;
        expect(variance).toBeCloseTo(referenceVariance(values), 6);
        expect(computeData({ data, expression: 'StDev(v)' })!).toBeCloseTo(Math.sqrt(variance), 6);
        expect(computeData({ data, expression: 'Var(shifted)' })!).toBeCloseTo(variance, 3);
      }),
    );
  });

  it('a calculated column doubles the sum when it doubles each value', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ n: fc.integer({ min: -1000, max: 1000 }) }), { minLength: 1, maxLength: 50 }), (data) => {
        const sum = computeData({ data, expression: 'Sum(n)' })!;
        expect(computeData({ data, expression: 'Sum(d)', calculatedColumns: [{ name: 'd', definition: 'n * 2' }] })).toBe(sum * 2);
      }),
    );
  });

  it('any filter text gives a number or a validation error, never a crash', () => {
    const data = [
      { a: 1, b: 'x', c: true },
      { a: 2, b: 'y', c: false },
    ];
    const alphabet = fc.constantFrom(...'ab c()[]!=<>&|+-*/%.,;?:\'"0123 andortNOT this constructor __proto__ Math'.split(''));
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.array(alphabet, { maxLength: 40 }).map((chars) => chars.join('')),
    );
    fc.assert(
      fc.property(text, (filter) => {
        try {
          const result = computeData({ data, expression: 'Count', filter });
          expect(typeof result).toBe('number');
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).code).toBe('validation_failed');
          expect((error as AppError).detail.length).toBeGreaterThan(20);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
