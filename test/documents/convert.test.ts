/**
 * These tests run the real LibreOffice and read the PDFs back with poppler's pdftotext. They
 * are deliberately not skipped when either is missing: CI installs both, and a silently
 * skipped conversion test would hide a broken converter.
 */
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PizZip from 'pizzip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/catalogue.js';
import { convertToPdf, converterAvailable, createConverter } from '../../src/documents/convert.js';
import { locateConverter } from '../../src/documents/converter-locate.js';
import { populateWordTemplate } from '../../src/documents/word-template.js';
import { catchAppError, fieldErrors, makeDocx, makePdf, para } from './fixtures.js';
import { makePptx, makeXlsx, pdfText } from './office-fixtures.js';

const SLOW = 120_000;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'bdoc-convert-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  return mkdtemp(join(scratch, `${name}-`));
}

/**
 * Whether a process still runs. A killed process whose parent is gone stays a zombie until
 * PID 1 reaps it, which some container inits never do; a zombie no longer runs.
 */
async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** pdftotext lays text out like the page; collapse runs of spaces so phrases can be matched. */
async function textOf(pdf: Buffer): Promise<string> {
  expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  return (await pdfText(pdf)).replace(/[ \t]+/g, ' ');
}

describe('convertToPdf with LibreOffice', () => {
  it('finds LibreOffice on this machine', async () => {
    expect(await converterAvailable()).toBe(true);
  });

  it('converts HTML, keeping headings and non-ASCII text', { timeout: SLOW }, async () => {
    const html = '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><h1>Quarterly Report</h1><p>Revenue in Zürich: 4 711 €</p></body></html>';
    const text = await textOf(await convertToPdf(Buffer.from(html), 'html'));
    expect(text).toContain('Quarterly Report');
    expect(text).toContain('Revenue in Zürich: 4 711 €');
  });

  it('converts a Word document made from a template', { timeout: SLOW }, async () => {
    const template = makeDocx(para('Invoice for {customer}'), para('{#items}'), para('{product} x {qty}'), para('{/items}'));
    const docx = populateWordTemplate(template, { customer: 'Northwind Traders', items: [{ product: 'Fountain pen', qty: 3 }] });
    const text = await textOf(await convertToPdf(docx, 'docx'));
    expect(text).toContain('Invoice for Northwind Traders');
    expect(text).toContain('Fountain pen x 3');
  });

  it('converts an Excel workbook', { timeout: SLOW }, async () => {
    const xlsx = makeXlsx([['Sales by region for Contoso'], ['West', 4711]]);
    const text = await textOf(await convertToPdf(xlsx, 'xlsx'));
    expect(text).toContain('Sales by region for Contoso');
    expect(text).toMatch(/West 4711/);
  });

  it('converts a PowerPoint presentation, telling the format from the file when none is given', { timeout: SLOW }, async () => {
    const text = await textOf(await convertToPdf(makePptx('Roadmap for Fabrikam'), undefined));
    expect(text).toContain('Roadmap for Fabrikam');
  });

  it('converts plain text as UTF-8, with the format given as a media type', { timeout: SLOW }, async () => {
    const text = await textOf(await convertToPdf(Buffer.from('Grüße aus Köln\nzweite Zeile'), 'text/plain'));
    expect(text).toContain('Grüße aus Köln');
    expect(text).toContain('zweite Zeile');
  });

  it('runs conversions side by side without their profiles colliding, and leaves no temporary files', { timeout: SLOW }, async () => {
    const tmpRoot = await freshDir('parallel');
    const converter = createConverter({ maxConcurrent: 3, tmpRoot });
    const pdfs = await Promise.all(['Alpha', 'Bravo', 'Charlie'].map((word) => converter.convertToPdf(Buffer.from(`<p>Document ${word}</p>`), 'html')));
    const texts = await Promise.all(pdfs.map(textOf));
    expect(texts[0]).toContain('Document Alpha');
    expect(texts[1]).toContain('Document Bravo');
    expect(texts[2]).toContain('Document Charlie');
    expect(await readdir(tmpRoot)).toEqual([]);
  });

  it('reports a damaged Office file as bad input and cleans up', { timeout: SLOW }, async () => {
    const tmpRoot = await freshDir('damaged');
    const zip = new PizZip();
    zip.file('[Content_Types].xml', 'not xml');
    zip.file('word/document.xml', '<<< garbage');
    const error = await catchAppError(() => createConverter({ tmpRoot }).convertToPdf(zip.generate({ type: 'nodebuffer' }), 'docx'));
    expect(error.code).toBe('validation_failed');
    expect(error.detail).toContain('could not open the file as docx');
    expect(await readdir(tmpRoot)).toEqual([]);
  });
});

