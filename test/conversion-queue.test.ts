/**
 * The conversion queue is bounded and fair: a full queue answers 503 with Retry-After at once,
 * organisations take turns, a conversion that waited too long is refused unbilled, and quota is
 * right after refusals and kills.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversionQueue } from '../src/documents/conversion-queue.js';
import { AppError } from '../src/errors/catalogue.js';
import { callGateway, createKey, expectProblem, signup, startTestApp, type TestApp } from './support/harness.js';

/** A task that runs until released, recording when it started. */
function gate(started: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    task: async () => {
      started.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

describe('ConversionQueue', () => {
  it('takes organisations in turn, not first come first served', async () => {
    const queue = new ConversionQueue({ slots: 1, maxWaiting: 100, maxWaitMs: 60_000 });
    const started: string[] = [];
    const gates = ['a1', 'a2', 'a3', 'a4', 'b1', 'c1', 'b2'].map((name) => ({ name, ...gate(started, name) }));
    const runs = gates.map((g) => queue.run(g.name[0]!, g.task));
    for (const g of gates) {
      g.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(runs);
    // a1 was running; then each organisation in turn: a, b, c, a, b, a, a.
    expect(started).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'b2', 'a4']);
  });

  it('answers 503 with Retry-After at once when the queue is full, or an organisation holds half of it', async () => {
    // Two slots and four waiting places, of which one organisation may hold two.
    const queue = new ConversionQueue({ slots: 2, maxWaiting: 4, maxWaitMs: 60_000 });
    const started: string[] = [];
    const gates = Array.from({ length: 40 }, (_, i) => gate(started, `job${i}`));
    const outcomes = gates.map((g) =>
      queue.run('org', g.task).then(
        () => 'ok',
        (error: AppError) => error,
      ),
    );
    const refused = (await Promise.race([
      Promise.all(outcomes.slice(4)),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1000)),
    ])) as AppError[];
    expect(refused).toHaveLength(36);
    for (const error of refused) {
      expect(error).toBeInstanceOf(AppError);
      expect(error.code).toBe('unavailable');
      expect(Number(error.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Another organisation still finds a place.
    const other = gate(started, 'other');
    const otherOutcome = queue.run('other-org', other.task);
    for (const g of [...gates, other]) g.release();
    expect(await Promise.all(outcomes.slice(0, 4))).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(await otherOutcome).toBe('other');
    expect(queue.stats).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses a conversion that waited too long, without running it', async () => {
    const queue = new ConversionQueue({ slots: 1, maxWaiting: 10, maxWaitMs: 100 });
    const started: string[] = [];
    const first = gate(started, 'first');
    const running = queue.run('a', first.task);
    const waited = await queue.run('b', gate(started, 'second').task).catch((error: AppError) => error);
    expect(waited).toBeInstanceOf(AppError);
    expect((waited as AppError).code).toBe('unavailable');
    expect((waited as AppError).billed).toBe(false);
    first.release();
    await running;
    expect(started).toEqual(['first']);
  });
});

describe('ConvertToPdf under a burst, through the gateway', () => {
  let t: TestApp;
  let burst: string;
  let other: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { CONVERT_WORKERS: '1', CONVERT_QUEUE_MAX: '3' } });
    burst = (await createKey(t, await signup(t, 'Burst Ltd'), { name: 'prod-burst-flow-ops' })).secret;
    other = (await createKey(t, await signup(t, 'Patient Ltd'), { name: 'prod-patient-flow-ops' })).secret;
  });
  afterAll(() => t.close());

  const convert = (key: string, word: string) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/convert/pdf',
      headers: { 'x-api-key': key },
      payload: { fileContent: Buffer.from(`<p>${word}</p>`).toString('base64'), sourceFormat: 'html' },
    });

  it('40 at once: the surplus gets 503 with Retry-After, another organisation still gets its turn, and only conversions done are counted', {
    timeout: 180_000,
  }, async () => {
    const documentsLeft = async (key: string) => (await callGateway(t, key)).json().documentActionsLeft as number;
    const burstBefore = await documentsLeft(burst);
    const otherBefore = await documentsLeft(other);
    const responses = Array.from({ length: 40 }, (_, i) => convert(burst, `Burst ${i}`));
    // Queued behind the burst's running conversion and at most two of its waiting ones.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const patient = convert(other, 'Patient');
    const all = await Promise.all([...responses, patient]);
    const ok = all.filter((r) => r.statusCode === 200);
    const refused = all.filter((r) => r.statusCode === 503);
    expect(ok.length + refused.length).toBe(41);
    // One running, two of the burst's waiting (half the queue, rounded up), the patient one.
    expect(ok.length).toBeLessThanOrEqual(4);
    for (const response of refused) {
      expectProblem(response, 503, 'unavailable');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect((await patient).statusCode, 'the other organisation was not starved').toBe(200);
    expect(await documentsLeft(other)).toBe(otherBefore - 1);
    expect(await documentsLeft(burst)).toBe(burstBefore - (ok.length - 1));
  });
});
