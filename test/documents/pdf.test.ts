import { PDFDocument, StandardFonts, concatTransformationMatrix } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { addPdfWatermark, countPdfPages, mergePdfs, splitPdf } from '../../src/documents/pdf.js';
import { catchAppError, contentStreams, fieldErrors, fillOpacities, makeDocx, makePdf, pageWidths, para, pdfHex } from './fixtures.js';

/** The six numbers of every text matrix (Tm) in a content stream. */
type Matrix = [number, number, number, number, number, number];
function textMatrices(content: string): Matrix[] {
  return [...content.matchAll(/((?:-?[\d.e-]+ ){6})Tm/g)].map((m) => m[1]!.trim().split(' ').map(Number) as Matrix);
}

const PNG_HEADER = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

describe('mergePdfs', () => {
  it('concatenates the pages of every PDF in the given order', async () => {
    const a = await makePdf(2, 100);
    const b = await makePdf(3, 200);
    const c = await makePdf(1, 300);
    const { pdf: merged, pages } = await mergePdfs([b, a, c]);
    expect(await countPdfPages(merged)).toBe(6);
    expect(pages).toBe(6);
    expect(await pageWidths(merged)).toEqual([200, 201, 202, 100, 101, 300]);
  });

  it('merges two 50-page documents into 100 pages', async () => {
    const { pdf: merged, pages } = await mergePdfs([await makePdf(50, 100), await makePdf(50, 300)]);
    const widths = await pageWidths(merged);
    expect(widths).toHaveLength(100);
    expect(pages).toBe(100);
    expect(widths[49]).toBe(149);
    expect(widths[50]).toBe(300);
  });

  it.each([
    [[], /the list is empty/],
    [['one'], /only one was sent/],
  ])('needs at least two PDFs (%j)', async (list, reason) => {
    const buffers = await Promise.all(list.map(() => makePdf(1)));
    const error = await catchAppError(() => mergePdfs(buffers));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('files');
    expect(error.detail).toMatch(reason);
  });

  it('names the file that is not a PDF and says what it looks like', async () => {
    const pdf = await makePdf(1);
    const docx = makeDocx(para('hello'));
    const error = await catchAppError(() => mergePdfs([pdf, docx, pdf]));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('files[1]');
    expect(error.detail).toMatch(/^File 2 is not a PDF: it looks like a Word document \(\.docx\)/);

    const png = await catchAppError(() => mergePdfs([pdf, pdf, PNG_HEADER]));
    expect(png.detail).toMatch(/^File 3 is not a PDF: it looks like a PNG image/);

    const text = await catchAppError(() => mergePdfs([Buffer.from('https://example.com/a.pdf'), pdf]));
    expect(text.detail).toMatch(/^File 1 is not a PDF: it looks like plain text/);
  });

  it('refuses a password-protected PDF, naming the file', async () => {
    const doc = await PDFDocument.create();
    doc.addPage([100, 100]);
    const plain = Buffer.from(await doc.save({ useObjectStreams: false })).toString('latin1');
    // Declaring an /Encrypt dictionary in the trailer is what makes a PDF encrypted.
    const encrypted = Buffer.from(plain.replace(/trailer\s*<</, '$&\n/Encrypt << /Filter /Standard /V 1 /R 2 >>'), 'latin1');
    expect(encrypted.toString('latin1')).toContain('/Encrypt');
    const first = await makePdf(1);
    const error = await catchAppError(() => mergePdfs([first, encrypted]));
    expect(fieldErrors(error)[0]?.path).toBe('files[1]');
    expect(error.detail).toMatch(/^File 2 is password-protected/);
  });

  it('reports a truncated PDF as damaged, naming the file', async () => {
    const pdf = await makePdf(3);
    const error = await catchAppError(() => mergePdfs([pdf, pdf.subarray(0, 40)]));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('files[1]');
    expect(error.detail).toMatch(/^File 2 starts like a PDF but could not be read/);
  });
});

