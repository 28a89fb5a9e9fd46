import { afterAll, describe, expect, it } from 'vitest';
import { defaultDocumentLimits } from '../src/config.js';
import { JobPool } from '../src/jobs/job-pool.js';
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
    const merging = pool.run('MergePdfs', { files }, { timeoutMs: 2000 });
    // The worker has said it started (its message was read) …
    await new Promise((resolve) => setTimeout(resolve, 100));
    // … and finishes while the main thread is busy, in an immediate as a request handler would be,
    // past the limit: the loop looks at its timers next, before the messages that arrived.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        busy(4000);
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
