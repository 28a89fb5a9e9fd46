import net from 'node:net';
import { Redis } from 'ioredis';

/** The Redis the tests share (the machine's own); every test uses its own key prefix. */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A TCP proxy in front of a real server (the machine's Redis unless told another URL) that the
 * test can cut and restore, or freeze: a black hole, where connections stay open and nothing
 * passes either way until `thaw` (then what was held passes, as TCP retransmits after a short
 * network cut). The server itself keeps running.
 */
export class CuttableProxy {
  #server?: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #target: URL;
  #frozen = false;
  readonly #held: [net.Socket, Buffer][] = [];
  port = 0;
  constructor(target: string = REDIS_URL) {
    this.#target = new URL(target);
  }
  async open(): Promise<void> {
    const target = this.#target;
    this.#server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      this.#relay(client, upstream);
      this.#relay(upstream, client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
  }
  /** Sockets of the connections `freezeOpen` froze (new connections pass). */
  readonly #frozenSockets = new Set<net.Socket>();
  #relay(from: net.Socket, to: net.Socket): void {
    from.on('data', (data: Buffer) => {
      if (this.#frozen || this.#frozenSockets.has(from)) this.#held.push([to, data]);
      else to.write(data);
    });
  }
  /** Freezes the connections open now, as a network cut that TCP has not noticed leaves them; new connections pass. */
  freezeOpen(): void {
    for (const socket of this.#sockets) this.#frozenSockets.add(socket);
  }
  /** Writes held by a freeze so far (each a command or an answer that did not pass). */
  get held(): number {
    return this.#held.length;
  }
  /** The writes held from the `from`-th on, as text (what was sent: commands, keys, arguments). */
  heldText(from = 0): string[] {
    return this.#held.slice(from).map(([, data]) => data.toString('latin1'));
  }
  freeze(): void {
    this.#frozen = true;
  }
  thaw(): void {
    this.#frozen = false;
    this.#frozenSockets.clear();
    for (const [to, data] of this.#held.splice(0)) if (!to.destroyed) to.write(data);
  }
  async cut(): Promise<void> {
    const server = this.#server;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

/** Deletes every key under a test's prefix. */
export async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}
