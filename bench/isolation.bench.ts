/**
 * Isolation: how much one organisation's hostile documents slow another organisation's gateway
 * requests. Run: `npm run bench:isolation` (builds the server; then also runs the conversions
 * benchmark: conversions per minute with 1, 2 and 4 LibreOffice workers).
 *
 * A built server on a fresh PostgreSQL database. An idle organisation's key is checked every
 * 10 ms (GET /v1/connection) while the other organisation sends one hostile document; its p99
 * is set beside the p99 of the same probe over a window of the same length with no attack. The
 * pairs are interleaved (quiet, attack, quiet, attack, …) BENCH_PAIRS times per document, and
 * the ratio reported is the median of the per-pair ratios. Results go to bench/results/.
 *
 * BENCH_BASELINE names another checkout, built (`npx tsc -p tsconfig.build.json` there): its server
 * runs beside this one on the same database, and every pair is measured on both builds in turn, so
 * the two are compared side by side in one run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { cpus } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { PDFDocument, PDFName } from 'pdf-lib';
import { makePdf } from '../test/documents/fixtures.js';
import { liftLimits, manage, signupOn, startNode } from '../test/support/cluster.js';
import {
  computeRows,
  docxZipBomb,
  nestedLoopData,
  nestedLoopTemplate,
  overlappingSplit,
  pageTreeBomb,
  pageTreeLoop,
} from '../test/support/hostile-documents.js';
import { createTestDatabase } from '../test/support/postgres.js';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const baseline = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE, 'dist/cli.js') : undefined;
if (baseline && !existsSync(baseline)) throw new Error(`BENCH_BASELINE: ${baseline} does not exist (build that checkout first)`);
const PROBE_EVERY_MS = 10;
const run = promisify(execFile);
/** The attacking client, a process of its own: POSTs a file's JSON with a key, prints the status. */
const SENDER = `const [url, key, file] = process.argv.slice(1);
const body = require('node:fs').readFileSync(file);
fetch(url, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body })
  .then(async (r) => { await r.arrayBuffer(); console.log(r.status); });`;
const b64 = (bytes: Buffer) => bytes.toString('base64');

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
const median = (values: number[]) => quantile(values, 0.5);

/** A one-page PDF carrying `mb` MB of incompressible image data: merging two makes a large answer. */
async function heavyPdf(mb: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([200, 200]);
  const image = doc.context.register(
    doc.context.stream(randomBytes(mb * 1024 * 1024), {
      Type: 'XObject',
      Subtype: 'Image',
      Width: 1024,
      Height: mb * 1024,
      ColorSpace: 'DeviceGray',
      BitsPerComponent: 8,
    }),
  );
  page.node.setXObject(PDFName.of('Im0'), image);
  return Buffer.from(await doc.save());
}

