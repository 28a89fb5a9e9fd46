/**
 * ConvertToPdf throughput: conversions per minute with 1, 2 and 4 LibreOffice workers.
 * Run: `npm run bench:conversions` (knobs: BENCH_JOBS_PER_WORKER, default 4;
 * BENCH_WORKERS, default "1,2,4").
 *
 * Each worker count n gets its own converter (createConverter({ maxConcurrent: n }), sandboxed
 * the way the server runs it: CONVERT_SANDBOX=auto). After one warm-up conversion, 4 × n jobs
 * (alternating a small HTML page and a small Word document, three organisations) are queued at
 * once, so every slot stays busy for about four conversion times (~40 s here); the wall time
 * until the last finishes gives conversions per minute. Every output is checked to be a PDF.
 * Latency columns are time from the start of the batch to each job's completion (queueing
 * included).
 * Results print as a table and are written to bench/results/conversions-<timestamp>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConverter } from '../src/documents/convert.js';
import { makeDocx, para } from '../test/documents/fixtures.js';

const jobsPerWorker = Number(process.env.BENCH_JOBS_PER_WORKER ?? 4);
const workerCounts = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);

const html = Buffer.from(
  `<!doctype html><html><head><title>Invoice</title><style>td{border:1px solid #999}</style></head><body>
<h1>Invoice 2024-117</h1><p>${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(20)}</p>
<table>${Array.from({ length: 30 }, (_, i) => `<tr><td>Item ${i + 1}</td><td>${(i * 3.5).toFixed(2)}</td></tr>`).join('')}</table>
</body></html>`,
);
const docx = makeDocx(
  para('Statement for Ada Lovelace'),
  ...Array.from({ length: 40 }, (_, i) => para(`Line ${i + 1}: ${'The quick brown fox jumps over the lazy dog. '.repeat(4)}`)),
);
const inputs: Array<{ body: Buffer; format: string }> = [
  { body: html, format: 'html' },
  { body: docx, format: 'docx' },
];

interface Run {
  workers: number;
  seconds: number;
  conversions: number;
  perMinute: number;
  medianMs: number;
  p90Ms: number;
  failures: number;
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function measure(workers: number): Promise<Run> {
  const jobs = jobsPerWorker * workers;
  const converter = createConverter({ maxConcurrent: workers, queueMax: jobs, queueWaitMs: 3_600_000 });
  await converter.convertToPdf(html, 'html', 'warm-up');
  const latencies: number[] = [];
  let failures = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: jobs }, async (_, i) => {
      const input = inputs[i % inputs.length]!;
      try {
        const pdf = await converter.convertToPdf(input.body, input.format, 'file', `org-${i % 3}`);
        if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new Error('output is not a PDF');
        latencies.push(performance.now() - start);
      } catch (error) {
        failures++;
        console.error(`workers=${workers}:`, (error as Error).message);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    workers,
    seconds: Number(elapsed.toFixed(1)),
    conversions: latencies.length,
    perMinute: Number(((latencies.length / elapsed) * 60).toFixed(1)),
    medianMs: Math.round(percentile(latencies, 50)),
    p90Ms: Math.round(percentile(latencies, 90)),
    failures,
  };
}

const sandbox = createConverter().sandbox;
const runs: Run[] = [];
for (const workers of workerCounts) {
  const run = await measure(workers);
  runs.push(run);
  console.log(
    `workers=${run.workers}  ${run.conversions} conversions in ${run.seconds}s  ${run.perMinute}/min  median ${run.medianMs} ms  p90 ${run.p90Ms} ms  failures ${run.failures}`,
  );
}

const result = {
  benchmark: 'conversions',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, parallelism: availableParallelism(), cpuModel: cpus()[0]?.model, totalMemMiB: Math.round(totalmem() / 2 ** 20) },
  sandbox,
  workload: 'alternating HTML page (~1 page, 30-row table) and Word document (40 paragraphs)',
  runs,
};
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `conversions-${result.date.replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`sandbox: ${sandbox}; written ${file}`);
if (runs.some((run) => run.failures > 0)) process.exitCode = 1;
