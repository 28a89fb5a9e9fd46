/** Lateness of a due timer that means the event loop was busy, not merely scheduled late. */
const BUSY_MS = 20;

/**
 * "No answer within `ms`" that does not blame the other side for this process's own delays.
 * When the event loop was busy (a long collection, a synchronous write, a starved machine) past
 * the due time, a plain timer fires before the I/O that arrived meanwhile is read, so an answer
 * waiting in its socket, or a question that was sent only after the pause, would count as none.
 * So a timer that fires late by a good part of `ms` gives the other side one more `ms` from now
 * (unless `extendWhenLate` is false: a worker's time limit, which ran on its own thread meanwhile),
 * and the expiry itself waits for one turn of the loop that reads pending I/O and messages (an
 * immediate runs after the poll phase). `expired` runs at most once, and never after `clear`.
 */
export class AnswerDeadline {
  readonly #ms: number;
  readonly #expired: () => void;
  readonly #unref: boolean;
  readonly #extendWhenLate: boolean;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #extended = false;

  constructor(ms: number, expired: () => void, options: { unref?: boolean; extendWhenLate?: boolean } = {}) {
    this.#ms = ms;
    this.#expired = expired;
    this.#unref = options.unref ?? false;
    this.#extendWhenLate = options.extendWhenLate ?? true;
    this.#arm();
  }

  #arm(): void {
    const due = performance.now() + this.#ms;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#extendWhenLate && !this.#extended && performance.now() - due > Math.max(BUSY_MS, this.#ms / 4)) {
        this.#extended = true;
        this.#arm();
        return;
      }
      this.#immediate = setImmediate(() => {
        this.#immediate = undefined;
        this.#expired();
      });
    }, this.#ms);
    if (this.#unref) this.#timer.unref();
  }

  clear(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }
}

/** `answer`, or a rejection with `timeoutError()` once `ms` passed without it (see AnswerDeadline). */
export function withinDeadline<T>(answer: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = new AnswerDeadline(ms, () => reject(timeoutError()));
    answer.then(
      (value) => {
        deadline.clear();
        resolve(value);
      },
      (error: unknown) => {
        deadline.clear();
        reject(error);
      },
    );
  });
}
