/**
 * AddPdfWatermark: semi-transparent text stamped across the centre of chosen pages.
 *
 * The text uses the standard Helvetica-Bold font, which every PDF reader has, so nothing is
 * embedded; the price is that only Western European (WinAnsi) characters can be drawn, and
 * other characters are rejected up front with a clear message.
 */
import { PDFContentStream, StandardFonts, degrees, popGraphicsState, pushGraphicsState, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { validationFailed } from '../errors/catalogue.js';
import { type DocumentLimits, defaultDocumentLimits } from '../config.js';
import { loadPdf, savePdf, type PdfOutput } from './pdf-load.js';
import { pageIndexSet, parsePageRanges } from './page-ranges.js';

export interface WatermarkOptions {
  /** The watermark; line breaks start new lines. */
  text: string;
  /** 0 (invisible) … 1 (opaque); default 0.3. */
  opacity?: number;
  /** Degrees counter-clockwise; default 45 (bottom-left to top-right). */
  rotation?: number;
  /** Page range as in SplitPdf ("1-3,5"); default all pages. */
  pages?: string;
  /** Points; default: as large as fits across the page, at most 120. */
  fontSize?: number;
}

export const MAX_WATERMARK_LENGTH = 200;
const DEFAULT_OPACITY = 0.3;
const DEFAULT_ROTATION = 45;
const MAX_AUTO_FONT_SIZE = 120;
const MIN_AUTO_FONT_SIZE = 6;
const LINE_SPACING = 1.2;
const GREY = rgb(0.5, 0.5, 0.5);

export async function addPdfWatermark(
  buffer: Buffer,
  options: WatermarkOptions,
  path = 'file',
  limits: DocumentLimits = defaultDocumentLimits(),
): Promise<PdfOutput> {
  const lines = checkText(options.text);
  const opacity = checkNumber(options.opacity, 'opacity', DEFAULT_OPACITY, 0, 1, 'a number from 0 (invisible) to 1 (opaque), e.g. 0.3');
  const rotation = checkNumber(options.rotation, 'rotation', DEFAULT_ROTATION, -360, 360, 'an angle in degrees from -360 to 360, e.g. 45');
  const fontSize =
    options.fontSize === undefined || options.fontSize === null
      ? undefined
      : checkNumber(options.fontSize, 'fontSize', 0, 1, 500, 'a size in points from 1 to 500');

  const doc = await loadPdf(buffer, path, 'The PDF', limits);
  const font = await doc.embedFont(StandardFonts.HelveticaBold);
  checkDrawable(font, lines);

  const pages = doc.getPages();
  // A blank `pages` is how Power Automate sends an optional field the maker left empty.
  const allPages = options.pages === undefined || options.pages === null || options.pages.trim() === '';
  const selected = allPages ? new Set(pages.keys()) : pageIndexSet(parsePageRanges(options.pages!, pages.length, 'pages'));

  for (const [index, page] of pages.entries()) {
    if (!selected.has(index)) continue;
    isolateExistingContent(page);
    stamp(page, font, lines, { opacity, rotation, fontSize });
  }
  return savePdf(doc);
}

/**
 * Producers may leave the coordinate system transformed at the end of a page (a `cm` with
 * no enclosing q/Q is legal). Wrapping the existing streams in q…Q restores the default
 * coordinates, so the watermark lands where we compute it.
 */
function isolateExistingContent(page: PDFPage): void {
  const context = page.doc.context;
  const start = context.register(PDFContentStream.of(context.obj({}), [pushGraphicsState()]));
  const end = context.register(PDFContentStream.of(context.obj({}), [popGraphicsState()]));
  page.node.normalize();
  page.node.wrapContentStreams(start, end);
}

function stamp(page: PDFPage, font: PDFFont, lines: string[], style: { opacity: number; rotation: number; fontSize: number | undefined }): void {
  const box = page.getCropBox();
  // A page with /Rotate is turned by the viewer; turn the text back so it reads at `rotation`.
  const angle = ((style.rotation + page.getRotation().angle) * Math.PI) / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);

  const widest = Math.max(...lines.map((line) => font.widthOfTextAtSize(line, 1)));
  const size = style.fontSize ?? autoFontSize(box.width, box.height, cos, sin, widest, lines.length);
  const lineHeight = font.heightAtSize(size) * LINE_SPACING;
  const capHeight = font.heightAtSize(size, { descender: false });
  const centreX = box.x + box.width / 2;
  const centreY = box.y + box.height / 2;

  lines.forEach((line, i) => {
    // Lines stack along the text's "down" direction, (sin, -cos), around the page centre.
    const offset = (i - (lines.length - 1) / 2) * lineHeight;
    const cx = centreX + offset * sin;
    const cy = centreY - offset * cos;
    const width = font.widthOfTextAtSize(line, size);
    // drawText rotates around the baseline start; move it so the line's middle is at (cx, cy).
    page.drawText(line, {
      x: cx - (width / 2) * cos + (capHeight / 2) * sin,
      y: cy - (width / 2) * sin - (capHeight / 2) * cos,
      size,
      font,
      color: GREY,
      opacity: style.opacity,
      rotate: degrees((angle * 180) / Math.PI),
    });
  });
}

/** Largest size at which the widest line spans 80% of the page along the text direction. */
function autoFontSize(width: number, height: number, cos: number, sin: number, widestAt1pt: number, lineCount: number): number {
  const along = Math.min(Math.abs(cos) < 1e-9 ? Infinity : width / Math.abs(cos), Math.abs(sin) < 1e-9 ? Infinity : height / Math.abs(sin));
  const across = Math.min(Math.abs(sin) < 1e-9 ? Infinity : width / Math.abs(sin), Math.abs(cos) < 1e-9 ? Infinity : height / Math.abs(cos));
  const byWidth = (0.8 * along) / widestAt1pt;
  const byHeight = (0.8 * across) / (lineCount * LINE_SPACING);
  return Math.max(MIN_AUTO_FONT_SIZE, Math.min(MAX_AUTO_FONT_SIZE, byWidth, byHeight));
}

function checkText(text: unknown): string[] {
  if (typeof text !== 'string' || text.trim() === '') {
    throw validationFailed(
      [{ path: 'text', message: 'must be non-empty text' }],
      'The watermark text is missing. Set "text" to the words to stamp on the pages, e.g. CONFIDENTIAL.',
    );
  }
  if (text.length > MAX_WATERMARK_LENGTH) {
    throw validationFailed(
      [{ path: 'text', message: `must be at most ${MAX_WATERMARK_LENGTH} characters` }],
      `The watermark text is ${text.length} characters long; at most ${MAX_WATERMARK_LENGTH} fit on a page. Shorten it.`,
    );
  }
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function checkDrawable(font: PDFFont, lines: string[]): void {
  for (const line of lines) {
    for (const char of line) {
      try {
        font.encodeText(char);
      } catch {
        throw validationFailed(
          [{ path: 'text', message: `contains ${JSON.stringify(char)}, which the watermark font cannot draw` }],
          `The watermark text contains ${JSON.stringify(char)}, which the watermark font cannot draw. Use Western European letters, digits and common punctuation.`,
        );
      }
    }
  }
}

function checkNumber(value: unknown, name: string, fallback: number, min: number, max: number, expected: string): number {
  if (value === undefined || value === null || value === '') return fallback;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || number < min || number > max) {
    throw validationFailed([{ path: name, message: `must be ${expected}` }], `"${name}" is ${JSON.stringify(value)}, but it must be ${expected}.`);
  }
  return number;
}
