import { describe, expect, it } from 'vitest';
import { failureLog } from '../src/http/problem.js';
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

  it('when the task works again, ended() tells how long its outage lasted and how many failures it had, once; the next failure is a new outage', () => {
    const { failures, lines, advance } = setup();
    const task = 'database unavailable: answered 503';
    expect(failures.ended(task)).toBeUndefined();
    for (let i = 0; i < 40; i++) {
      failures.failed(task, '55000: not accepting connections');
      advance(5_000);
    }
    // 40 failures over 195 s, logged as three lines; ended 5 s after the last.
    expect(lines).toHaveLength(4);
    expect(failures.ended(task)).toEqual({ forMs: 200_000, failures: 40 });
    expect(failures.ended(task)).toBeUndefined();
    failures.failed(task, 'again');
    expect(lines).toHaveLength(5);
    expect(lines[4]!.fields).toEqual({ err: 'again' });
    // A failure long after the last one counts from itself, not from the old outage.
    advance(3_600_000);
    failures.failed(task, 'much later');
    advance(1_000);
    expect(failures.ended(task)).toEqual({ forMs: 1_000, failures: 1 });
  });

  it('a database error is logged by its message and code, its stack only at debug; any other error whole', () => {
    const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
    const at = (level: string) => (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message });
    const log = failureLog({ warn: at('warn'), error: at('error'), debug: at('debug') } as never);
    // What pg raises for a server's refusal (a DatabaseError: severity and SQLSTATE), and for a refused connection.
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), {
      severity: 'FATAL',
      code: '57P01',
      file: 'postgres.c',
      routine: 'ProcessInterrupts',
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', errno: -111 });
    log('warn', { err: terminated }, 'database connection lost; the pool reconnects');
    log('error', { err: refused, repeated: 3 }, 'usage flush failed; counts kept for the next flush');
    expect(lines).toEqual([
      {
        level: 'warn',
        fields: { err: '57P01: terminating connection due to administrator command' },
        message: 'database connection lost; the pool reconnects',
      },
      { level: 'debug', fields: { err: terminated }, message: 'database connection lost; the pool reconnects' },
      {
        level: 'error',
        fields: { err: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432', repeated: 3 },
        message: 'usage flush failed; counts kept for the next flush',
      },
      { level: 'debug', fields: { err: refused, repeated: 3 }, message: 'usage flush failed; counts kept for the next flush' },
    ]);

    lines.length = 0;
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    log('warn', { err: bug }, 'expiry sweep failed');
    expect(lines).toEqual([{ level: 'warn', fields: { err: bug }, message: 'expiry sweep failed' }]);
  });
});
