import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, MAX_REQUEST_BODY_BYTES, MAX_TOTAL_FILE_BYTES, decodeFile, decodeFiles, labelForPath } from '../../src/documents/file-input.js';
import { catchAppErrorSync, fieldErrors, makePdf } from './fixtures.js';

describe('decodeFile', () => {
  it('decodes a bare base64 string to the original bytes', async () => {
    const pdf = await makePdf(1);
    const decoded = decodeFile(pdf.toString('base64'), 'file');
    expect(decoded.bytes.equals(pdf)).toBe(true);
    expect(decoded.contentType).toBeNull();
  });

  it("decodes Power Automate's file object and keeps its content type", () => {
    const decoded = decodeFile({ '$content-type': 'application/pdf', $content: Buffer.from('hello').toString('base64') }, 'files[0]');
    expect(decoded.bytes.toString()).toBe('hello');
    expect(decoded.contentType).toBe('application/pdf');
  });

  it('decodes a data URL as Power Apps sends it', () => {
    const decoded = decodeFile(`data:text/html;base64,${Buffer.from('<p>hi</p>').toString('base64')}`, 'file');
    expect(decoded.bytes.toString()).toBe('<p>hi</p>');
    expect(decoded.contentType).toBe('text/html');
  });

  it('ignores line breaks inside MIME-style base64', () => {
    const encoded = Buffer.from('a fairly long piece of text to wrap').toString('base64');
    const wrapped = `${encoded.slice(0, 10)}\r\n${encoded.slice(10, 20)}\n ${encoded.slice(20)}`;
    expect(decodeFile(wrapped, 'file').bytes.toString()).toBe('a fairly long piece of text to wrap');
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        expect(decodeFile(buffer.toString('base64'), 'file').bytes.equals(buffer)).toBe(true);
      }),
    );
  });

  it.each([
    ['a character outside the alphabet', 'SGVsbG8*V29ybGQ=', /"\*" at character 8/],
    ['base64url characters', 'SGVsbG8_V29ybGQ-', /"_" at character 8/],
    ['padding in the middle', 'SGVs=bG8=', /"=" may only appear at the very end/],
    ['three padding characters', 'SGVsbG===', /"=" may only appear at the very end/],
    ['a truncated string', 'SGVsbG8gV29ybGQ', /not a multiple of 4/],
    ['a file name instead of content', 'invoice.pdf', /"\." at character 8/],
  ])('rejects %s as corrupt base64, naming the field', (_, value, why) => {
    const error = catchAppErrorSync(() => decodeFile(value, 'files[1]'));
    expect(error.code).toBe('validation_failed');
    expect(error.status).toBe(400);
    expect(fieldErrors(error)[0]?.path).toBe('files[1]');
    expect(error.detail).toMatch(/^File 2 is not valid base64/);
    expect(error.detail).toMatch(why);
  });

  it('names the $content member when the file object carries corrupt base64', () => {
    const error = catchAppErrorSync(() => decodeFile({ '$content-type': 'application/pdf', $content: 'not base64!' }, 'template'));
    expect(fieldErrors(error)[0]?.path).toBe('template.$content');
    expect(error.detail).toContain('The template file is not valid base64');
  });

  it.each([
    [undefined, /nothing was received/],
    [42, /a number was received/],
    [['a'], /a list was received/],
    [{ name: 'a.pdf', contentBytes: 'AAAA' }, /an object with "name", "contentBytes"/],
  ])('rejects %j as not a file', (value, received) => {
    const error = catchAppErrorSync(() => decodeFile(value, 'file'));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('file');
    expect(error.detail).toMatch(received);
  });

  it('rejects a file object whose $content is not text', () => {
    const error = catchAppErrorSync(() => decodeFile({ '$content-type': 'application/pdf', $content: 12 }, 'file'));
    expect(fieldErrors(error)[0]?.path).toBe('file.$content');
  });

  it('rejects empty content', () => {
    for (const value of ['', '  \n', { '$content-type': 'application/pdf', $content: '' }]) {
      const error = catchAppErrorSync(() => decodeFile(value, 'file'));
      expect(error.code).toBe('validation_failed');
      expect(error.detail).toContain('is empty');
    }
  });

  it('accepts a file of exactly the size limit and refuses one byte more with 413', () => {
    const atLimit = Buffer.alloc(MAX_FILE_BYTES, 1).toString('base64');
    expect(decodeFile(atLimit, 'file').bytes.length).toBe(MAX_FILE_BYTES);

    const overLimit = Buffer.alloc(MAX_FILE_BYTES + 1, 1).toString('base64');
    const error = catchAppErrorSync(() => decodeFile(overLimit, 'files[0]'));
    expect(error.code).toBe('payload_too_large');
    expect(error.status).toBe(413);
    expect(error.detail).toMatch(/^File 1 is 25\.0 MiB; each file may be at most 25\.0 MiB/);
    expect(error.extras).toMatchObject({ path: 'files[0]', sizeBytes: MAX_FILE_BYTES + 1, limitBytes: MAX_FILE_BYTES });
  });
});

describe('decodeFiles', () => {
  it('decodes every element and names them by index', () => {
    const files = decodeFiles([Buffer.from('one').toString('base64'), { $content: Buffer.from('two').toString('base64') }]);
    expect(files.map((f) => f.bytes.toString())).toEqual(['one', 'two']);

    const error = catchAppErrorSync(() => decodeFiles(['b25l', 'dHdv', '@@@@']));
    expect(fieldErrors(error)[0]?.path).toBe('files[2]');
    expect(error.detail).toMatch(/^File 3 /);
  });

  it('refuses a list that is not a list', () => {
    const error = catchAppErrorSync(() => decodeFiles('b25l'));
    expect(error.code).toBe('validation_failed');
    expect(fieldErrors(error)[0]?.path).toBe('files');
  });

  it('refuses files that are each allowed but together exceed the total limit', () => {
    const twenty = Buffer.alloc(20 * 1024 * 1024, 7).toString('base64');
    expect(decodeFiles([twenty, twenty])).toHaveLength(2);
    const error = catchAppErrorSync(() => decodeFiles([twenty, twenty, twenty]));
    expect(error.code).toBe('payload_too_large');
    expect(error.extras).toMatchObject({ path: 'files', limitBytes: MAX_TOTAL_FILE_BYTES });
    expect(error.detail).toContain('60.0 MiB');
  });
});

describe('limits and labels', () => {
  it('lets the total file limit through the suggested request body limit once base64-encoded', () => {
    expect(Math.ceil(MAX_TOTAL_FILE_BYTES / 3) * 4).toBeLessThan(MAX_REQUEST_BODY_BYTES);
  });

  it('names files the way a maker counts them', () => {
    expect(labelForPath('files[0]')).toBe('File 1');
    expect(labelForPath('files[11]')).toBe('File 12');
    expect(labelForPath('template')).toBe('The template file');
  });
});
