import { buildApp } from './app.js';
import type { Config } from './config.js';

/**
 * Boots the app on HOST:PORT. SIGTERM/SIGINT: stop accepting, let in-flight requests finish,
 * flush buffered usage (onClose), exit 0.
 */
export async function serve(config: Config): Promise<void> {
  const { app } = await buildApp({ config });
  await app.listen({ port: config.port, host: config.host });
  app.log.info({ publicUrl: config.publicUrl }, `Build a Doc portal listening on http://${config.host}:${config.port}`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests and flushing usage');
    const force = setTimeout(() => {
      app.log.error('shutdown took longer than 25 s; exiting');
      process.exit(1);
    }, 25_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
