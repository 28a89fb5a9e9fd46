/**
 * Minimal Excel and PowerPoint files for the conversion tests: just the OOXML parts
 * LibreOffice needs to open them, each carrying a known text.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import PizZip from 'pizzip';

function contentTypes(overrides: [string, string][]): string {
  const parts = overrides.map(([part, type]) => `<Override PartName="${part}" ContentType="application/vnd.openxmlformats-officedocument.${type}"/>`);
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>${parts.join('')}</Types>`;
}

function relationships(items: [string, string, string][]): string {
  const rels = items.map(
    ([id, type, target]) => `<Relationship Id="${id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/${type}" Target="${target}"/>`,
  );
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels.join('')}</Relationships>`;
}

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
const R_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** One sheet; `rows` are strings (inline text) or numbers. */
export function makeXlsx(rows: (string | number)[][]): Buffer {
  const cell = (value: string | number, ref: string): string =>
    typeof value === 'number' ? `<c r="${ref}"><v>${value}</v></c>` : `<c r="${ref}" t="inlineStr"><is><t>${value}</t></is></c>`;
  const sheetRows = rows.map((row, r) => `<row r="${r + 1}">${row.map((value, c) => cell(value, `${String.fromCharCode(65 + c)}${r + 1}`)).join('')}</row>`);
  const zip = new PizZip();
  zip.file(
    '[Content_Types].xml',
    contentTypes([
      ['/xl/workbook.xml', 'spreadsheetml.sheet.main+xml'],
      ['/xl/worksheets/sheet1.xml', 'spreadsheetml.worksheet+xml'],
    ]),
  );
  zip.file('_rels/.rels', relationships([['rId1', 'officeDocument', 'xl/workbook.xml']]));
  zip.file(
    'xl/workbook.xml',
    `${XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${R_NS}"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`,
  );
  zip.file('xl/_rels/workbook.xml.rels', relationships([['rId1', 'worksheet', 'worksheets/sheet1.xml']]));
  zip.file(
    'xl/worksheets/sheet1.xml',
    `${XML}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${sheetRows.join('')}</sheetData></worksheet>`,
  );
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** One slide with one text box. */
export function makePptx(text: string): Buffer {
  const ns = `xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="${R_NS}" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"`;
  const zip = new PizZip();
  zip.file(
    '[Content_Types].xml',
    contentTypes([
      ['/ppt/presentation.xml', 'presentationml.presentation.main+xml'],
      ['/ppt/slides/slide1.xml', 'presentationml.slide+xml'],
    ]),
  );
  zip.file('_rels/.rels', relationships([['rId1', 'officeDocument', 'ppt/presentation.xml']]));
  zip.file(
    'ppt/presentation.xml',
    `${XML}<p:presentation ${ns}><p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>`,
  );
  zip.file('ppt/_rels/presentation.xml.rels', relationships([['rId2', 'slide', 'slides/slide1.xml']]));
  zip.file(
    'ppt/slides/slide1.xml',
    `${XML}<p:sld ${ns}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>` +
      `<p:sp><p:nvSpPr><p:cNvPr id="2" name="Text"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr><p:spPr><a:xfrm><a:off x="914400" y="914400"/><a:ext cx="6000000" cy="1000000"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr>` +
      `<p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="en-US" sz="2800"/><a:t>${text}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`,
  );
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/**
 * The text of a PDF via poppler's `pdftotext` (Debian package poppler-utils). LibreOffice
 * writes subset fonts, so the text cannot be read back without a real PDF text extractor.
 */
export async function pdfText(pdf: Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bdoc-test-pdftext-'));
  try {
    const file = join(dir, 'in.pdf');
    await writeFile(file, pdf);
    const { stdout } = await promisify(execFile)('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-']);
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
