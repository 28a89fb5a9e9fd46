/**
 * Real files for the document tests, built in memory: PDFs with pdf-lib, .docx templates
 * from the minimal OOXML parts Word needs. Each generated PDF page has a unique width so a
 * test can tell exactly which source page ended up where.
 */
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFNumber,
  PDFRawStream,
  PDFRef,
  StandardFonts,
  decodePDFRawStream,
  type PDFObject,
  type PDFPage,
} from 'pdf-lib';
import PizZip from 'pizzip';
import { AppError } from '../../src/errors/catalogue.js';

/** A PDF of `pages` pages; page i is (widthBase + i) points wide and says "<label> page i+1". */
export async function makePdf(pages: number, widthBase = 200, label = 'Doc'): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < pages; i++) {
    const page = doc.addPage([widthBase + i, 400]);
    page.drawText(`${label} page ${i + 1}`, { x: 20, y: 200, size: 12, font });
  }
  return Buffer.from(await doc.save());
}

/** Page widths of a PDF, i.e. the identities of its pages as made by makePdf. */
export async function pageWidths(pdf: Buffer): Promise<number[]> {
  const doc = await PDFDocument.load(pdf);
  return doc.getPages().map((page) => Math.round(page.getWidth()));
}

/** The decoded content streams of a page, in drawing order, as latin1 text. */
export function contentStreams(page: PDFPage): string[] {
  const contents = page.node.Contents();
  const refs = contents instanceof PDFArray ? contents.asArray() : contents ? [contents] : [];
  return refs.map((entry) => {
    const stream = entry instanceof PDFRef ? page.doc.context.lookup(entry) : entry;
    if (!(stream instanceof PDFRawStream)) throw new Error(`unexpected content stream ${stream?.constructor.name}`);
    return Buffer.from(decodePDFRawStream(stream).decode()).toString('latin1');
  });
}

/** The hex string pdf-lib writes for standard-font text: "<41424F>" for "ABO". */
export function pdfHex(text: string): string {
  return `<${Buffer.from(text, 'latin1').toString('hex').toUpperCase()}>`;
}

/** Fill opacities (/ca) of the graphics states a page's resources declare. */
export function fillOpacities(page: PDFPage): number[] {
  const lookup = (obj: PDFObject | undefined): PDFObject | undefined => (obj instanceof PDFRef ? page.doc.context.lookup(obj) : obj);
  const states = lookup(page.node.Resources()?.get(PDFName.of('ExtGState')));
  if (!(states instanceof PDFDict)) return [];
  return states.values().flatMap((state) => {
    const ca = lookup(state) instanceof PDFDict ? (lookup(state) as PDFDict).get(PDFName.of('ca')) : undefined;
    return ca instanceof PDFNumber ? [ca.asNumber()] : [];
  });
}

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>`;

const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>`;

const W_NS = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A paragraph; several strings become separate runs (as Word splits text when editing). */
export function para(...runs: string[]): string {
  return `<w:p>${runs.map((run) => `<w:r><w:t xml:space="preserve">${escapeXml(run)}</w:t></w:r>`).join('')}</w:p>`;
}

/** A table whose rows are given as cell texts. */
export function table(rows: string[][]): string {
  const cell = (text: string): string => `<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr>${para(text)}</w:tc>`;
  return `<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>${rows.map((r) => `<w:tr>${r.map(cell).join('')}</w:tr>`).join('')}</w:tbl>`;
}

/** A minimal but valid .docx whose body is the given OOXML (see para and table). */
export function makeDocx(...body: string[]): Buffer {
  const zip = new PizZip();
  zip.file('[Content_Types].xml', CONTENT_TYPES);
  zip.file('_rels/.rels', ROOT_RELS);
  zip.file(
    'word/document.xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="${W_NS}"><w:body>${body.join('')}<w:sectPr/></w:body></w:document>`,
  );
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** A ZIP that is an .xlsx as far as the sniffer is concerned. */
export function makeXlsxLikeZip(): Buffer {
  const zip = new PizZip();
  zip.file('[Content_Types].xml', CONTENT_TYPES);
  zip.file('xl/workbook.xml', '<workbook/>');
  return zip.generate({ type: 'nodebuffer' });
}

/** The text of each paragraph of a .docx, in order (<w:br/> as "\n", tabs as "\t"). */
export function docxParagraphs(docx: Buffer): string[] {
  const xml = new PizZip(docx).file('word/document.xml')?.asText();
  if (xml === undefined) throw new Error('no word/document.xml');
  return [...xml.matchAll(/<w:p[ >][\s\S]*?<\/w:p>/g)].map((m) =>
    [...m[0].matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>|<w:br\/>|<w:tab\/>/g)]
      .map((t) => (t[0] === '<w:br/>' ? '\n' : t[0] === '<w:tab/>' ? '\t' : unescapeXml(t[1] ?? '')))
      .join(''),
  );
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Runs `fn`, expecting an AppError; returns it for further assertions. */
export async function catchAppError(fn: () => unknown): Promise<AppError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw new Error(`expected an AppError, got ${String(error)}`);
  }
  throw new Error('expected an AppError, but nothing was thrown');
}

/** Synchronous variant of catchAppError. */
export function catchAppErrorSync(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw new Error(`expected an AppError, got ${String(error)}`);
  }
  throw new Error('expected an AppError, but nothing was thrown');
}

/** The `errors` extra of a validation error. */
export function fieldErrors(error: AppError): { path: string; message: string }[] {
  return (error.extras['errors'] ?? []) as { path: string; message: string }[];
}
