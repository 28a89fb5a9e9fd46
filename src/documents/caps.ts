/**
 * The caps of CONTRACT §8 that need a look inside a document, checked as early as each can be:
 * a ZIP's expanded size from its central directory before anything is inflated, a PDF's page
 * tree walked with a budget before pdf-lib flattens it, the produced output before it is
 * encoded. Found before the work: not billed; the output cap is found after it: billed.
 */
import type { PDFDocument } from 'pdf-lib';
import { PDFArray, PDFDict, PDFName, PDFRef } from 'pdf-lib';
import type { DocumentLimits } from '../config.js';
import { AppError } from '../errors/catalogue.js';

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

export function tooComplex(detail: string, extras: Record<string, unknown>, billed = false): AppError {
  return new AppError('document_too_complex', detail, { extras, billed });
}

/** The produced file(s) may be at most DOC_MAX_OUTPUT_MB; the work was done, so this is billed. */
export function checkOutputSize(bytes: number, limits: DocumentLimits): void {
  if (bytes > limits.maxOutputBytes) {
    throw tooComplex(
      `The result would be ${mib(bytes)}, more than the ${mib(limits.maxOutputBytes)} one action may produce (DOC_MAX_OUTPUT_MB). Ask for fewer pages or parts per call.`,
      { limit: 'DOC_MAX_OUTPUT_MB', limitBytes: limits.maxOutputBytes, sizeBytes: bytes },
      true,
    );
  }
}

/** A page count against DOC_MAX_PAGES (pages read or written by one action). */
export function checkPageCount(pages: number, limits: DocumentLimits, what: string): void {
  if (pages > limits.maxPages) {
    throw tooComplex(
      `${what} has ${pages} pages; one action may read or write at most ${limits.maxPages} pages (DOC_MAX_PAGES). Split the work into several calls.`,
      {
        limit: 'DOC_MAX_PAGES',
        limitPages: limits.maxPages,
        pages,
      },
    );
  }
}

/**
 * Walks a PDF's page tree before pdf-lib does, with a budget: a 1 KB file whose tree names the
 * same node many times at every level (or loops back) describes billions of pages, and
 * flattening it would run for minutes. Counts leaves until DOC_MAX_PAGES is passed.
 */
export function checkPageTree(doc: PDFDocument, limits: DocumentLimits, label: string): void {
  const budget = limits.maxPages;
  let pages = 0;
  let visits = 0;
  const root = doc.catalog.get(PDFName.of('Pages'));
  const stack: { node: unknown; path: Set<PDFRef> }[] = [{ node: root, path: new Set() }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (++visits > budget * 4 + 64) break;
    let ref: PDFRef | undefined;
    let dict: unknown = node;
    if (node instanceof PDFRef) {
      if (path.has(node)) {
        throw tooComplex(
          `${label}'s page tree loops back on itself, so its pages cannot be counted. Open and re-save the file, or check the step that produced it.`,
          {
            limit: 'page_tree',
          },
        );
      }
      ref = node;
      dict = doc.context.lookup(node);
    }
    if (!(dict instanceof PDFDict)) continue;
    const kids = dict.get(PDFName.of('Kids'));
    const kidsArray = kids instanceof PDFRef ? doc.context.lookup(kids) : kids;
    if (!(kidsArray instanceof PDFArray)) {
      pages++;
      if (pages > budget) break;
      continue;
    }
    const childPath = ref ? new Set(path).add(ref) : path;
    for (let i = kidsArray.size() - 1; i >= 0; i--) stack.push({ node: kidsArray.get(i), path: childPath });
  }
  if (pages > budget || visits > budget * 4 + 64) {
    throw tooComplex(
      `${label} describes more than ${budget} pages in its page tree; one action may read at most ${budget} pages (DOC_MAX_PAGES). Split the PDF first or send a smaller one.`,
      { limit: 'DOC_MAX_PAGES', limitPages: budget },
    );
  }
}

/**
 * The expanded size of a ZIP (docx, xlsx, pptx) from its central directory, read before
 * anything is inflated: a 50 KB file may claim gigabytes. Entries are summed as declared;
 * an entry that inflates beyond its declaration is stopped by the worker's heap limit.
 */
export function checkZipExpansion(bytes: Uint8Array, limits: DocumentLimits, label: string): void {
  const declared = zipDeclaredSize(bytes);
  if (declared === null) return; // Not a readable ZIP: the format check that follows says so.
  if (declared.total > limits.maxExpandedBytes || declared.entries > 10_000) {
    throw tooComplex(
      `${label} expands to ${mib(declared.total)} in ${declared.entries} parts once unzipped; at most ${mib(limits.maxExpandedBytes)} is accepted (DOC_MAX_EXPANDED_MB). Remove large embedded media or split the document.`,
      { limit: 'DOC_MAX_EXPANDED_MB', limitBytes: limits.maxExpandedBytes, expandedBytes: declared.total },
    );
  }
}

/** Sum of the uncompressed sizes in the central directory, or null when there is none. */
export function zipDeclaredSize(bytes: Uint8Array): { total: number; entries: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  const lowest = Math.max(0, bytes.byteLength - 0xffff - 22);
  let eocd = -1;
  for (let i = bytes.byteLength - 22; i >= lowest; i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const entries = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  let total = 0;
  for (let n = 0; n < entries; n++) {
    if (offset + 46 > bytes.byteLength || view.getUint32(offset, true) !== 0x02014b50) return { total: Number.MAX_SAFE_INTEGER, entries };
    const size = view.getUint32(offset + 24, true);
    // ZIP64 (0xffffffff): the real size is elsewhere and large by definition.
    total += size === 0xffffffff ? Number.MAX_SAFE_INTEGER / 2 : size;
    offset += 46 + view.getUint16(offset + 28, true) + view.getUint16(offset + 30, true) + view.getUint16(offset + 32, true);
  }
  return { total, entries };
}
