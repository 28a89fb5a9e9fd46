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
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
const PROBE_EVERY_MS = 10;
const b64 = (bytes: Buffer) => bytes.toString('base64');

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
const median = (values: number[]) => quantile(values, 0.5);

async function main() {
  const database = await createTestDatabase('bench_isolation');
  const node = await startNode({
    databaseUrl: database.url,
    entry: 'built',
    env: { SIGNUPS_PER_IP_PER_HOUR: '1000', WEBHOOK_SECRET_KEY: Buffer.alloc(32, 3).toString('base64') },
  });
  try {
    const attackerOrg = await signupOn(node.url, 'Mallory Ltd');
    const idleOrg = await signupOn(node.url, 'Innocent Ltd');
    await liftLimits(database.url, attackerOrg.orgId);
    await liftLimits(database.url, idleOrg.orgId);
    const attacker = (await manage(node.url, attackerOrg, 'POST', '/api/keys', { name: 'prod-attack-flow-ops' })).json.secret as string;
    const idle = (await manage(node.url, idleOrg, 'POST', '/api/keys', { name: 'prod-invoice-flow-finance' })).json.secret as string;

    const probe = async (untilDone: Promise<unknown>): Promise<number[]> => {
      const latencies: number[] = [];
      let done = false;
      void untilDone.finally(() => {
        done = true;
      });
      while (!done) {
        const started = performance.now();
        const response = await fetch(`${node.url}/v1/connection`, { headers: { 'x-api-key': idle } });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`idle key answered ${response.status}`);
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
      }
      return latencies;
    };
    // The body is JSON text made before the pair starts: making 60 MB of it here would stall this
    // process's own probe and be measured as the server's.
    const send = async (path: string, body: Buffer): Promise<{ status: number; ms: number }> => {
      const started = performance.now();
      const response = await fetch(`${node.url}/v1${path}`, {
        method: 'POST',
        headers: { 'x-api-key': attacker, 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      return { status: response.status, ms: performance.now() - started };
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
    ];

    // BENCH_DOCUMENTS: run only the documents whose name contains it.
    const only = process.env.BENCH_DOCUMENTS;
    const results = [];
    for (const [name, path, document] of documents.filter(([name]) => !only || name.includes(only))) {
      const body = Buffer.from(JSON.stringify(document));
      const pairs: { quietP99: number; attackP99: number; ratio: number; status: number; attackMs: number; attackMaxMs: number }[] = [];
      for (let i = 0; i < PAIRS; i++) {
        const attack = send(path, body);
        const attackLatencies = await probe(attack);
        const { status, ms } = await attack;
        const quietLatencies = await probe(new Promise((resolve) => setTimeout(resolve, Math.max(300, ms))));
        const quietP99 = quantile(quietLatencies, 0.99);
        const attackP99 = quantile(attackLatencies, 0.99);
        pairs.push({ quietP99, attackP99, ratio: attackP99 / quietP99, status, attackMs: ms, attackMaxMs: Math.max(...attackLatencies) });
      }
      const row = {
        document: name,
        answer: pairs[0]!.status,
        attackMs: median(pairs.map((p) => p.attackMs)),
        quietP99Ms: median(pairs.map((p) => p.quietP99)),
        attackP99Ms: median(pairs.map((p) => p.attackP99)),
        p99Ratio: median(pairs.map((p) => p.ratio)),
        attackMaxMs: median(pairs.map((p) => p.attackMaxMs)),
        pairs,
      };
      results.push(row);
      console.log(
        `${name.padEnd(42)} answer ${row.answer}  took ${row.attackMs.toFixed(0).padStart(6)} ms  idle p99 ${row.quietP99Ms.toFixed(1).padStart(6)} ms → ${row.attackP99Ms.toFixed(1).padStart(6)} ms  ratio ${row.p99Ratio.toFixed(2)}  slowest ${row.attackMaxMs.toFixed(0)} ms`,
      );
    }
    const out = join(dirname(fileURLToPath(import.meta.url)), 'results', `isolation-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(
      out,
      `${JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model }, pairs: PAIRS, probeEveryMs: PROBE_EVERY_MS, results }, null, 2)}\n`,
    );
    console.log(`written to ${out}`);
  } finally {
    await node.stop();
    await database.drop();
  }
}

await main();
