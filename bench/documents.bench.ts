/**
 * Document actions benchmark: MergePdfs of 2 × 50-page PDFs and PopulateWordTemplate with
 * 1,000 table rows. Run: `npx tsx bench/documents.bench.ts [--iterations=N]`.
 *
 * Each scenario runs in its own child process, so the kernel's peak resident set size
 * (`process.resourceUsage().maxRSS`) belongs to that scenario alone. Heap high-water is
 * sampled every millisecond and right after each call, before the next collection; for
 * the fully synchronous template filling only the after-call sample is possible, so that
 * figure is a lower bound. Results print as a table and are written to
 * bench/results/documents-<timestamp>.json.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PDFDocument, PageSizes, StandardFonts } from 'pdf-lib';
import { mergePdfs } from '../src/documents/pdf.js';
import { populateWordTemplate } from '../src/documents/word-template.js';
import { makeDocx, para, table } from '../test/documents/fixtures.js';

interface ScenarioResult {
  scenario: string;
  iterations: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  p90Ms: number;
  baselineRssMiB: number;
  peakRssMiB: number;
  baselineHeapMiB: number;
  peakHeapUsedMiB: number;
  outputBytes: number;
}

const MiB = 1024 * 1024;
const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

const SCENARIOS: Record<string, { title: string; prepare: () => Promise<() => Promise<Buffer> | Buffer> }> = {
  merge: {
    title: 'MergePdfs 2 × 50 pages',
    async prepare() {
      const a = await makeTextPdf(50, 'First');
      const b = await makeTextPdf(50, 'Second');
      return async () => (await mergePdfs([a, b])).pdf;
    },
  },
  template: {
    title: 'PopulateWordTemplate 1,000 rows',
    async prepare() {
      const template = makeDocx(
        para('Statement for {customer.name}, {customer.city}'),
        para('{#vip}Priority customer{/vip}{^vip}Standard customer{/vip}'),
        table([
          ['Date', 'Description', 'Qty', 'Amount'],
          ['{#rows}{date}', '{description}', '{qty}', '{amount}{/rows}'],
        ]),
        para('Total: {total}'),
      );
      const rows = Array.from({ length: 1000 }, (_, i) => ({
        date: `2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
        description: `Line item ${i + 1}: consulting & support`,
        qty: (i % 7) + 1,
        amount: ((i * 37) % 1000) + 0.5,
      }));
      const data = { customer: { name: 'Northwind Traders', city: 'Seattle' }, vip: true, rows, total: 123456.5 };
      return () => populateWordTemplate(template, data);
    },
  },
};

/** A PDF of full text pages (45 lines each), closer to a real report than a one-line page. */
async function makeTextPdf(pages: number, label: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage(PageSizes.A4);
    for (let line = 0; line < 45; line++) {
      const text = `${label} document, page ${p + 1}, line ${line + 1}: the quick brown fox jumps over the lazy dog.`;
      page.drawText(text, { x: 50, y: 790 - line * 16, size: 10, font });
    }
  }
  return Buffer.from(await doc.save());
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Child side: run one scenario and print its result as JSON on stdout. */
async function runScenario(name: string, iterations: number): Promise<void> {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  const run = await scenario.prepare();
  await run(); // warm-up: JIT, lazy module state, font tables
  const baselineRss = process.memoryUsage.rss();
  const baselineHeap = process.memoryUsage().heapUsed;

  let peakHeap = baselineHeap;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 1);

  const times: number[] = [];
  let outputBytes = 0;
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    const output = await run();
    times.push(performance.now() - started);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    outputBytes = output.length;
  }
  clearInterval(sampler);

  const sorted = [...times].sort((x, y) => x - y);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const result: ScenarioResult = {
    scenario: scenario.title,
    iterations,
    medianMs: round(median),
    minMs: round(sorted[0]!),
    maxMs: round(sorted.at(-1)!),
    p90Ms: round(percentile(sorted, 90)),
    baselineRssMiB: round(baselineRss / MiB),
    // maxRSS is in kilobytes.
    peakRssMiB: round((process.resourceUsage().maxRSS * 1024) / MiB),
    baselineHeapMiB: round(baselineHeap / MiB),
    peakHeapUsedMiB: round(peakHeap / MiB),
    outputBytes,
  };
  process.stdout.write(JSON.stringify(result));
}

/** Parent side: one child per scenario, then the table and the JSON file. */
async function main(iterations: number): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const results: ScenarioResult[] = [];
  for (const name of Object.keys(SCENARIOS)) {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, self, `--scenario=${name}`, `--iterations=${iterations}`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`scenario ${name} exited with ${code}`))));
    });
    results.push(JSON.parse(output) as ScenarioResult);
  }

  console.table(
    Object.fromEntries(
      results.map((r) => [
        r.scenario,
        {
          'median ms': r.medianMs,
          'p90 ms': r.p90Ms,
          'min ms': r.minMs,
          'max ms': r.maxMs,
          'peak RSS MiB': r.peakRssMiB,
          'baseline RSS MiB': r.baselineRssMiB,
          'peak heap MiB': r.peakHeapUsedMiB,
          'output KiB': round(r.outputBytes / 1024),
        },
      ]),
    ),
  );

  const cpu = cpus();
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    iterations,
    results,
  };
  const dir = join(dirname(self), 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `documents-${report.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`Wrote ${file}`);
}

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const iterations = Number(arg('iterations') ?? 15);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error('--iterations must be a positive integer');
const scenario = arg('scenario');
await (scenario ? runScenario(scenario, iterations) : main(iterations));
