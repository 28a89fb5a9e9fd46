import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP receiver on 127.0.0.1. `answer` decides each status (200 by default); `hold`
 * makes it never answer (a slow receiver).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: (request: Received) => number | 'hold' | { status: number; headers: Record<string, string> } = () => 200;
  readonly #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      this.received.push(entry);
      const answer = this.answer(entry);
      if (answer === 'hold') return;
      if (typeof answer === 'number') res.writeHead(answer).end();
      else res.writeHead(answer.status, answer.headers).end();
    });
  });

  async open(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }
}

/**
 * An independent verifier of Standard Webhooks 1.0 (written from the specification, not the
 * library the service signs with): HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with the
 * base64-decoded secret after `whsec_`, compared with each `v1,` signature of the header.
 * Answers which of the given secrets signed the message.
 */
export function verifiedBy(received: Received, secrets: readonly string[]): string[] {
  const id = String(received.headers['webhook-id']);
  const timestamp = String(received.headers['webhook-timestamp']);
  const signatures = String(received.headers['webhook-signature'])
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  return secrets.filter((secret) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${received.body}`).digest();
    return signatures.some((s) => s.length === expected.length && timingSafeEqual(s, expected));
  });
}
