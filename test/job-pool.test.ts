import { afterAll, describe, expect, it } from 'vitest';
import { defaultDocumentLimits } from '../src/config.js';
import { JobPool } from '../src/jobs/job-pool.js';
import { JsonAnswer } from '../src/operations/operation.js';
import { UnparsedBody } from '../src/operations/unparsed-body.js';
import { makePdf } from './documents/fixtures.js';

/** Keeps the event loop busy for `ms`, as a long collection or a synchronous write does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('the job pool (issue 12 item 5): a time limit counts the worker, not a busy main thread', () => {
  const pool = new JobPool({ limits: defaultDocumentLimits(), queueMax: 10 });
  afterAll(() => pool.close());

  it('a job that finished within its limit while the main thread was busy past it is answered, not stopped and billed', async () => {
    const pdf = (await makePdf(200)).toString('base64');
    const files = Array.from({ length: 10 }, () => pdf);
    // A worker up and warm: the next job starts at once, and takes a few hundred milliseconds.
    await pool.run('MergePdfs', { files: files.slice(0, 2) }, { timeoutMs: 60_000 });
    // Its limit leaves room for a machine several times slower than usual (a loaded CI run).
    const merging = pool.run('MergePdfs', { files }, { timeoutMs: 4000 });
    // The worker has said it started (its message was read) …
    await new Promise((resolve) => setTimeout(resolve, 100));
    // … and finishes while the main thread is busy, in an immediate as a request handler would be,
    // past the limit: the loop looks at its timers next, before the messages that arrived.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        busy(6000);
        resolve();
      }),
    );
    await expect(merging).resolves.toMatchObject({ fileName: 'merged.pdf', pageCount: 2000 });
  });

  it('a job still running at its limit is stopped, and billed, as document_too_complex', async () => {
    const pdf = (await makePdf(200)).toString('base64');
    const error = await pool.run('MergePdfs', { files: Array.from({ length: 10 }, () => pdf) }, { timeoutMs: 20 }).then(
      () => undefined,
      (failure: { code?: string; billed?: boolean }) => failure,
    );
    expect(error).toMatchObject({ code: 'document_too_complex', billed: true });
  });
});

describe('the job pool moves bytes between threads instead of copying them on the event loop', () => {
  const pool = new JobPool({ limits: defaultDocumentLimits(), queueMax: 10 });
  afterAll(() => pool.close());
  const own = (bytes: Uint8Array) => Buffer.alloc(bytes.length, bytes);

  it("an action's answer comes back as JSON bytes made in the worker, their memory moved here", async () => {
    // Large enough for memory of its own (Node keeps answers under 4 KB in a shared pool, and copies those).
    const pdf = (await makePdf(40)).toString('base64');
    const answer = await pool.answer('MergePdfs', { files: [pdf, pdf], fileName: 'both' });
    expect(answer.bytes.byteLength).toBeGreaterThan(8192);
    expect(answer).toBeInstanceOf(JsonAnswer);
    // Moved, not copied into a slice of a larger buffer: the view is its whole buffer.
    expect(answer.bytes.byteOffset).toBe(0);
    expect(answer.bytes.byteLength).toBe(answer.bytes.buffer.byteLength);
    expect(JSON.parse(Buffer.from(answer.bytes).toString('utf8'))).toMatchObject({ fileName: 'both.pdf', pageCount: 80 });
  });

  it('a large request body moves to the worker, which parses and validates it with its operation schema', async () => {
    const pdf = (await makePdf(2)).toString('base64');
    const text = Buffer.from(JSON.stringify({ files: [pdf, pdf], fileName: 'x'.repeat(150) }));
    const blocks = [own(text.subarray(0, 1000)), own(text.subarray(1000))];
    const merged = await pool.answer('MergePdfs', new UnparsedBody('MergePdfs', blocks));
    expect(JSON.parse(Buffer.from(merged.bytes).toString('utf8')).pageCount).toBe(4);
    // The blocks' memory went to the worker: nothing of it is left here to copy.
    expect(blocks.every((block) => block.buffer.byteLength === 0)).toBe(true);

    const invalid = Buffer.from(JSON.stringify({ files: 'not a list', fileName: 'x'.repeat(300) }));
    const refusal = await pool.answer('MergePdfs', new UnparsedBody('MergePdfs', [own(invalid)])).catch((error: unknown) => error);
    expect(refusal).toMatchObject({
      code: 'validation_failed',
      billed: false,
      extras: {
        errors: [
          { path: '/files', message: 'must be array' },
          { path: '/fileName', message: 'must NOT have more than 200 characters' },
        ],
      },
    });
  });

  it('bytes listed to move go to the worker; bytes a job returns as a field come back moved', async () => {
    const pdf = await makePdf(2);
    const input = own(pdf);
    const answer = await pool.answer('ConvertedPdfAnswer', { pdf: input, fileName: 'report' }, { move: [input] });
    expect(input.buffer.byteLength).toBe(0);
    expect(JSON.parse(Buffer.from(answer.bytes).toString('utf8'))).toMatchObject({ fileName: 'report.pdf', pageCount: 2 });
  });
});
