/**
 * The log of background work that retries by itself (reading the event log, flushing usage,
 * webhook deliveries, mail, the pool's dropped connections) while a dependency is away. Each
 * retry failing would write a line, with its stack, several times a second for as long as the
 * database is down. Instead, per task: the first failure is logged with its error; the next ones
 * are counted, and written at most once per `everyMs` as one line saying how many there were.
 */
export type FailureLogger = (level: 'warn' | 'error', fields: Record<string, unknown>, message: string) => void;

interface Streak {
  loggedAtMs: number;
  unlogged: number;
  /** The first failure of this outage, the last one, and how many in all. */
  firstAtMs: number;
  lastAtMs: number;
  total: number;
}

/** What an outage of a task amounted to, told when it ends. */
export interface Outage {
  /** From its first failure to now. */
  forMs: number;
  failures: number;
}

export class RepeatedFailures {
  readonly #log: FailureLogger;
  readonly #nowMs: () => number;
  readonly #everyMs: number;
  readonly #streaks = new Map<string, Streak>();

  constructor(log: FailureLogger, options: { nowMs?: () => number; everyMs?: number } = {}) {
    this.#log = log;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#everyMs = options.everyMs ?? 60_000;
  }

  /** A failure of `task` (its log message): logged when it is the first for a while, else counted. */
  failed(task: string, error: unknown, level: 'warn' | 'error' = 'warn'): void {
    const now = this.#nowMs();
    const streak = this.#streaks.get(task);
    // A failure long after the last one begins another outage.
    const ongoing = streak && now - streak.lastAtMs < this.#everyMs;
    const outage = ongoing ? { firstAtMs: streak.firstAtMs, lastAtMs: now, total: streak.total + 1 } : { firstAtMs: now, lastAtMs: now, total: 1 };
    if (streak && now - streak.loggedAtMs < this.#everyMs) {
      Object.assign(streak, outage, { unlogged: streak.unlogged + 1 });
      return;
    }
    // `repeated`: failures of the task left out of the log since the last line about it.
    this.#log(level, streak?.unlogged ? { err: error, repeated: streak.unlogged } : { err: error }, task);
    this.#streaks.set(task, { loggedAtMs: now, unlogged: 0, ...outage });
  }

  /**
   * `task` works again: how long its outage lasted and how many failures it had (undefined when
   * it was not failing). Its next failure is logged at once, as the start of another outage.
   */
  ended(task: string): Outage | undefined {
    const streak = this.#streaks.get(task);
    if (!streak) return undefined;
    this.#streaks.delete(task);
    return { forMs: this.#nowMs() - streak.firstAtMs, failures: streak.total };
  }

  /** A handler for one task, for the `onError` callbacks of the parts that retry. */
  of(task: string, level: 'warn' | 'error' = 'warn'): (error: unknown) => void {
    return (error) => this.failed(task, error, level);
  }
}
