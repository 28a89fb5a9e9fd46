/**
 * A large request body of a `/v1` action, not parsed on the event loop: its bytes, in blocks
 * whose memory is its own, so that they move to a job worker instead of being copied. The job
 * the action hands it to parses and validates it there (`src/jobs/job-worker.ts`), with the
 * same rules and answers as a small body gets on the event loop.
 */
export class UnparsedBody {
  constructor(
    /** The operation whose body schema it must meet; `null`: only parsed (a body of another route). */
    readonly operationId: string | null,
    /** The bytes in order; each view's `buffer` belongs to it alone (not Node's shared pool). */
    readonly blocks: readonly Uint8Array[],
  ) {}
}
