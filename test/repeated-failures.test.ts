import { describe, expect, it } from 'vitest';
import { RepeatedFailures } from '../src/lib/repeated-failures.js';

describe('RepeatedFailures: a retrying task logs its outage, not every retry', () => {
  function setup() {
    let now = 1_000_000;
    const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
    const failures = new RepeatedFailures((level, fields, message) => lines.push({ level, fields, message }), { nowMs: () => now, everyMs: 60_000 });
    return { failures, lines, advance: (ms: number) => (now += ms) };
  }

  it('the first failure is logged with its error; the next ones within a minute only counted; then one line says how many', () => {
    const { failures, lines, advance } = setup();
    const first = new Error('connection refused');
    failures.failed('reading the event log failed; retrying', first);
    for (let i = 0; i < 25; i++) {
      advance(200);
      failures.failed('reading the event log failed; retrying', new Error('connection refused'));
    }
    expect(lines).toEqual([{ level: 'warn', fields: { err: first }, message: 'reading the event log failed; retrying' }]);

    advance(60_000);
    const later = new Error('still refused');
    failures.failed('reading the event log failed; retrying', later);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual({ level: 'warn', fields: { err: later, repeated: 25 }, message: 'reading the event log failed; retrying' });
  });

  it('tasks are counted apart, each at its own level', () => {
    const { failures, lines } = setup();
    const usage = failures.of('usage flush failed; counts kept for the next flush', 'error');
    const events = failures.of('reading the event log failed; retrying');
    usage(new Error('a'));
    events(new Error('b'));
    usage(new Error('c'));
    events(new Error('d'));
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['error', 'usage flush failed; counts kept for the next flush'],
      ['warn', 'reading the event log failed; retrying'],
    ]);
  });

  it('a failure long after the last one is logged at once, as the start of a new outage', () => {
    const { failures, lines, advance } = setup();
    failures.failed('sending mail failed; retrying', new Error('smtp down'));
    advance(3_600_000);
    failures.failed('sending mail failed; retrying', new Error('smtp down again'));
    expect(lines).toHaveLength(2);
    expect(lines[1]!.fields).not.toHaveProperty('repeated');
  });
});