describe('splitPdf', () => {
  it('makes one document per part, with the right pages', async () => {
    const pdf = await makePdf(10, 100);
    const parts = await splitPdf(pdf, '1-3,5,8-');
    expect(parts.map((p) => [p.range, p.pages])).toEqual([
      ['1-3', 3],
      ['5', 1],
      ['8-', 3],
    ]);
    expect(await pageWidths(parts[0]!.pdf)).toEqual([100, 101, 102]);
    expect(await pageWidths(parts[1]!.pdf)).toEqual([104]);
    expect(await pageWidths(parts[2]!.pdf)).toEqual([107, 108, 109]);
  });

  it('splits into single pages when no ranges are given', async () => {
    const pdf = await makePdf(4, 100);
    for (const ranges of [undefined, '', '  ']) {
      const parts = await splitPdf(pdf, ranges);
      expect(parts.map((p) => p.range)).toEqual(['1', '2', '3', '4']);
      const widths = await Promise.all(parts.map((p) => pageWidths(p.pdf)));
      expect(widths).toEqual([[100], [101], [102], [103]]);
    }
  });

  it('asks for ranges rather than making more than 1,000 single-page documents', async () => {
    const doc = await PDFDocument.create();
    for (let i = 0; i < 1001; i++) doc.addPage([100, 100]);
    const big = Buffer.from(await doc.save());
    const error = await catchAppError(() => splitPdf(big));
    expect(fieldErrors(error)[0]?.path).toBe('ranges');
    expect(error.detail).toContain('The PDF has 1001 pages');
    expect(await splitPdf(big, '1-1000,1001')).toHaveLength(2);
  });

  it.each([
    ['1-3,,5', /part 2 is empty/],
    ['x', /is not a page number/],
    ['4-2', /runs backwards/],
    ['3,6', /asks for page 6, but the document has 5 pages/],
  ])('rejects the range %j', async (ranges, reason) => {
    const error = await catchAppError(async () => splitPdf(await makePdf(5), ranges));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('ranges');
    expect(error.detail).toMatch(reason);
  });

  it('rejects input that is not a PDF', async () => {
    const error = await catchAppError(() => splitPdf(Buffer.from('hello world'), '1'));
    expect(fieldErrors(error)[0]?.path).toBe('file');
    expect(error.detail).toMatch(/^The PDF is not a PDF: it looks like plain text/);
  });
});

