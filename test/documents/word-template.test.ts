import PizZip from 'pizzip';
import { describe, expect, it } from 'vitest';
import { populateWordTemplate } from '../../src/documents/word-template.js';
import { catchAppErrorSync, docxParagraphs, fieldErrors, makeDocx, makePdf, makeXlsxLikeZip, para, table } from './fixtures.js';

describe('populateWordTemplate', () => {
  it('fills fields, including ones Word split across runs', () => {
    const template = makeDocx(para('Dear {name},'), para('Invoice {inv', 'oice}', ' is due.'));
    const out = populateWordTemplate(template, { name: 'Ada Lovelace', invoice: 'INV-0042' });
    expect(docxParagraphs(out)).toEqual(['Dear Ada Lovelace,', 'Invoice INV-0042 is due.']);
  });

  it('repeats paragraphs for each element of a list, without leaving empty paragraphs', () => {
    const template = makeDocx(para('Items:'), para('{#items}'), para('- {product}: {qty}'), para('{/items}'), para('End'));
    const out = populateWordTemplate(template, {
      items: [
        { product: 'Pen', qty: 2 },
        { product: 'Ink', qty: 5 },
        { product: 'Pad', qty: 1 },
      ],
    });
    expect(docxParagraphs(out)).toEqual(['Items:', '- Pen: 2', '- Ink: 5', '- Pad: 1', 'End']);
  });

  it('repeats table rows', () => {
    const template = makeDocx(
      table([
        ['Product', 'Qty'],
        ['{#items}{product}', '{qty}{/items}'],
      ]),
    );
    const out = populateWordTemplate(template, {
      items: [
        { product: 'Pen', qty: 2 },
        { product: 'Ink', qty: 5 },
      ],
    });
    const xml = new PizZip(out).file('word/document.xml')!.asText();
    expect(xml.match(/<w:tr>/g)).toHaveLength(3);
    expect(docxParagraphs(out)).toEqual(['Product', 'Qty', 'Pen', '2', 'Ink', '5']);
  });

  it('shows {#cond} sections when true and {^cond} sections when false', () => {
    const template = makeDocx(para('{#paid}Thank you for paying.{/paid}{^paid}Payment is due.{/paid}'));
    expect(docxParagraphs(populateWordTemplate(template, { paid: true }))).toEqual(['Thank you for paying.']);
    expect(docxParagraphs(populateWordTemplate(template, { paid: false }))).toEqual(['Payment is due.']);
    expect(docxParagraphs(populateWordTemplate(template, {}))).toEqual(['Payment is due.']);
  });

  it('reads nested fields with dots and the current element with {.}', () => {
    const template = makeDocx(para('{customer.name} in {customer.address.city}'), para('{#tags}[{.}]{/tags}'));
    const out = populateWordTemplate(template, { customer: { name: 'Ada', address: { city: 'London' } }, tags: ['a', 'b'] });
    expect(docxParagraphs(out)).toEqual(['Ada in London', '[a][b]']);
  });

  it('finds outer fields from inside a loop', () => {
    const template = makeDocx(para('{#items}{product} ({currency}) {/items}'));
    const out = populateWordTemplate(template, { currency: 'EUR', items: [{ product: 'Pen' }, { product: 'Ink' }] });
    expect(docxParagraphs(out)).toEqual(['Pen (EUR) Ink (EUR) ']);
  });

  it('turns line breaks in values into Word line breaks', () => {
    const out = populateWordTemplate(makeDocx(para('{address}')), { address: '1 Main St\nSpringfield' });
    expect(docxParagraphs(out)).toEqual(['1 Main St\nSpringfield']);
  });

  it('prints nothing for missing fields and never reaches object internals', () => {
    const out = populateWordTemplate(makeDocx(para('[{missing}][{constructor}][{name.length}]')), { name: 'Ada' });
    expect(docxParagraphs(out)).toEqual(['[][][]']);
  });

  it('escapes XML special characters and drops characters XML forbids', () => {
    const out = populateWordTemplate(makeDocx(para('{v}')), { v: 'a < b & "c"\u0001' });
    expect(docxParagraphs(out)).toEqual(['a < b & "c"']);
  });

  it('accepts the data as JSON text', () => {
    const out = populateWordTemplate(makeDocx(para('Hi {name}')), '{"name":"Grace"}');
    expect(docxParagraphs(out)).toEqual(['Hi Grace']);
  });

  it('produces a .docx that opens again as a Word document', () => {
    const out = populateWordTemplate(makeDocx(para('{a}')), { a: 1 });
    const zip = new PizZip(out);
    expect(zip.file('[Content_Types].xml')).not.toBeNull();
    expect(zip.file('word/document.xml')!.asText()).toContain('<w:t xml:space="preserve">1</w:t>');
  });

  it.each([
    ['an unclosed tag', [para('Dear {name')], /is unclosed: add the missing "}"/],
    ['a stray closing brace', [para('Dear name}')], /is unopened/],
    ['double braces', [para('Dear {{name}}')], /use single braces/],
    ['an unclosed loop', [para('{#items}{product}')], /The loop with tag "items" is unclosed: close the section with \{\/name\}/],
    ['mismatched loop tags', [para('{#items}{product}{/things}')], /The tag "items" is closed by the tag "things"/],
  ])('explains %s in plain words', (_, body, reason) => {
    const error = catchAppErrorSync(() => populateWordTemplate(makeDocx(...body), { name: 'x' }));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('template');
    expect(error.detail).toMatch(/^The Word template has (a problem|\d+ problems): /);
    expect(error.detail).toMatch(reason);
  });

  it('reports every template error at once', () => {
    const error = catchAppErrorSync(() => populateWordTemplate(makeDocx(para('x}'), para('{#items}'), para('{/other}')), {}));
    expect(fieldErrors(error).length).toBeGreaterThanOrEqual(2);
    expect(error.detail).toMatch(/^The Word template has \d+ problems/);
  });

  it('refuses files that are not .docx, saying what they look like', async () => {
    const empty = catchAppErrorSync(() => populateWordTemplate(Buffer.alloc(0), {}));
    expect(empty.code).toBe('validation_failed');
    expect(empty.detail).toContain('it looks like empty');

    const realPdf = await makePdf(1);
    const notDocx = catchAppErrorSync(() => populateWordTemplate(realPdf, {}));
    expect(notDocx.detail).toMatch(/^The template is not a Word document \(\.docx\): it looks like a PDF document/);
    expect(fieldErrors(notDocx)[0]?.path).toBe('template');

    const xlsx = catchAppErrorSync(() => populateWordTemplate(makeXlsxLikeZip(), {}));
    expect(xlsx.detail).toContain('it looks like an Excel workbook (.xlsx)');

    const broken = makeDocx(para('x')).subarray(0, 60);
    expect(catchAppErrorSync(() => populateWordTemplate(broken, {})).detail).toContain('damaged ZIP archive');
  });

  it.each([
    [[1, 2], /a list was received/],
    [null, /nothing was received/],
    [42, /a number was received/],
    ['{"name": ', /not valid JSON/],
  ])('refuses data %j that is not a JSON object', (data, reason) => {
    const error = catchAppErrorSync(() => populateWordTemplate(makeDocx(para('{a}')), data));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('data');
    expect(error.detail).toMatch(reason);
  });
});
