/**
 * Long synchronous work in pieces. better-sqlite3 is synchronous and promises alone never let
 * the event loop turn, so work over thousands of rows (a usage flush) must hand the loop back
 * itself, or every request waits for it, even one for a cached key.
 */

/** Resolves after the event loop has had a turn (timers, I/O, waiting requests). */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Calls `work(i)` for i from 0 to `count - 1`, `size` at a time, with a turn of the event loop between pieces. */
export async function inTurns(count: number, size: number, work: (index: number) => void): Promise<void> {
  for (let from = 0; from < count; from += size) {
    if (from > 0) await nextTurn();
    const to = Math.min(from + size, count);
    for (let index = from; index < to; index++) work(index);
  }
}