describe('addPdfWatermark', () => {
  it('stamps the text on the chosen pages only, with the requested opacity', async () => {
    const pdf = await makePdf(3, 400);
    const { pdf: out, pages } = await addPdfWatermark(pdf, { text: 'CONFIDENTIAL', opacity: 0.5, pages: '2-3' });
    const doc = await PDFDocument.load(out);
    expect(doc.getPageCount()).toBe(3);
    expect(pages).toBe(3);
    const [first, second, third] = doc.getPages();
    expect(contentStreams(first!).join('\n')).not.toContain(pdfHex('CONFIDENTIAL'));
    for (const page of [second!, third!]) {
      expect(contentStreams(page).join('\n')).toContain(`${pdfHex('CONFIDENTIAL')} Tj`);
      expect(fillOpacities(page)).toContain(0.5);
    }
    expect(fillOpacities(first!)).toEqual([]);
  });

  it('defaults to every page, opacity 0.3 and 45 degrees', async () => {
    const { pdf: out } = await addPdfWatermark(await makePdf(2), { text: 'DRAFT' });
    const doc = await PDFDocument.load(out);
    for (const page of doc.getPages()) {
      const content = contentStreams(page).join('\n');
      expect(content).toContain(`${pdfHex('DRAFT')} Tj`);
      const [a, b] = textMatrices(contentStreams(page).at(-1)!)[0]!;
      expect(Math.atan2(b, a) * (180 / Math.PI)).toBeCloseTo(45, 5);
      expect(fillOpacities(page)).toContain(0.3);
    }
  });

  it('centres the text on the page, whatever the rotation', async () => {
    const font = await (await PDFDocument.create()).embedFont(StandardFonts.HelveticaBold);
    const width = font.widthOfTextAtSize('PAID', 30);
    const cap = font.heightAtSize(30, { descender: false });
    for (const rotation of [0, 45, 90, -30]) {
      const { pdf: out } = await addPdfWatermark(await makePdf(1, 200), { text: 'PAID', rotation, fontSize: 30 });
      const [a, b, c, d, x, y] = textMatrices(contentStreams((await PDFDocument.load(out)).getPage(0)).at(-1)!)[0]!;
      // The middle of the text box, (width/2, cap/2) in text space, lands on the page centre (100, 200).
      expect(x + a * (width / 2) + c * (cap / 2)).toBeCloseTo(100, 3);
      expect(y + b * (width / 2) + d * (cap / 2)).toBeCloseTo(200, 3);
      expect(Math.atan2(b, a) * (180 / Math.PI)).toBeCloseTo(rotation, 5);
    }
  });

  it('writes each line of a multi-line text, one under the other', async () => {
    const { pdf: out } = await addPdfWatermark(await makePdf(1), { text: 'PAID\n2024-05-01', rotation: 0, fontSize: 30 });
    const content = contentStreams((await PDFDocument.load(out)).getPage(0)).at(-1)!;
    expect(content).toContain(pdfHex('PAID'));
    expect(content).toContain(pdfHex('2024-05-01'));
    expect(content).toMatch(/ 30 Tf/);
    const [first, second] = textMatrices(content);
    expect(first![5]).toBeGreaterThan(second![5]);
  });

  it('draws in default coordinates even when the page content leaves the coordinate system changed', async () => {
    // A page whose content scales everything by 2 and never restores it (legal, and common).
    const doc = await PDFDocument.create();
    const page = doc.addPage([300, 300]);
    page.pushOperators(concatTransformationMatrix(2, 0, 0, 2, 0, 0));
    page.drawText('scaled', { x: 1, y: 1 });
    const source = Buffer.from(await doc.save());

    const streams = contentStreams((await PDFDocument.load((await addPdfWatermark(source, { text: 'COPY' })).pdf)).getPage(0));
    expect(streams[0]?.trim()).toBe('q');
    const scaling = streams.findIndex((s) => s.includes('2 0 0 2 0 0 cm'));
    const watermark = streams.findIndex((s) => s.includes(pdfHex('COPY')));
    expect(scaling).toBeGreaterThan(0);
    expect(watermark).toBeGreaterThan(scaling);
    expect(streams[watermark - 1]?.trim()).toBe('Q');
  });

  it.each([
    [{ text: '' }, 'text', /watermark text is missing/],
    [{ text: 'OK \u2713' }, 'text', /contains "✓", which the watermark font cannot draw/],
    [{ text: 'x'.repeat(201) }, 'text', /201 characters long/],
    [{ text: 'A', opacity: 1.5 }, 'opacity', /"opacity" is 1\.5, but it must be a number from 0/],
    [{ text: 'A', opacity: 'half' }, 'opacity', /"opacity" is "half"/],
    [{ text: 'A', rotation: 720 }, 'rotation', /from -360 to 360/],
    [{ text: 'A', fontSize: 0 }, 'fontSize', /from 1 to 500/],
    [{ text: 'A', pages: '3' }, 'pages', /asks for page 3, but the document has 2 pages/],
  ])('rejects %j', async (options, path, reason) => {
    const error = await catchAppError(async () => addPdfWatermark(await makePdf(2), options as never));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe(path);
    expect(error.detail).toMatch(reason);
  });

  it('treats blank optional fields as not given, as Power Automate sends them', async () => {
    const { pdf: out } = await addPdfWatermark(await makePdf(2), { text: 'A', pages: '', opacity: '' as never, rotation: '' as never });
    const doc = await PDFDocument.load(out);
    for (const page of doc.getPages()) {
      expect(contentStreams(page).join('\n')).toContain(pdfHex('A'));
      expect(fillOpacities(page)).toContain(0.3);
    }
  });

  it('accepts numbers sent as text, as Power Automate does for plain inputs', async () => {
    const { pdf: out } = await addPdfWatermark(await makePdf(1), { text: 'A', opacity: '0.6' as never });
    expect(fillOpacities((await PDFDocument.load(out)).getPage(0))).toContain(0.6);
  });
});
