import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDocx, makePdf, pageWidths, para, docxParagraphs } from './documents/fixtures.js';
import { pdfText } from './documents/office-fixtures.js';
import { createKey, signup, startTestApp, type Session, type TestApp } from './support/harness.js';

const b64 = (bytes: Buffer) => bytes.toString('base64');

describe('the connector actions do real work on real documents, through the gateway', () => {
  let t: TestApp;
  let admin: Session;
  let key: { id: string; secret: string };
  const call = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: `/v1${url}`, headers: { 'x-api-key': key.secret, ...headers }, payload: payload as object });

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signup(t, 'Documents Ltd');
    key = await createKey(t, admin, { name: 'prod-documents-flow-ops' });
  });
  afterAll(() => t.close());

  async function usage() {
    await t.services.usage.flush();
    const body = (await t.app.inject({ method: 'GET', url: `/api/keys/${key.id}/usage`, headers: { cookie: admin.cookie } })).json();
    const count = (operation: string, outcome: string) =>
      body.items
        .filter((i: { operation: string; outcome: string }) => i.operation === operation && i.outcome === outcome)
        .reduce((n: number, i: { count: number }) => n + i.count, 0);
    return { count, items: body.items as Array<{ operation: string; actionType: string; outcome: string; count: number }> };
  }

  it('MergePdfs: the merged PDF has the pages of both, in order; a file object works as well as base64', async () => {
    const first = await makePdf(3, 200);
    const second = await makePdf(2, 300);
    const response = await call('/pdf/merge', {
      files: [b64(first), { '$content-type': 'application/pdf', $content: b64(second) }],
      fileName: 'Contract pack',
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ fileName: 'Contract pack.pdf', pageCount: 5 });
    expect(await pageWidths(Buffer.from(body.fileContent, 'base64'))).toEqual([200, 201, 202, 300, 301]);
  });

  it('SplitPdf: page ranges give the right pages in each part', async () => {
    const response = await call('/pdf/split', { fileContent: b64(await makePdf(6, 100)), ranges: '1-3,5' });
    expect(response.statusCode).toBe(200);
    const { files } = response.json();
    expect(files.map((f: { range: string; pageCount: number; fileName: string }) => [f.range, f.pageCount, f.fileName])).toEqual([
      ['1-3', 3, 'part-1-3.pdf'],
      ['5', 1, 'part-5.pdf'],
    ]);
    expect(await pageWidths(Buffer.from(files[0].fileContent, 'base64'))).toEqual([100, 101, 102]);
    expect(await pageWidths(Buffer.from(files[1].fileContent, 'base64'))).toEqual([104]);
  });

  it('AddPdfWatermark: returns a PDF with the same pages and the watermark drawn', async () => {
    const source = await makePdf(2, 400);
    const response = await call('/pdf/watermark', { fileContent: b64(source), text: 'CONFIDENTIAL', opacity: 0.5, rotation: 30 });
    expect(response.statusCode).toBe(200);
    const out = Buffer.from(response.json().fileContent, 'base64');
    expect(await pageWidths(out)).toEqual([400, 401]);
    expect(out.length).toBeGreaterThan(source.length);
  });

  it('PopulateWordTemplate: the .docx contains the data, loops and conditions applied', async () => {
    const template = makeDocx(
      para('Invoice for {customer.name}'),
      para('{#lines}{item}: {amount}'),
      para('{/lines}'),
      para('{#paid}PAID{/paid}{^paid}DUE{/paid}'),
    );
    const response = await call('/word/populate', {
      templateContent: b64(template),
      data: {
        customer: { name: 'Contoso' },
        lines: [
          { item: 'Paper', amount: 12 },
          { item: 'Ink', amount: 30 },
        ],
        paid: false,
      },
    });
    expect(response.statusCode).toBe(200);
    const text = docxParagraphs(Buffer.from(response.json().fileContent, 'base64')).join('\n');
    expect(text).toContain('Invoice for Contoso');
    expect(text).toContain('Paper: 12');
    expect(text).toContain('Ink: 30');
    expect(text).toContain('DUE');
    expect(text).not.toContain('PAID');
  });

  it('ConvertToPdf: a Word document becomes a PDF with its text', async () => {
    const response = await call('/convert/pdf', { fileContent: b64(makeDocx(para('Quarterly report for Fabrikam'))), sourceFormat: 'docx' });
    expect(response.statusCode, response.body).toBe(200);
    expect(await pdfText(Buffer.from(response.json().fileContent, 'base64'))).toContain('Quarterly report for Fabrikam');
  }, 120_000);

  it('ComputeData: known answers, including the sample StDev and Var', async () => {
    const data = [
      { region: 'EU', amount: 2 },
      { region: 'EU', amount: 4 },
      { region: 'US', amount: 4 },
      { region: 'EU', amount: 4 },
      { region: 'US', amount: 5 },
      { region: 'EU', amount: 5 },
      { region: 'US', amount: 7 },
      { region: 'EU', amount: 9 },
    ];
    const compute = async (expression: string, extra: object = {}) => (await call('/data/compute', { data, expression, ...extra })).json().result;
    expect(await compute('Sum(amount)')).toBe(40);
    expect(await compute('Avg(amount)')).toBe(5);
    expect(await compute('Var(amount)')).toBeCloseTo(32 / 7, 12);
    expect(await compute('StDev(amount)')).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(await compute('Count', { filter: "region == 'US'" })).toBe(3);
    expect(
      await compute('Max(total)', { calculatedColumns: [{ name: 'total', definition: 'amount * 10 + 1' }], filter: "region == 'EU' and amount < 9" }),
    ).toBe(51);
    expect(await compute('Min(amount)', { filter: 'amount > 100' })).toBeNull();
  });

  it('every successful action is counted by operation and action type', async () => {
    const { items } = await usage();
    const success = (operation: string) => items.find((i) => i.operation === operation && i.outcome === 'success');
    for (const operation of ['MergePdfs', 'SplitPdf', 'AddPdfWatermark', 'PopulateWordTemplate', 'ConvertToPdf']) {
      expect(success(operation), operation).toMatchObject({ actionType: 'document', count: 1 });
    }
    expect(success('ComputeData')).toMatchObject({ actionType: 'utility', count: 7 });
  });

  it('bad input gets a 400 with a clear detail, counted as a client error and never as a success', async () => {
    const before = await usage();
    const pdf = b64(await makePdf(2));
    const cases: Array<[string, string, object, RegExp]> = [
      ['MergePdfs', '/pdf/merge', { files: [pdf, b64(Buffer.from('hello, not a pdf'))] }, /File 2 is not a PDF/],
      ['MergePdfs', '/pdf/merge', { files: [] }, /two or more|at least two/i],
      ['MergePdfs', '/pdf/merge', { files: [pdf, 'not base64 at all!!'] }, /base64/i],
      ['SplitPdf', '/pdf/split', { fileContent: pdf, ranges: '1-9' }, /page|range/i],
      ['SplitPdf', '/pdf/split', { fileContent: pdf, ranges: 'x-y' }, /range/i],
      ['AddPdfWatermark', '/pdf/watermark', { fileContent: b64(Buffer.from('%PDF-1.7 broken')), text: 'X' }, /PDF/],
      ['PopulateWordTemplate', '/word/populate', { templateContent: pdf, data: {} }, /template/i],
      ['PopulateWordTemplate', '/word/populate', { templateContent: b64(makeDocx(para('{unclosed'))), data: {} }, /template/i],
      ['ConvertToPdf', '/convert/pdf', { fileContent: pdf, sourceFormat: 'docx' }, /docx|Word/i],
      ['ComputeData', '/data/compute', { data: [{ a: 1 }], expression: 'Sum(b)' }, /b/],
      ['ComputeData', '/data/compute', { data: [{ a: 1 }], expression: 'Sum(a)', filter: 'a >' }, /filter/i],
      ['ComputeData', '/data/compute', { data: [{ a: 1 }], expression: 'Explode(a)' }, /Sum|Avg|expression/],
    ];
    for (const [, url, payload, detail] of cases) {
      const response = await call(url, payload);
      expect(response.statusCode, `${url} ${response.body}`).toBe(400);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
      const body = response.json();
      expect(body.code).toBe('validation_failed');
      expect(body.detail).toMatch(detail);
      expect(body.errors.length).toBeGreaterThan(0);
    }
    const after = await usage();
    for (const operation of new Set(cases.map(([op]) => op))) {
      const expected = cases.filter(([op]) => op === operation).length;
      expect(after.count(operation, 'client_error') - before.count(operation, 'client_error'), operation).toBe(expected);
      expect(after.count(operation, 'success'), operation).toBe(before.count(operation, 'success'));
    }
  }, 60_000);

  it('a body over the size limit is a 413, other content types a 415', async () => {
    const huge = await t.app.inject({
      method: 'POST',
      url: '/v1/data/compute',
      headers: { 'x-api-key': key.secret, 'content-type': 'application/json' },
      payload: `{"data":[${'{"a":1},'.repeat(2_500_000)}{"a":1}],"expression":"Sum(a)"}`,
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().code).toBe('payload_too_large');
    const xml = await t.app.inject({
      method: 'POST',
      url: '/v1/pdf/merge',
      headers: { 'x-api-key': key.secret, 'content-type': 'application/xml' },
      payload: '<files/>',
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().code).toBe('unsupported_media_type');
  });

  it('a bad key is refused before the body is read', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/v1/pdf/merge', headers: { 'x-api-key': 'bdoc_nope' }, payload: { files: [] } });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('api_key_malformed');
  });
});
