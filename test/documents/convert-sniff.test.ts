/**
 * Telling a .docx from an .xlsx means opening the ZIP, so ConvertToPdf looks at a file's type
 * once and hands the answer to the format inference, the match check and its error message.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createConverter } from '../../src/documents/convert.js';
import { sniffFileType } from '../../src/documents/file-type.js';
import { catchAppError, makeDocx, para } from './fixtures.js';
import { makePptx } from './office-fixtures.js';

vi.mock('../../src/documents/file-type.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/documents/file-type.js')>();
  return { ...original, sniffFileType: vi.fn(original.sniffFileType) };
});

// No LibreOffice: every call stops right after the input checks.
const converter = createConverter({ command: null });

describe('convertToPdf sniffs the input once', () => {
  beforeEach(() => {
    vi.mocked(sniffFileType).mockClear();
  });

  it('when the format is inferred from the file', async () => {
    const error = await catchAppError(() => converter.convertToPdf(makePptx('Roadmap'), undefined));
    expect(error.code).toBe('converter_unavailable');
    expect(sniffFileType).toHaveBeenCalledTimes(1);
  });

  it('when the file does not match its declared format and the message names the right one', async () => {
    const error = await catchAppError(() => converter.convertToPdf(makeDocx(para('x')), 'xlsx'));
    expect(error.detail).toMatch(/looks like a Word document \(\.docx\)\. Set the source format to match the file \("docx"\)/);
    expect(sniffFileType).toHaveBeenCalledTimes(1);
  });
});
