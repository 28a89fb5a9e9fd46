import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message as the SMTP server received it: the envelope's recipients, the raw text and its parsed parts. */
export interface ReceivedMail {
  to: string[];
  raw: string;
  parsed: ParsedMail;
}

/**
 * A real SMTP server on a free local port that keeps what it receives. `refuse` turns a
 * recipient away with a temporary failure (450), as a full or unreachable mailbox would be.
 */
export async function startSmtpServer(options: { refuse?: (recipient: string) => boolean } = {}) {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (options.refuse?.(address.address)) return callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 450 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: raw.toString('utf8'), parsed });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    /** What was received for one address (of one kind: invitation, key_expiring, key_exposed, quota_threshold). */
    to: (address: string, kind?: string) =>
      received.filter((mail) => mail.to.includes(address.toLowerCase()) && (!kind || mail.parsed.headers.get('x-build-a-doc-mail') === kind)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
