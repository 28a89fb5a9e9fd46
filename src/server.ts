import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildApp } from './app.js';
import { type Config, ConfigError } from './config.js';
import { disablePretenuring } from './lib/pretenuring.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why the server could not listen, naming the variable to change (the rest stays as Node said it). */
export function listenError(error: unknown, config: Pick<Config, 'host' | 'port'>): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const at = `${config.host}:${config.port}`;
  if (code === 'EADDRINUSE') return new ConfigError(`PORT: ${at} is already in use by another process; stop it or choose another PORT`);
  if (code === 'EACCES') return new ConfigError(`PORT: this user may not listen on ${at} (ports below 1024 need privileges); choose another PORT`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new ConfigError(`HOST: ${config.host} is not an address of this machine (${code}); set HOST to one of its addresses, or 0.0.0.0`);
  return error;
}

/**
 * Boots the app on HOST:PORT. SIGTERM/SIGINT: drain, then stop accepting, let in-flight requests
 * finish, flush buffered usage (onClose), exit 0.
 *
 * Draining (SHUTDOWN_DRAIN_MS): the listener stays open, `/readyz` answers 503 so a load balancer
 * stops sending, and every response carries `Connection: close`, so each keep-alive connection is
 * closed by the server right after a complete response, never under a request a client is sending
 * (which is what an ECONNRESET is). Draining ends early once no connection is open.
 */
export async function serve(config: Config): Promise<void> {
  // Before any request: see disablePretenuring (a young collection 20x slower in some starts).
  disablePretenuring();
  const { app } = await buildApp({ config });
  // Draining: runs before Fastify sees a request (nothing written yet, so headers can be set).
  // Added when draining begins, not before: a second 'request' listener would make Node copy the
  // listener list on every request of the node's life.
  const drain = (request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('connection', 'close');
    if (request.url === '/readyz') {
      response.statusCode = 503;
      response.setHeader('retry-after', '5');
      response.setHeader('content-type', 'application/problem+json');
      response.end(
        JSON.stringify({
          type: `${config.publicUrl}/problems/unavailable`,
          title: 'Service unavailable',
          status: 503,
          detail: 'This node is shutting down.',
          code: 'unavailable',
          reason: 'shutting down',
        }),
      );
    }
  };
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // Nothing is served: stop what the app started (pool, workers, timers), or the process would live on.
    await app.close().catch(() => undefined);
    throw listenError(error, config);
  }
  app.log.info({ publicUrl: config.publicUrl }, `Build a Doc portal listening on http://${config.host}:${config.port}`);

  const openConnections = () => new Promise<number>((resolve) => app.server.getConnections((_error, count) => resolve(count ?? 0)));

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.server.prependListener('request', drain);
    app.log.info({ signal, drainMs: config.shutdownDrainMs }, 'shutting down: draining connections, finishing in-flight requests and flushing usage');
    // The last resort: beyond draining and the time usage may wait for the database (it is kept in DATA_DIR after that).
    const graceMs = config.shutdownUsageRetryMs + 25_000;
    const force = setTimeout(() => {
      app.log.error(`shutdown took longer than ${graceMs / 1000} s after draining; exiting`);
      process.exit(1);
    }, config.shutdownDrainMs + graceMs);
    force.unref();
    const drainEnds = Date.now() + config.shutdownDrainMs;
    while (Date.now() < drainEnds && (await openConnections()) > 0) await sleep(50);
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
