/**
 * Opens a caller's PDF, turning every way it can fail into a validation error that names the
 * file, and saves what an action produced. Shared by all PDF actions so "not a PDF" reads the
 * same everywhere.
 */
import { PDFDocument } from 'pdf-lib';
import { type DocumentLimits, defaultDocumentLimits } from '../config.js';
import { AppError, validationFailed } from '../errors/catalogue.js';
import { checkPageCount, checkPageTree } from './caps.js';
import { labelForPath } from './file-input.js';
import { describeFileType, looksLikePdf, sniffFileType } from './file-type.js';

/** Opens a PDF whose page tree is within DOC_MAX_PAGES (walked with a budget before pdf-lib flattens it). */
export async function loadPdf(bytes: Buffer, path: string, label = labelForPath(path), limits: DocumentLimits = defaultDocumentLimits()): Promise<PDFDocument> {
  if (!looksLikePdf(bytes)) {
    const kind = describeFileType(sniffFileType(bytes));
    throw validationFailed(
      [{ path, message: `is not a PDF (it looks like ${kind})` }],
      `${label} is not a PDF: it looks like ${kind}. Pass the content of a .pdf file; convert other documents with ConvertToPdf first.`,
    );
  }
  let doc: PDFDocument;
  try {
    // Keep the author's metadata (title, producer, dates) as it was: we only rearrange pages.
    // Encryption is checked below: pdf-lib's EncryptedPDFError does not survive its ES5 build
    // as a class, so `instanceof` cannot recognise it.
    doc = await PDFDocument.load(bytes, { updateMetadata: false, ignoreEncryption: true });
  } catch (error) {
    throw damaged(error, path, label);
  }
  try {
    checkPageTree(doc, limits, label);
    // A file with a PDF header but no document catalogue loads "fine" and fails on first use.
    checkPageCount(doc.getPageCount(), limits, label);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw damaged(error, path, label);
  }
  if (doc.isEncrypted) {
    throw validationFailed(
      [{ path, message: 'is password-protected (encrypted)' }],
      `${label} is password-protected, so its pages cannot be changed. Remove the password (save an unprotected copy) and try again.`,
    );
  }
  return doc;
}

/** pdf-lib hands back a Uint8Array; wrap it without copying. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A produced PDF with its page count, so nobody parses the finished bytes again to count them. */
export interface PdfOutput {
  pdf: Buffer;
  pages: number;
}

/** Serialises `doc`, keeping the page count pdf-lib already knows. */
export async function savePdf(doc: PDFDocument): Promise<PdfOutput> {
  return { pdf: toBuffer(await doc.save()), pages: doc.getPageCount() };
}

function damaged(error: unknown, path: string, label: string): AppError {
  const reason = error instanceof Error ? error.message : String(error);
  return validationFailed(
    [{ path, message: `is a damaged PDF: ${reason}` }],
    `${label} starts like a PDF but could not be read: it is probably truncated or damaged. Open and re-save it, or check the step that produced it.`,
  );
}
