import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerDeadline, withinDeadline } from '../src/lib/answer-deadline.js';

/** Keeps the event loop busy for `ms`, as a long collection or a synchronous write does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/**
 * The timeouts a node puts on the answers of PostgreSQL and Redis (issue 12 item 5): a node whose
 * event loop was busy past a timeout must not take the other side as silent. Over real sockets: a
 * server that answers every line at once, and one that never answers.
 */
describe('a deadline for an answer', () => {
  let echo: net.Server;
  let mute: net.Server;
  const port = (server: net.Server) => (server.address() as net.AddressInfo).port;
  const listen = (server: net.Server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets: net.Socket[] = [];
  async function connect(server: net.Server): Promise<net.Socket> {
    const socket = net.connect(port(server), '127.0.0.1');
    sockets.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    return socket;
  }
  /** Sends a question; the promise is its answer. */
  function ask(socket: net.Socket): Promise<string> {
    const answer = new Promise<string>((resolve) => socket.once('data', (data) => resolve(data.toString())));
    socket.write('ping\n');
    return answer;
  }

  beforeAll(async () => {
    echo = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('data', () => socket.write('pong\n'));
    });
    mute = net.createServer((socket) => {
      sockets.push(socket);
    });
    await listen(echo);
    await listen(mute);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => echo.close(resolve));
    await new Promise((resolve) => mute.close(resolve));
  });

  it('an answer that arrived while the loop was busy past the deadline is read, not taken as silence', async () => {
    const socket = await connect(echo);
    const answered = withinDeadline(ask(socket), 100, () => new Error('no answer'));
    busy(300);
    await expect(answered).resolves.toBe('pong\n');
  });

  it('a question sent only after the busy spell gets a full deadline of its own', async () => {
    const socket = await connect(echo);
    let expired = false;
    const deadline = new AnswerDeadline(100, () => {
      expired = true;
    });
    // Sent after the pause, as a query waiting for a pooled connection is.
    const answer = new Promise<void>((resolve) => {
      setTimeout(() => void ask(socket).then(() => resolve()), 0);
    });
    busy(300);
    await answer;
    deadline.clear();
    expect(expired).toBe(false);
  });

  it('no answer: it expires after the deadline, once', async () => {
    const socket = await connect(mute);
    let expiries = 0;
    const started = performance.now();
    const expired = new Promise<void>((resolve) => {
      new AnswerDeadline(100, () => {
        expiries++;
        resolve();
      });
    });
    socket.write('ping\n');
    await expired;
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(99);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(expiries).toBe(1);
    await expect(withinDeadline(new Promise(() => {}), 50, () => new Error('no answer within 50 ms'))).rejects.toThrow('no answer within 50 ms');
  });

  it('no answer while the loop is busy again and again: it still expires (one extension, not one per pause)', async () => {
    const socket = await connect(mute);
    let expired = false;
    new AnswerDeadline(50, () => {
      expired = true;
    });
    socket.write('ping\n');
    for (let turn = 0; turn < 4 && !expired; turn++) {
      busy(150);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(expired).toBe(true);
  });

  it('cleared: it never expires', async () => {
    let expired = false;
    const deadline = new AnswerDeadline(20, () => {
      expired = true;
    });
    deadline.clear();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(expired).toBe(false);
  });
});
