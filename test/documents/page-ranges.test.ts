import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_RANGE_PARTS, pageIndexSet, parsePageRanges, rangeIndices } from '../../src/documents/page-ranges.js';
import { catchAppErrorSync, fieldErrors } from './fixtures.js';

const spans = (spec: string, pages: number): [number, number][] => parsePageRanges(spec, pages).map((r) => [r.first, r.last]);

describe('parsePageRanges', () => {
  it.each([
    [
      '1-3,5',
      10,
      [
        [1, 3],
        [5, 5],
      ],
    ],
    ['7', 10, [[7, 7]]],
    [
      ' 2 - 4 , 9 ',
      10,
      [
        [2, 4],
        [9, 9],
      ],
    ],
    ['8-', 10, [[8, 10]]],
    ['1–3', 10, [[1, 3]]],
    ['3-3', 3, [[3, 3]]],
    [
      '1-2,2-3',
      3,
      [
        [1, 2],
        [2, 3],
      ],
    ],
  ] as const)('reads %j of a %i-page document', (spec, pages, expected) => {
    expect(spans(spec, pages)).toEqual(expected);
  });

  it('keeps each part as written, for naming outputs', () => {
    expect(parsePageRanges(' 1-3 ,5', 5).map((r) => r.label)).toEqual(['1-3', '5']);
  });

  it.each([
    ['', /it is empty/],
    ['   ', /it is empty/],
    ['1,,3', /part 2 is empty/],
    ['1-3,', /part 2 is empty/],
    ['a', /\("a"\) is not a page number/],
    ['1-3-5', /\("1-3-5"\) is not a page number/],
    ['-3', /is not a page number/],
    ['1.5', /is not a page number/],
    ['0', /starts at page 0/],
    ['0-2', /starts at page 0/],
    ['5-3', /runs backwards.*Write it as 3-5/],
    ['11', /asks for page 11, but the document has 10 pages/],
    ['2,9-12', /part 2 \("9-12"\) asks for page 12/],
  ])('rejects %j with a clear reason', (spec, reason) => {
    const error = catchAppErrorSync(() => parsePageRanges(spec, 10, 'pages'));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('pages');
    expect(error.detail).toMatch(reason);
    expect(error.detail).toContain('Write pages like 1-3,5');
  });

  it('says "1 page" for a one-page document', () => {
    expect(catchAppErrorSync(() => parsePageRanges('2', 1)).detail).toContain('the document has 1 page.');
  });

  it('caps the number of parts', () => {
    const spec = Array.from({ length: MAX_RANGE_PARTS + 1 }, () => '1').join(',');
    expect(catchAppErrorSync(() => parsePageRanges(spec, 1)).detail).toContain(`at most ${MAX_RANGE_PARTS}`);
  });

  it('reads back any list of valid ranges it is given', () => {
    const range = fc.integer({ min: 1, max: 50 }).chain((first) => fc.tuple(fc.constant(first), fc.integer({ min: first, max: 50 })));
    fc.assert(
      fc.property(fc.array(range, { minLength: 1, maxLength: 20 }), (ranges) => {
        const spec = ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
        expect(spans(spec, 50)).toEqual(ranges);
      }),
    );
  });
});

describe('rangeIndices and pageIndexSet', () => {
  it('turns 1-based ranges into 0-based indices, overlaps counted once', () => {
    const ranges = parsePageRanges('2-4,3,7', 8);
    expect(rangeIndices(ranges[0]!)).toEqual([1, 2, 3]);
    expect([...pageIndexSet(ranges)].sort((a, b) => a - b)).toEqual([1, 2, 3, 6]);
  });
});