async function main() {
  const database = await createTestDatabase('bench_isolation');
  const bodies = await mkdtemp(join(tmpdir(), 'bdoc-isolation-'));
  const env = { SIGNUPS_PER_IP_PER_HOUR: '1000', WEBHOOK_SECRET_KEY: Buffer.alloc(32, 3).toString('base64') };
  const node = await startNode({ databaseUrl: database.url, entry: 'built', env });
  const builds = [{ build: 'this build', url: node.url, stop: () => node.stop() }];
  if (baseline) {
    const other = await startNode({ databaseUrl: database.url, script: [baseline, 'serve'], env });
    builds.push({ build: `baseline (${process.env.BENCH_BASELINE})`, url: other.url, stop: () => other.stop() });
  }
  try {
    const attackerOrg = await signupOn(node.url, 'Mallory Ltd');
    const idleOrg = await signupOn(node.url, 'Innocent Ltd');
    await liftLimits(database.url, attackerOrg.orgId);
    await liftLimits(database.url, idleOrg.orgId);
    const attacker = (await manage(node.url, attackerOrg, 'POST', '/api/keys', { name: 'prod-attack-flow-ops' })).json.secret as string;
    const idle = (await manage(node.url, idleOrg, 'POST', '/api/keys', { name: 'prod-invoice-flow-finance' })).json.secret as string;

    const probe = async (url: string, untilDone: Promise<unknown>): Promise<number[]> => {
      const latencies: number[] = [];
      let done = false;
      void untilDone.finally(() => {
        done = true;
      });
      while (!done) {
        const started = performance.now();
        const response = await fetch(`${url}/v1/connection`, { headers: { 'x-api-key': idle } });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`idle key answered ${response.status}`);
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
      }
      return latencies;
    };
    // The body is JSON text made before the pair starts, and it is sent by another process: making
    // or sending 60 MB here would stall this process's own probe and be measured as the server's.
    const send = async (url: string, path: string, bodyFile: string): Promise<{ status: number; ms: number }> => {
      const started = performance.now();
      const { stdout } = await run(process.execPath, ['-e', SENDER, `${url}/v1${path}`, attacker, bodyFile], { maxBuffer: 1024 * 1024 });
      return { status: Number(stdout.trim()), ms: performance.now() - started };
    };

    const split = await overlappingSplit();
    const documents: [string, string, unknown][] = [
      ['1 KB PDF, page tree of 10^9 pages', '/pdf/watermark', { fileContent: b64(pageTreeBomb()), text: 'X' }],
      ['PDF page tree that loops', '/pdf/split', { fileContent: b64(pageTreeLoop()) }],
      ['SplitPdf, 1,000 overlapping ranges', '/pdf/split', { fileContent: b64(split.pdf), ranges: split.ranges }],
      ['Word template, nested loops', '/word/populate', { templateContent: b64(nestedLoopTemplate()), data: nestedLoopData(150) }],
      ['.docx expanding to 150 MB', '/word/populate', { templateContent: b64(docxZipBomb(150)), data: {} }],
      ['.docx whose ZIP directory lies (200 MB)', '/word/populate', { templateContent: b64(docxZipBomb(200, true)), data: {} }],
      ['ComputeData, 50,001 rows', '/data/compute', { data: computeRows(50_001), expression: 'Sum(amount)' }],
      // Read in a worker since bodies over 256 KB are: on the event loop, parsing 60 MB took over a second.
      ['60 MB body: 2 × 30 MB base64, not PDFs', '/pdf/merge', { files: ['A'.repeat(30 * 1024 * 1024), 'A'.repeat(30 * 1024 * 1024)] }],
      ['benign MergePdfs (2 × 50 pages)', '/pdf/merge', { files: [b64(await makePdf(50)), b64(await makePdf(50))] }],
      // The answer is large: 24 MB of PDF, 32 MB of JSON, made and sent while the idle organisation is probed.
      ['benign MergePdfs answering 24 MB (2 × 12 MB)', '/pdf/merge', { files: [b64(await heavyPdf(12)), b64(await heavyPdf(12))] }],
    ];

    // BENCH_DOCUMENTS: run only the documents whose name contains it (or one of its parts, split by "|").
    const only = process.env.BENCH_DOCUMENTS?.split('|');
    const results = [];
    for (const [name, path, document] of documents.filter(([name]) => !only || only.some((part) => name.includes(part)))) {
      const body = join(bodies, 'body.json');
      await writeFile(body, JSON.stringify(document));
      type Pair = { quietP99: number; attackP99: number; ratio: number; status: number; attackMs: number; attackMaxMs: number };
      const pairs = new Map<string, Pair[]>(builds.map(({ build }) => [build, []]));
      for (let i = 0; i < PAIRS; i++) {
        for (const { build, url } of builds) {
          const attack = send(url, path, body);
          const attackLatencies = await probe(url, attack);
          const { status, ms } = await attack;
          const quietLatencies = await probe(url, new Promise((resolve) => setTimeout(resolve, Math.max(300, ms))));
          const quietP99 = quantile(quietLatencies, 0.99);
          const attackP99 = quantile(attackLatencies, 0.99);
          pairs.get(build)!.push({ quietP99, attackP99, ratio: attackP99 / quietP99, status, attackMs: ms, attackMaxMs: Math.max(...attackLatencies) });
        }
      }
      for (const [build, measured] of pairs) {
        const row = {
          document: name,
          ...(baseline ? { build } : {}),
          answer: measured[0]!.status,
          attackMs: median(measured.map((p) => p.attackMs)),
          quietP99Ms: median(measured.map((p) => p.quietP99)),
          attackP99Ms: median(measured.map((p) => p.attackP99)),
          p99Ratio: median(measured.map((p) => p.ratio)),
          attackMaxMs: median(measured.map((p) => p.attackMaxMs)),
          pairs: measured,
        };
        results.push(row);
        console.log(
          `${name.padEnd(42)}${baseline ? ` ${build.slice(0, 10).padEnd(10)}` : ''} answer ${row.answer}  took ${row.attackMs.toFixed(0).padStart(6)} ms  idle p99 ${row.quietP99Ms.toFixed(1).padStart(6)} ms → ${row.attackP99Ms.toFixed(1).padStart(6)} ms  ratio ${row.p99Ratio.toFixed(2)}  slowest ${row.attackMaxMs.toFixed(0)} ms`,
        );
      }
    }
    const out = join(dirname(fileURLToPath(import.meta.url)), 'results', `isolation-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(
      out,
      `${JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model }, pairs: PAIRS, probeEveryMs: PROBE_EVERY_MS, ...(baseline ? { baseline: process.env.BENCH_BASELINE } : {}), results }, null, 2)}\n`,
    );
    console.log(`written to ${out}`);
  } finally {
    for (const { stop } of builds) await stop();
    await rm(bodies, { recursive: true, force: true });
    await database.drop();
  }
}

await main();
