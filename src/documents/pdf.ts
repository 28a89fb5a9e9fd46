/**
 * Page-level PDF actions built on pdf-lib: MergePdfs, SplitPdf and (re-exported from its own
 * module) AddPdfWatermark. Inputs are already-decoded bytes; `path` arguments only name the
 * inputs in errors so they match what the caller sent (`files[1]`, `file`, `ranges`).
 */
import { PDFDocument } from 'pdf-lib';
import { type DocumentLimits, defaultDocumentLimits } from '../config.js';
import { validationFailed } from '../errors/catalogue.js';
import { checkPageCount, tooComplex } from './caps.js';
import { loadPdf, savePdf, type PdfOutput } from './pdf-load.js';
import { MAX_RANGE_PARTS, parsePageRanges, rangeIndices, type PageRange } from './page-ranges.js';

export { MAX_WATERMARK_LENGTH, addPdfWatermark, type WatermarkOptions } from './pdf-watermark.js';
export type { PdfOutput } from './pdf-load.js';

/** More files than this is almost certainly a loop gone wrong in the flow. */
export const MAX_MERGE_FILES = 200;

/** Concatenates two or more PDFs, pages in the order given. */
export async function mergePdfs(buffers: Buffer[], path = 'files', limits: DocumentLimits = defaultDocumentLimits()): Promise<PdfOutput> {
  if (buffers.length < 2) {
    throw validationFailed(
      [{ path, message: `must hold at least 2 PDFs (got ${buffers.length})` }],
      `MergePdfs needs at least two PDFs in "${path}", but ${buffers.length === 0 ? 'the list is empty' : 'only one was sent'}. Add the PDFs to merge, in the order they should appear.`,
    );
  }
  if (buffers.length > MAX_MERGE_FILES) {
    throw validationFailed(
      [{ path, message: `must hold at most ${MAX_MERGE_FILES} PDFs (got ${buffers.length})` }],
      `MergePdfs accepts at most ${MAX_MERGE_FILES} PDFs per call; ${buffers.length} were sent. Merge in batches and then merge the results.`,
    );
  }

  // Parse every input before building anything, so a bad file 5 fails fast and cheaply.
  const sources: PDFDocument[] = [];
  for (const [i, bytes] of buffers.entries()) sources.push(await loadPdf(bytes, `${path}[${i}]`, undefined, limits));
  checkPageCount(
    sources.reduce((sum, source) => sum + source.getPageCount(), 0),
    limits,
    'The merged PDF',
  );

  const merged = await PDFDocument.create();
  for (const source of sources) {
    const pages = await merged.copyPages(source, source.getPageIndices());
    for (const page of pages) merged.addPage(page);
  }
  return savePdf(merged);
}

export interface SplitPart extends PdfOutput {
  /** The range as written by the caller ("1-3"), or the page number when splitting by page. */
  range: string;
}

/**
 * Cuts a PDF into one document per comma-separated part of `ranges` ("1-3,5" → two
 * documents). Without `ranges` (or with ""), every page becomes its own document. Parts may
 * overlap.
 */
export async function splitPdf(
  buffer: Buffer,
  ranges?: string,
  paths: { file?: string; ranges?: string } = {},
  limits: DocumentLimits = defaultDocumentLimits(),
): Promise<SplitPart[]> {
  const source = await loadPdf(buffer, paths.file ?? 'file', 'The PDF', limits);
  const pageCount = source.getPageCount();
  if (pageCount === 0) {
    throw validationFailed(
      [{ path: paths.file ?? 'file', message: 'has no pages' }],
      'The PDF has no pages, so there is nothing to split. Check the step that produced it.',
    );
  }
  // Power Automate may send an optional field as "" when the maker leaves it empty.
  const everyPage = ranges === undefined || ranges.trim() === '';
  if (everyPage && pageCount > MAX_RANGE_PARTS) {
    throw validationFailed(
      [{ path: paths.ranges ?? 'ranges', message: `is required for documents of more than ${MAX_RANGE_PARTS} pages` }],
      `The PDF has ${pageCount} pages; splitting it into single pages would make more than ${MAX_RANGE_PARTS} documents. Give page ranges, e.g. 1-500,501-${pageCount}.`,
    );
  }
  const parts: PageRange[] = everyPage
    ? source.getPageIndices().map((i) => ({ label: String(i + 1), first: i + 1, last: i + 1 }))
    : parsePageRanges(ranges, pageCount, paths.ranges ?? 'ranges');
  // Overlapping ranges copy the same pages again and again: count what would be written first.
  const written = parts.reduce((sum, part) => sum + part.last - part.first + 1, 0);
  if (written > limits.maxPages) {
    throw tooComplex(
      `These ranges would write ${written} pages in ${parts.length} files; one action may write at most ${limits.maxPages} pages (DOC_MAX_PAGES). Ask for fewer or shorter ranges per call.`,
      { limit: 'DOC_MAX_PAGES', limitPages: limits.maxPages, pages: written },
    );
  }

  const results: SplitPart[] = [];
  for (const part of parts) {
    const out = await PDFDocument.create();
    for (const page of await out.copyPages(source, rangeIndices(part))) out.addPage(page);
    results.push({ range: part.label, ...(await savePdf(out)) });
  }
  return results;
}

/** Number of pages of a PDF this service did not build itself (ConvertToPdf's output), and for tests. */
export async function countPdfPages(buffer: Buffer, path = 'file', limits: DocumentLimits = defaultDocumentLimits()): Promise<number> {
  return (await loadPdf(buffer, path, undefined, limits)).getPageCount();
}
