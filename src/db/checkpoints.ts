/**
 * SQLite's WAL checkpoints, off the event loop. By default the connection that commits copies the
 * WAL back into the database file, and syncs it, inside that commit once the WAL passes 1,000
 * pages: on a server every request waits meanwhile (about half of a 10,000-key usage flush's
 * commit here, and a disk sync). The server turns that off on its connection and checkpoints from
 * a worker thread with a connection of its own (`checkpoint-worker.ts`). If the worker cannot
 * start or stops, the connection checkpoints by itself again, as before, and a new worker is tried
 * a while later; once one runs, checkpoints are its own again. So the connection does after `stop()`.
 */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import { workerFile } from '../lib/worker-file.js';
import type { Db } from './database.js';

/** How often the worker checkpoints: a second's writes at most wait in the WAL. */
const EVERY_MS = 1000;

/** How long after a failure a new worker is tried (at most one failure told per interval). */
const RETRY_MS = 60_000;

/** SQLite's own threshold (pages), given back to the connection when the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;

const setAutocheckpoint = (db: Db, pages: number) => sql.raw(`pragma wal_autocheckpoint = ${pages}`).execute(db);

export interface CheckpointOptions {
  /** Between two checkpoints (1 s). */
  everyMs?: number;
  /** Between a failure and the next worker (1 min). */
  retryMs?: number;
  /** The worker failed (or a new one could not start): the connection checkpoints by itself meanwhile. */
  onFailure: (error: Error) => void;
  /** A new worker runs after a failure: checkpoints are off the connection again. */
  onRecovered?: () => void;
}

export class BackgroundCheckpoints {
  readonly #db: Db;
  readonly #file: string;
  readonly #options: CheckpointOptions;
  #worker: Worker | undefined;
  #exited: Promise<void> = Promise.resolve();
  #retry: NodeJS.Timeout | undefined;
  /** The running worker has the checkpoints (the connection's own are off). */
  #owned = false;
  /** A worker failed since the last one ran: the next that runs is a recovery. */
  #failed = false;
  #stopping = false;
  /** What a worker's start and end change is done in the order they happened. */
  #steps: Promise<void> = Promise.resolve();

  private constructor(db: Db, file: string, options: CheckpointOptions) {
    this.#db = db;
    this.#file = file;
    this.#options = options;
  }

  /**
   * Checkpoints the SQLite file `file`, open as `db`, every `everyMs` (a second) from a worker
   * thread. The connection's own checkpoints are off from the start (a worker that fails gives
   * them back); the server does not wait for the thread to load.
   */
  static async start(db: Db, file: string, options: CheckpointOptions): Promise<BackgroundCheckpoints> {
    const checkpoints = new BackgroundCheckpoints(db, file, options);
    await setAutocheckpoint(db, 0);
    checkpoints.#owned = true;
    checkpoints.#launch();
    return checkpoints;
  }

  /** One worker: it holds the checkpoints from its first one (`ready`) until it fails or ends. */
  #launch(): void {
    const { filename } = workerFile('checkpoint-worker', import.meta.url);
    const url = JSON.stringify(pathToFileURL(filename).href);
    // The TypeScript source (development, tests) is loaded through tsx's loader, registered in the thread first.
    const script = filename.endsWith('.ts') ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${url}); })` : `import(${url})`;
    const worker = new Worker(script, { eval: true, workerData: { file: this.#file, everyMs: this.#options.everyMs ?? EVERY_MS } });
    // Stopped with the server; never the reason a process stays up.
    worker.unref();
    this.#worker = worker;
    const run = { ended: false };
    const fail = (error: Error) => {
      if (run.ended) return;
      run.ended = true;
      void this.#step(() => this.#lost(error));
    };
    worker.once('message', (message) => {
      if (message === 'ready') void this.#step(() => this.#took(run));
    });
    // What a thread throws arrives as a copy, without its message when it was not an Error of its own.
    worker.on('error', (error: unknown) => fail(error instanceof Error ? error : new Error(`the checkpoint worker failed: ${JSON.stringify(error)}`)));
    this.#exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        fail(new Error(`the checkpoint worker stopped (exit code ${code})`));
        resolve();
      }),
    );
  }

  #step(work: () => Promise<void>): Promise<void> {
    // Each step handles its own failures; one that slipped through must not stop the later ones.
    this.#steps = this.#steps.then(work).catch(() => {});
    return this.#steps;
  }

  /** The worker runs (unless it already ended): the connection's own checkpoints go off. */
  async #took(run: { ended: boolean }): Promise<void> {
    if (this.#stopping || run.ended || this.#owned) return;
    try {
      await setAutocheckpoint(this.#db, 0);
    } catch {
      // Not turned off (the database is away): the connection and the worker both checkpoint meanwhile, which is harmless.
      return;
    }
    this.#owned = true;
    if (this.#failed) {
      this.#failed = false;
      this.#options.onRecovered?.();
    }
  }

  /** The worker failed or ended: the connection checkpoints again, and a new worker is tried later. */
  async #lost(error: Error): Promise<void> {
    if (this.#stopping) return;
    this.#failed = true;
    let told = error;
    if (this.#owned) {
      this.#owned = false;
      await setAutocheckpoint(this.#db, AUTOCHECKPOINT_PAGES).catch((restoreError: Error) => {
        told = new Error(
          `${error.message}; giving checkpoints back to the connection failed too (${restoreError.message}): the WAL grows until a checkpoint worker runs again`,
        );
      });
    }
    // Scheduled before the failure is told: a listener that throws must not end the retries.
    this.#retry = setTimeout(() => {
      if (!this.#stopping) this.#launch();
    }, this.#options.retryMs ?? RETRY_MS);
    this.#retry.unref();
    this.#options.onFailure(told);
  }

  /** Stops the worker (its last round finished) and gives checkpoints back to the connection. */
  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      clearTimeout(this.#retry);
      const worker = this.#worker;
      if (worker) {
        worker.postMessage('stop');
        const stuck = setTimeout(() => void worker.terminate(), 2000);
        await this.#exited;
        clearTimeout(stuck);
      }
      await this.#step(async () => {
        if (this.#owned) await setAutocheckpoint(this.#db, AUTOCHECKPOINT_PAGES).catch(() => {});
        this.#owned = false;
      });
    }
    await this.#exited;
  }
}