describe('convertToPdf input checks (before LibreOffice runs)', () => {
  it('refuses a file that does not match its declared format', async () => {
    const error = await catchAppError(async () => convertToPdf(await makePdf(1), 'docx'));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('file');
    expect(error.detail).toMatch(/declared as docx, but it looks like a PDF document\. It is already a PDF/);

    const docxAsXlsx = await catchAppError(() => convertToPdf(makeDocx(para('x')), 'xlsx'));
    expect(docxAsXlsx.detail).toMatch(/looks like a Word document \(\.docx\)\. Set the source format to match the file \("docx"\)/);

    const zipAsHtml = await catchAppError(() => convertToPdf(makeXlsx([['a']]), 'html'));
    expect(zipAsHtml.detail).toContain('declared as html, but it looks like an Excel workbook');
  });

  it('refuses formats it cannot convert, listing the ones it can', async () => {
    const error = await catchAppError(() => convertToPdf(Buffer.from('x'), 'exe'));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('sourceFormat');
    expect(error.detail).toContain('Use one of docx, doc, odt');
  });

  it('asks for the format when the bytes do not reveal it', async () => {
    const error = await catchAppError(() => convertToPdf(Buffer.from('<p>hello</p>'), '  '));
    expect(fieldErrors(error)[0]?.path).toBe('sourceFormat');
    expect(error.detail).toContain('Set sourceFormat');
  });
});

describe('when LibreOffice is missing or misbehaves', () => {
  it('answers converter_unavailable (503) when LibreOffice is not installed', async () => {
    const converter = createConverter({ command: null });
    expect(await converter.available()).toBe(false);
    const error = await catchAppError(() => converter.convertToPdf(Buffer.from('<p>x</p>'), 'html'));
    expect(error.code).toBe('converter_unavailable');
    expect(error.status).toBe(503);
  });

  it('looks for soffice, then libreoffice, on PATH', async () => {
    expect(await locateConverter('')).toBeNull();
    expect(await locateConverter(`${scratch}/nothing-here`)).toBeNull();
    const dir = await freshDir('path');
    const fake = join(dir, 'libreoffice');
    await writeFile(fake, '#!/bin/sh\nexit 0\n');
    await chmod(fake, 0o755);
    expect(await locateConverter(`/nonexistent:${dir}`)).toBe(fake);
    expect(await locateConverter(process.env['PATH'])).toMatch(/\/(soffice|libreoffice)$/);
  });

  it('stops a conversion that runs too long, kills its whole process group and cleans up', { timeout: SLOW }, async () => {
    const dir = await freshDir('timeout');
    const tmpRoot = await freshDir('timeout-tmp');
    const pidFile = join(dir, 'child.pid');
    const fake = join(dir, 'soffice');
    // Like the real launcher, the fake leaves the work to a child process.
    await writeFile(fake, `#!/bin/sh\nsleep 30 &\necho $! > '${pidFile}'\nwait\n`);
    await chmod(fake, 0o755);

    const started = Date.now();
    const error = await catchAppError(() =>
      createConverter({ command: fake, timeoutMs: 500, tmpRoot, sandbox: 'none' }).convertToPdf(Buffer.from('<p>x</p>'), 'html'),
    );
    // Were only the launcher killed, its child would hold the output pipes open for 30 s.
    expect(Date.now() - started).toBeLessThan(10_000);
    // The work had started: answered as too complex, and billed.
    expect(error.code).toBe('document_too_complex');
    expect(error.billed).toBe(true);
    expect(error.detail).toContain('took longer than 1 seconds (DOC_TIMEOUT_SECONDS)');
    expect(await readdir(tmpRoot)).toEqual([]);
    const child = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await isRunning(child)).toBe(false);
  });

  it('fails as an internal error, not bad input, when the converter produces nothing', async () => {
    const dir = await freshDir('broken');
    const tmpRoot = await freshDir('broken-tmp');
    const fake = join(dir, 'soffice');
    await writeFile(fake, '#!/bin/sh\necho "something odd happened" >&2\nexit 3\n');
    await chmod(fake, 0o755);
    const failure = await createConverter({ command: fake, tmpRoot, sandbox: 'none' })
      .convertToPdf(Buffer.from('<p>x</p>'), 'html')
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(AppError);
    expect((failure as Error).message).toMatch(/exit 3.*something odd happened/s);
    expect(await readdir(tmpRoot)).toEqual([]);
  });
});
