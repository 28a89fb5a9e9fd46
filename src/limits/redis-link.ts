import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigError } from '../config.js';
import { withinDeadline } from '../lib/answer-deadline.js';
import { ATTEMPT, LEASE, LEAVE, REPORT } from './redis-scripts.js';

/** The error of a command without an answer within REDIS_TIMEOUT_MS (the wording of ioredis's own). */
const COMMAND_TIMED_OUT = 'Command timed out';

/** What a node holds of one shared count (a quota period's, a rate window's). */
export interface HeldPlaces {
  /** Places this node may still hand out. */
  places: number;
  /** Of `places`, those granted alone while Redis was lost (never in the shared count). */
  local: number;
  /** The total taken by every node, as Redis last said (0: ask the count). */
  total: number;
  /** The last lease found nothing left to take. */
  exhausted: boolean;
}

/** Empties what a node holds of a count: the next request asks the count. */
export function forgetHeld(held: HeldPlaces): void {
  held.places = 0;
  held.local = 0;
  held.total = 0;
  held.exhausted = false;
}

/** What one lease asked of Redis came to. */
export type LeaseResult =
  /** `returned`: this holder's places at the key had been given back by another node (it was silent too long). */
  | { taken: number; total: number; returned: boolean }
  /** The period has no count yet: give the database's count as `seed` and ask again. */
  | 'seed'
  /** The node's view of Redis was out of date (Redis lost its counts, or first contact): ask again from the node's state now. */
  | 'again';

export interface LeaseRequest {
  /** The count to start the period from when Redis has none (null: ask for one). */
  seed: number | null;
  limit: number;
  maxBlock: number;
  divisor: number;
  ttlSeconds: number;
  /** Places this node admitted that the shared count does not hold yet (admitted while Redis was lost). */
  unreported: number;
  /** A quota's places are held in this node's name (see REPORT): what it did with them since it last said. */
  holder?: HolderSettlement;
}

/** What a holder did with its places at one key since it last said. */
export interface HolderSettlement {
  /** It holds places at the key in its name, as far as it knows (a lease gave it some, and they were not given back for it since). */
  holds: boolean;
  /** Places used by successful actions. */
  used: number;
  /** Places it stopped trusting (no word from Redis for a while: see RedisQuotas) and did not use. */
  fenced: number;
}

/** What a holder's heartbeat came to. */
export type ReportResult =
  | {
      /** Places given back from holders that stopped without closing. */
      returned: number;
      /** Keys at which this holder's own places had been given back (it was silent too long). */
      lostHere: string[];
    }
  /** Redis's epoch is not this node's: nothing was settled. */
  | 'again';

/**
 * The one Redis connection a node shares its limits through. It reports whether Redis is
 * reachable (`healthy`) and logs a loss and a recovery once each, not per failed call.
 */
export class RedisLink {
  readonly client: Redis;
  readonly prefix: string;
  #healthy = true;
  #connected = false;
  /** Redis's epoch as this node last met it ('' before the first lease). A new one means Redis lost every count. */
  #epoch = '';
  #closing = false;
  /** While Redis is lost: a ping now and then (a connection that stays open and answers nothing never reconnects by itself). */
  #watch: NodeJS.Timeout | undefined;
  readonly #watchMs: number;
  readonly #timeoutMs: number;
  /** This node's name as a holder of quota places (see REPORT). */
  readonly nodeId = randomUUID();
  /** How long a holder's heartbeat keeps it alive: silent longer, its places are given back by another node. */
  readonly #holderTtlMs: number;
  readonly #onCountsLost: Array<() => void> = [];
  log: (level: 'warn' | 'info', message: string) => void = () => {};

