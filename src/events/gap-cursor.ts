/**
 * Where a reader is in the event log. PostgreSQL hands out positions when a row is inserted but
 * makes them visible when the transaction commits, so position 12 can be seen before 11. The
 * cursor remembers such gaps below the highest position seen and asks for them again until
 * they fill or `gapWaitMs` has passed (a rolled-back transaction leaves a gap for ever).
 */
export class GapCursor {
  #high: number;
  /** Missing position → when it was first noticed missing. */
  readonly #gaps = new Map<number, number>();
  readonly #gapWaitMs: number;
  readonly #maxGaps: number;

  constructor(high: number, options: { gapWaitMs: number; maxGaps?: number }) {
    this.#high = high;
    this.#gapWaitMs = options.gapWaitMs;
    this.#maxGaps = options.maxGaps ?? 10_000;
  }

  /** The highest position delivered. */
  get high(): number {
    return this.#high;
  }

  /** Gaps still worth asking for; the ones waited on long enough are given up. */
  openGaps(nowMs: number): number[] {
    for (const [position, since] of this.#gaps) if (nowMs - since > this.#gapWaitMs) this.#gaps.delete(position);
    return [...this.#gaps.keys()];
  }

  /**
   * Takes positions read from the log (ascending); returns those not delivered before.
   * Returns `null` when the jump is too wide to track: the reader cannot be sure it saw everything.
   */
  accept(positions: readonly number[], nowMs: number): number[] | null {
    const fresh: number[] = [];
    for (const position of positions) {
      if (position > this.#high) {
        if (position - this.#high - 1 + this.#gaps.size > this.#maxGaps) {
          this.#gaps.clear();
          this.#high = position;
          return null;
        }
        for (let missing = this.#high + 1; missing < position; missing++) this.#gaps.set(missing, nowMs);
        this.#high = position;
        fresh.push(position);
      } else if (this.#gaps.delete(position)) {
        fresh.push(position);
      }
    }
    return fresh;
  }

  /** Starts again from `high` with no gaps (after the reader dropped everything it held). */
  reset(high: number): void {
    this.#gaps.clear();
    this.#high = high;
  }
}
