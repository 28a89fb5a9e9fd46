import net from 'node:net';
import { Redis } from 'ioredis';

/** The Redis the tests share (the machine's own); every test uses its own key prefix. */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A TCP proxy in front of the real Redis that the test can cut and restore (the machine's Redis keeps running). */
export class CuttableProxy {
  #server?: net.Server;
  readonly #sockets = new Set<net.Socket>();
  port = 0;
  async open(): Promise<void> {
    const target = new URL(REDIS_URL);
    this.#server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
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