  constructor(url: string, options: { prefix?: string; timeoutMs?: number; holderTtlMs?: number } = {}) {
    this.prefix = options.prefix ?? 'bdoc:';
    this.#holderTtlMs = options.holderTtlMs ?? 60_000;
    const timeoutMs = options.timeoutMs ?? 500;
    this.#timeoutMs = timeoutMs;
    this.#watchMs = Math.max(1000, timeoutMs * 2);
    this.client = new Redis(url, {
      lazyConnect: true,
      // The node's own commands wait `timeoutMs` (#timed); ioredis's timeout is the backstop for
      // the commands it sends itself (the ready check of a new connection).
      commandTimeout: timeoutMs * 4,
      connectTimeout: timeoutMs * 4,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      // A command that got no answer before its connection closed is not sent again on the next:
      // its caller already took it as failed (a lease run late would take places no node holds).
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.client.defineCommand('bdocLease', { numberOfKeys: 2, lua: LEASE });
    this.client.defineCommand('bdocReport', { numberOfKeys: 1, lua: REPORT });
    this.client.defineCommand('bdocLeave', { numberOfKeys: 0, lua: LEAVE });
    this.client.defineCommand('bdocAttempt', { numberOfKeys: 1, lua: ATTEMPT });
    this.client.on('error', (error) => this.markDown(error));
    // A connection closed without an error (Redis restarted or shut down) is lost too, until it is ready again.
    this.client.on('close', () => {
      if (!this.#closing) this.markDown('the connection closed');
    });
    // After a reconnect, see whether Redis kept its counts before sharing again (a Redis restarted
    // empty must not be trusted with the places each node still holds from before).
    this.client.on('ready', () => this.#answersAgain());
  }

  /** How long this node's heartbeat keeps its places held in its name (REDIS_HOLDER_TTL_MS). */
  get holderTtlMs(): number {
    return this.#holderTtlMs;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Connects once at start; rejects with a one-line message naming REDIS_URL. */
  async connect(): Promise<void> {
    // ioredis rejects with "Connection is closed." whatever happened: the socket's own error, or
    // whether the connection was accepted at all, says which.
    let socketError: Error | undefined;
    let accepted = false;
    const onError = (error: Error) => {
      socketError ??= error;
    };
    const onConnect = () => {
      accepted = true;
    };
    this.client.on('error', onError).on('connect', onConnect);
    try {
      await this.client.connect();
      await this.#timed(this.client.ping());
      this.#connected = true;
    } catch (error) {
      this.client.disconnect();
      const refusal = socketError?.name === 'ReplyError' ? socketError : undefined; // NOAUTH, WRONGPASS, …
      const reason = refusal?.message ?? (accepted ? 'it accepted the connection but did not answer' : (socketError ?? (error as Error)).message);
      throw new ConfigError(`REDIS_URL: Redis is unreachable (${reason})`);
    } finally {
      this.client.off('error', onError).off('connect', onConnect);
    }
  }

  /**
   * Called when Redis turns out to have lost every count (it came back empty): each holder of
   * leased places drops them (they were counted in the lost counts, not in the new ones) and
   * reports again what it must. Registered once per holder.
   */
  onCountsLost(listener: () => void): void {
    this.#onCountsLost.push(listener);
  }

  /** `command`'s answer, or the COMMAND_TIMED_OUT error when none came within `timeoutMs` (a busy node is not a lost Redis: AnswerDeadline). */
  #timed<T>(command: Promise<T>): Promise<T> {
    return withinDeadline(command, this.#timeoutMs, () => new Error(COMMAND_TIMED_OUT));
  }

  /**
   * While Redis is lost, calls fail at once rather than each waiting for a timeout: the callers
   * fall back to their local share, and the watch (or a reconnect) finds Redis back.
   */
  #refuseWhileLost(): void {
    if (!this.#healthy) throw new Error('Redis is lost');
  }

  /** The shared count at `key` (null: Redis has none). */
  async count(key: string): Promise<string | null> {
    this.#refuseWhileLost();
    return this.#timed(this.client.get(key));
  }

  /** Takes up to a block of places from the shared budget at `key` (see LEASE). */
  async lease(key: string, o: LeaseRequest): Promise<LeaseResult> {
    this.#refuseWhileLost();
    const client = this.client as unknown as { bdocLease(...args: (string | number)[]): Promise<[number, number, string, number]> };
    const holder = o.holder;
    const [taken, total, epoch, returned] = await this.#timed(
      client.bdocLease(
        key,
        `${this.prefix}epoch`,
        o.seed ?? '',
        o.limit,
        o.maxBlock,
        o.divisor,
        o.ttlSeconds,
        o.unreported,
        this.#epoch,
        // A new epoch's name is new on every call: a node that made the lost epoch and makes the
        // next one must not give it the old name, or a node that met the old one would not see the loss.
        randomUUID(),
        holder ? this.nodeId : '',
        this.#holderTtlMs,
        holder?.used ?? 0,
        holder?.fenced ?? 0,
        this.prefix,
        holder?.holds ? 1 : 0,
      ),
    );
    if (taken === -1) return 'seed';
    if (taken === -2) {
      this.#metEpoch(epoch);
      return 'again';
    }
    return { taken, total, returned: returned === 1 };
  }

  /**
   * The node's heartbeat as a holder of quota places (see REPORT): settles what it did with its
   * places at each key in `settlements` and gives back the places of holders that stopped
   * without closing. Rejects when Redis does not answer (nothing is settled then).
   */
  async report(settlements: ReadonlyMap<string, HolderSettlement>): Promise<ReportResult> {
    this.#refuseWhileLost();
    const args: Array<string | number> = [this.#epoch, this.nodeId, this.#holderTtlMs, this.prefix];
    for (const [key, { used, fenced }] of settlements) args.push(key, used, fenced);
    const client = this.client as unknown as { bdocReport(...args: (string | number)[]): Promise<[number, ...string[]]> };
    const [returned, ...rest] = await this.#timed(client.bdocReport(`${this.prefix}epoch`, ...args));
    if (returned === -1) {
      this.#metEpoch(rest[0] ?? '');
      return 'again';
    }
    return { returned, lostHere: rest };
  }

  /** Nothing is held in this node's name any more (it closes, having given back or used its places). */
  async leave(): Promise<void> {
    const client = this.client as unknown as { bdocLeave(...args: (string | number)[]): Promise<number> };
    await this.#timed(client.bdocLeave(this.nodeId, this.prefix));
  }

  /** Redis's epoch, as a command found it: a new one (not the first met) means Redis lost every count. */
  #metEpoch(epoch: string): void {
    // A concurrent command, or the check after a reconnect, may have met the new epoch first and told the holders already.
    if (epoch === this.#epoch) return;
    if (this.#epoch === '') this.#epoch = epoch;
    else this.#countsLost(epoch);
  }

  /**
   * Gives back the places `held` took from the count at `key` (its local ones never were in it);
   * the next request asks the count. Redis lost: they go without a word to it, and the local
   * share stays as granted, with what was known, so it is not granted again from a lower count.
   */
  giveBack(key: string, held: HeldPlaces): Promise<unknown> {
    held.exhausted = false;
    if (!this.#healthy) {
      held.places = held.local;
      return Promise.resolve();
    }
    const taken = held.places - held.local;
    forgetHeld(held);
    return taken > 0 ? this.#timed(this.client.decrby(key, taken)).catch(() => undefined) : Promise.resolve();
  }

  /**
   * Redis answers again (a reconnect, or a silent connection that speaks): shared again once it
   * takes a write and its epoch is checked. A Redis that answers but refuses writes (a read-only
   * replica after a failover, out of memory, a user without write rights) stays lost: marking it
   * up would only have the next lease fail again, and the node go back and forth every second.
   */
  #answersAgain(): void {
    this.#timed(this.client.set(`${this.prefix}alive`, this.nodeId, 'PX', this.#watchMs * 4))
      .then(() => this.#checkEpoch())
      .then(
        () => this.markUp(),
        (error: Error) => {
          // No answer on a connection ioredis holds as ready: it went silent (Redis's address moved
          // to another server in a failover, the flow was dropped) and would stay so for many
          // minutes of TCP retries. A new connection may reach a Redis that answers.
          if (error.message === COMMAND_TIMED_OUT && this.client.status === 'ready') this.client.disconnect(true);
        },
      );
  }

  /**
   * Whether Redis still has the epoch this node met (not when it has met none yet). Rejects when
   * Redis cannot say: the node stays lost, rather than share again with places from counts Redis
   * may have lost.
   */
  async #checkEpoch(): Promise<void> {
    if (this.#epoch === '') return;
    const epoch = await this.#timed(this.client.get(`${this.prefix}epoch`));
    // Missing: the next lease creates the new epoch, and is told it is new to this node.
    this.#metEpoch(epoch ?? '');
  }

  #countsLost(epoch: string): void {
    this.#epoch = epoch;
    this.log('warn', 'Redis lost its shared counts (restarted empty?): limits are counted again from the database and from what each node admitted');
    for (const listener of this.#onCountsLost) listener();
  }

  /** Counts an attempt at `key` unless it is at `limit` within the window: 0, or the seconds to wait. */
  async attempt(key: string, o: { nowMs: number; windowMs: number; limit: number; member: string }): Promise<number> {
    this.#refuseWhileLost();
    const client = this.client as unknown as { bdocAttempt(...args: (string | number)[]): Promise<number> };
    return this.#timed(client.bdocAttempt(key, o.nowMs, o.windowMs, o.limit, o.member));
  }

  /** Removes the latest member of the sorted set at `key` (a throttled attempt given back). */
  async dropLatest(key: string): Promise<void> {
    this.#refuseWhileLost();
    await this.#timed(this.client.zpopmax(key));
  }

  /** Deletes `key` (a throttle's count, reset). */
  async forget(key: string): Promise<void> {
    this.#refuseWhileLost();
    await this.#timed(this.client.del(key));
  }

  /** Redis failed this node (`reason`: the error, or what happened): counted locally until it answers and takes writes again. */
  markDown(reason: unknown): void {
    if (!this.#healthy || !this.#connected) return;
    this.#healthy = false;
    const why = reason instanceof Error ? reason.message : String(reason);
    this.log('warn', `Redis lost (${why}): limits and sign-in throttling fall back to a conservative local share until it returns`);
    this.#watch = setInterval(() => {
      // Disconnected: ioredis reconnects by itself and 'ready' asks again.
      if (this.client.status === 'ready') this.#answersAgain();
    }, this.#watchMs);
    this.#watch.unref();
  }

  markUp(): void {
    if (this.#healthy) return;
    this.#healthy = true;
    clearInterval(this.#watch);
    this.#watch = undefined;
    this.log('info', 'Redis back: limits and sign-in throttling are shared again');
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#watch);
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
