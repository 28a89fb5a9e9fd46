/**
 * The one parser for page-range arguments (SplitPdf's `ranges`, AddPdfWatermark's `pages`),
 * so both actions accept and reject exactly the same text.
 *
 * Syntax: comma-separated parts, each `N` (one page), `N-M` (pages N to M inclusive) or `N-`
 * (page N to the last page). Pages count from 1. Spaces are ignored, and an en dash counts
 * as a hyphen because Word and Outlook autocorrect "1-3" to "1–3".
 */
import { validationFailed } from '../errors/catalogue.js';

export interface PageRange {
  /** The part as the caller wrote it, trimmed ("1-3"); names the output in SplitPdf. */
  label: string;
  /** First page, 1-based. */
  first: number;
  /** Last page, 1-based, inclusive. */
  last: number;
}

/** Keeps one request from asking for an unbounded number of output documents. */
export const MAX_RANGE_PARTS = 1000;

const PART = /^(\d+)(?:\s*([-–])\s*(\d*))?$/;

/**
 * Parses `spec` against a document of `pageCount` pages. Throws a validation error naming
 * `path` when the syntax is wrong or a page does not exist.
 */
export function parsePageRanges(spec: string, pageCount: number, path = 'ranges'): PageRange[] {
  const fail = (message: string, hint = ''): never => {
    throw validationFailed(
      [{ path, message }],
      `The page range "${spec}" is not valid: ${message}.${hint} Write pages like 1-3,5 (pages count from 1; "4-" means page 4 to the end).`,
    );
  };

  if (spec.trim() === '') fail('it is empty');
  const parts = spec.split(',');
  if (parts.length > MAX_RANGE_PARTS) fail(`it has ${parts.length} parts; at most ${MAX_RANGE_PARTS} are allowed`);

  return parts.map((raw, i) => {
    const label = raw.trim();
    const which = parts.length > 1 ? `part ${i + 1}` : 'it';
    if (label === '') fail(`${which} is empty (two commas in a row, or a comma at the start or end)`);
    const match = PART.exec(label);
    if (!match) fail(`${which} ("${label}") is not a page number or a range like 2-4`);
    const [, firstText, dash, lastText] = match!;
    const first = Number(firstText);
    const last = dash === undefined ? first : lastText === '' ? pageCount : Number(lastText);
    if (first < 1) fail(`${which} ("${label}") starts at page 0, but pages count from 1`);
    if (last < first) fail(`${which} ("${label}") runs backwards`, ` Write it as ${last}-${first}.`);
    if (first > pageCount || last > pageCount) {
      const beyond = first > pageCount ? first : last;
      fail(`${which} ("${label}") asks for page ${beyond}, but the document has ${pageCount} page${pageCount === 1 ? '' : 's'}`);
    }
    return { label, first, last };
  });
}

/** 0-based page indices of one range, in order, for pdf-lib. */
export function rangeIndices(range: PageRange): number[] {
  const indices: number[] = [];
  for (let page = range.first; page <= range.last; page++) indices.push(page - 1);
  return indices;
}

/** 0-based page indices covered by any of the ranges (overlaps count once). */
export function pageIndexSet(ranges: PageRange[]): Set<number> {
  const set = new Set<number>();
  for (const range of ranges) for (const index of rangeIndices(range)) set.add(index);
  return set;
}
