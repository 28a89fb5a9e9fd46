/**
 * Recognises the few container formats the document actions care about from their first
 * bytes. The point is error messages: "File 2 is not a PDF, it looks like a Word document"
 * tells a Power Automate maker which dynamic-content token they picked by mistake, where a
 * parser's "No PDF header found" does not.
 */
import PizZip from 'pizzip';

export type SniffedType = 'pdf' | 'docx' | 'xlsx' | 'pptx' | 'zip' | 'ole' | 'png' | 'jpeg' | 'gif' | 'text' | 'empty' | 'unknown';

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
const GIF_MAGIC = Buffer.from('GIF8', 'latin1');

/** PDF readers accept the header anywhere in the first kilobyte, so we do too. */
export function looksLikePdf(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 1024);
  return head.indexOf(PDF_MAGIC) !== -1;
}

export function looksLikeZip(bytes: Buffer): boolean {
  return bytes.subarray(0, 4).equals(ZIP_MAGIC);
}

/**
 * Best guess of what the bytes are. Opening the ZIP directory is the only way to tell a .docx
 * from an .xlsx; a broken archive simply stays `zip`.
 */
export function sniffFileType(bytes: Buffer): SniffedType {
  if (bytes.length === 0) return 'empty';
  if (looksLikePdf(bytes)) return 'pdf';
  if (looksLikeZip(bytes)) return officeKindOfZip(bytes);
  if (bytes.subarray(0, 8).equals(OLE_MAGIC)) return 'ole';
  if (bytes.subarray(0, 4).equals(PNG_MAGIC)) return 'png';
  if (bytes.subarray(0, 3).equals(JPEG_MAGIC)) return 'jpeg';
  if (bytes.subarray(0, 4).equals(GIF_MAGIC)) return 'gif';
  if (looksLikeText(bytes.subarray(0, 4096))) return 'text';
  return 'unknown';
}

function officeKindOfZip(bytes: Buffer): SniffedType {
  try {
    const zip = new PizZip(bytes);
    if (zip.file('word/document.xml')) return 'docx';
    if (zip.file('xl/workbook.xml')) return 'xlsx';
    if (zip.file('ppt/presentation.xml')) return 'pptx';
  } catch {
    // A damaged archive is still reported as a ZIP; the caller's own parser explains the rest.
  }
  return 'zip';
}

function looksLikeText(sample: Buffer): boolean {
  let control = 0;
  for (const byte of sample) {
    if (byte === 0) return false;
    if (byte < 0x09 || (byte > 0x0d && byte < 0x20)) control++;
  }
  return control <= sample.length / 100;
}

const DESCRIPTIONS: Record<SniffedType, string> = {
  pdf: 'a PDF document',
  docx: 'a Word document (.docx)',
  xlsx: 'an Excel workbook (.xlsx)',
  pptx: 'a PowerPoint presentation (.pptx)',
  zip: 'a ZIP archive',
  ole: 'an old-style Office file (.doc, .xls or .ppt)',
  png: 'a PNG image',
  jpeg: 'a JPEG image',
  gif: 'a GIF image',
  text: 'plain text (perhaps the file name or a link instead of the file content)',
  empty: 'empty',
  unknown: 'not a format we recognise',
};

/** Phrase for error details: "it looks like …". */
export function describeFileType(type: SniffedType): string {
  return DESCRIPTIONS[type];
}
