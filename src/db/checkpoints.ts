/**
 * SQLite's WAL checkpoints, off the event loop. By default the connection that commits copies the
 * WAL back into the database file, and syncs it, inside that commit once the WAL passes 1,000
 * pages: on a server every request waits meanwhile (about half of a 10,000-key usage flush's
 * commit here, and a disk sync). The server turns that off on its connection and checkpoints from
 * a worker thread with a connection of its own (`checkpoint-worker.ts`). If the worker cannot
 * start or stops, the connection checkpoints by itself again, as before; so it does after `stop()`.
 */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import { workerFile } from '../lib/worker-file.js';
import type { Db } from './database.js';

/** How often the worker checkpoints: a second's writes at most wait in the WAL. */
const EVERY_MS = 1000;

/** SQLite's own threshold (pages), given back to the connection when the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;

const setAutocheckpoint = (db: Db, pages: number) => sql.raw(`pragma wal_autocheckpoint = ${pages}`).execute(db);

export class BackgroundCheckpoints {
  readonly #db: Db;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #stopping = false;
  #failed = false;

  private constructor(db: Db, worker: Worker, onFailure: (error: Error) => void) {
    this.#db = db;
    this.#worker = worker;
    const fail = (error: Error) => {
      if (this.#stopping || this.#failed) return;
      this.#failed = true;
      setAutocheckpoint(db, AUTOCHECKPOINT_PAGES).then(
        () => onFailure(error),
        (restoreError: Error) =>
          onFailure(
            new Error(`${error.message}; giving checkpoints back to the connection failed too (${restoreError.message}): the WAL grows until a restart`),
          ),
      );
    };
    // What a thread throws arrives as a copy, without its message when it was not an Error of its own.
    worker.on('error', (error: unknown) => fail(error instanceof Error ? error : new Error(`the checkpoint worker failed: ${JSON.stringify(error)}`)));
    this.#exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        fail(new Error(`the checkpoint worker stopped (exit code ${code})`));
        resolve();
      }),
    );
  }

  /**
   * Checkpoints the SQLite file `file`, open as `db`, every `everyMs` (a second) from a worker thread.
   * `onFailure`: the worker failed; the connection checkpoints by itself from then on.
   */
  static async start(db: Db, file: string, options: { everyMs?: number; onFailure: (error: Error) => void }): Promise<BackgroundCheckpoints> {
    await setAutocheckpoint(db, 0);
    const { filename } = workerFile('checkpoint-worker', import.meta.url);
    const url = JSON.stringify(pathToFileURL(filename).href);
    // The TypeScript source (development, tests) is loaded through tsx's loader, registered in the thread first.
    const script = filename.endsWith('.ts') ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${url}); })` : `import(${url})`;
    const worker = new Worker(script, { eval: true, workerData: { file, everyMs: options.everyMs ?? EVERY_MS } });
    // Stopped with the server; never the reason a process stays up.
    worker.unref();
    return new BackgroundCheckpoints(db, worker, options.onFailure);
  }

  /** Stops the worker (its last round finished) and gives checkpoints back to the connection. */
  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#worker.postMessage('stop');
      const stuck = setTimeout(() => void this.#worker.terminate(), 2000);
      await this.#exited;
      clearTimeout(stuck);
      if (!this.#failed) await setAutocheckpoint(this.#db, AUTOCHECKPOINT_PAGES).catch(() => {});
    }
    await this.#exited;
  }
}
