/**
 * ConvertToPdf cannot reach a network address or a file of the server: references are removed
 * or refused before LibreOffice runs, and LibreOffice itself runs in a bubblewrap sandbox with
 * no network, no view of the server's files and a clean environment (CI installs bubblewrap).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import PizZip from 'pizzip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConverter } from '../src/documents/convert.js';
import { bubblewrapArgs, cleanEnvironment, resolveSandbox } from '../src/documents/sandbox.js';
import { makeDocx, para } from './documents/fixtures.js';
import { pdfText } from './documents/office-fixtures.js';
import { createKey, expectProblem, signup, startTestApp, type TestApp } from './support/harness.js';

const SLOW = 120_000;
const SECRET = 'TOP-SECRET-7f3a9c';

describe('documents that reference the network or local files', () => {
  let t: TestApp;
  let secret: string;
  let listener: Server;
  let port = 0;
  const received: string[] = [];
  let dir: string;
  let secretFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bdoc-isolation-'));
    secretFile = path.join(dir, 'secret.txt');
    writeFileSync(secretFile, `${SECRET}\n`);
    writeFileSync(path.join(dir, 'secret.html'), `<p>${SECRET}</p>`);
    listener = createServer((request, response) => {
      received.push(`${request.method} ${request.url}`);
      response.setHeader('content-type', request.url?.endsWith('.css') ? 'text/css' : 'text/html');
      response.end(request.url?.endsWith('.css') ? `body::before { content: "${SECRET}" }` : `<p>${SECRET}</p>`);
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as { port: number }).port;
    t = await startTestApp({ env: { DATABASE_URL_SHOULD_NOT_LEAK: 'x' } });
    secret = (await createKey(t, await signup(t, 'Convert Ltd'), { name: 'prod-convert-flow-ops' })).secret;
  });
  afterAll(async () => {
    await t.close();
    listener.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const convert = (fileContent: Buffer, sourceFormat: string) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/convert/pdf',
      headers: { 'x-api-key': secret },
      payload: { fileContent: fileContent.toString('base64'), sourceFormat },
    });

  it('the server reports how LibreOffice is sandboxed', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({ converterSandbox: 'bubblewrap' });
  });

  it('HTML: stylesheets, images, frames and file: URLs are removed; the listener hears nothing, the PDF holds no secret', { timeout: SLOW }, async () => {
    const base = `http://127.0.0.1:${port}`;
    const html = `<html><head><link rel="stylesheet" href="${base}/style.css"><style>@import url(${base}/import.css); p { background: url('${base}/bg.png') }</style></head>
      <body background="file://${secretFile}"><p>Invoice 42</p><img src="${base}/image.png"><img src="file://${secretFile}">
      <iframe src="${base}/frame.html"></iframe><iframe src="file://${path.join(dir, 'secret.html')}"></iframe><object data="${base}/object.html"></object></body></html>`;
    const response = await convert(Buffer.from(html), 'html');
    expect(response.statusCode, response.body).toBe(200);
    const text = await pdfText(Buffer.from(response.json().fileContent, 'base64'));
    expect(text).toContain('Invoice 42');
    expect(text).not.toContain(SECRET);
    expect(received).toEqual([]);
  });

  it('Word: a linked (not embedded) picture and an INCLUDETEXT field are refused with 400, nothing fetched', async () => {
    const linked = new PizZip(makeDocx(para('Hello')));
    linked.file(
      'word/_rels/document.xml.rels',
      `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="http://127.0.0.1:${port}/pixel.png" TargetMode="External"/></Relationships>`,
    );
    const picture = expectProblem(await convert(linked.generate({ type: 'nodebuffer' }), 'docx'), 400, 'validation_failed');
    expect(picture.detail).toMatch(/external image link/);

    const field = makeDocx(
      `<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> INCLUDETEXT "${secretFile}" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`,
    );
    expect(expectProblem(await convert(field, 'docx'), 400, 'validation_failed').detail).toMatch(/INCLUDETEXT field/);
    expect(received).toEqual([]);
  });

  it('RTF: INCLUDEPICTURE and file: URLs are refused with 400', async () => {
    const rtf = `{\\rtf1\\ansi{\\field{\\*\\fldinst INCLUDEPICTURE "http://127.0.0.1:${port}/p.png" \\\\d}{\\fldrslt x}}}`;
    expect(expectProblem(await convert(Buffer.from(rtf), 'rtf'), 400, 'validation_failed').detail).toMatch(/INCLUDEPICTURE field/);
    const fileUrl = `{\\rtf1\\ansi see file://${secretFile}}`;
    expect(expectProblem(await convert(Buffer.from(fileUrl), 'rtf'), 400, 'validation_failed').detail).toMatch(/file: URL/);
    expect(received).toEqual([]);
  });

  it('even an unfiltered document gets nothing: the sandbox has no network and cannot see the server’s files', { timeout: SLOW }, async () => {
    // Straight to LibreOffice, past the filter, as if the filter had missed something.
    const converter = createConverter({ sandbox: 'bubblewrap' });
    const html = `<html><head><link rel="stylesheet" href="http://127.0.0.1:${port}/direct.css"></head><body><p>Direct</p><img src="http://127.0.0.1:${port}/direct.png"><img src="file://${secretFile}"></body></html>`;
    const pdf = await converter.convertPrepared(Buffer.from(html), 'html', 'org_test');
    const text = await pdfText(pdf);
    expect(text).toContain('Direct');
    expect(text).not.toContain(SECRET);
    expect(received).toEqual([]);
  });
});

describe('the sandbox itself', () => {
  it('bubblewrap runs here (CI installs it)', () => {
    expect(resolveSandbox('auto')).toBe('bubblewrap');
  });

  it('holds none of the server’s environment: only the clean variables', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'bdoc-sandbox-'));
    try {
      const run = spawnSync('bwrap', bubblewrapArgs(work, '/usr/bin/env', []), {
        env: { ...process.env, DATABASE_URL: 'postgres://secret@db/x' },
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      // bubblewrap itself adds PWD (the work directory).
      const names = run.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('=')[0])
        .sort();
      expect(names).toEqual([...Object.keys(cleanEnvironment(work)), 'PWD'].sort());
      expect(run.stdout).not.toContain('postgres://');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('cannot open a connection, read the server’s files, or write outside its work directory', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'bdoc-sandbox-'));
    const outside = mkdtempSync(path.join(tmpdir(), 'bdoc-outside-'));
    writeFileSync(path.join(outside, 'secret.txt'), SECRET);
    const listener = createServer((_request, response) => response.end('hi'));
    try {
      const script = `exec 3<>/dev/tcp/127.0.0.1/5432 && echo CONNECTED; cat ${outside}/secret.txt; touch ${outside}/written && echo WROTE; touch ${work}/inside && echo INSIDE`;
      const run = spawnSync('bwrap', bubblewrapArgs(work, '/usr/bin/bash', ['-c', script]), { encoding: 'utf8' });
      expect(run.stdout).not.toContain('CONNECTED');
      expect(run.stdout).not.toContain(SECRET);
      expect(run.stdout).not.toContain('WROTE');
      expect(run.stdout).toContain('INSIDE');
    } finally {
      listener.close();
      rmSync(work, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
