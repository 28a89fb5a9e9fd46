import fastifyStatic from '@fastify/static';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './types.js';

/**
 * Paths that belong to the API, the gateway and the operators (or are files), never to the
 * portal's pages. The connector's files live below `/connector/`; `/connector` itself is a page.
 */
const NOT_PORTAL = /^\/(?:(?:api|v1|healthz|readyz|privacy|assets)(?:\/|\?|$)|connector\/)/;

/** Vite's hashed file names never change content, so browsers may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The Content-Security-Policy of the portal's pages. The one inline script (it applies the saved
 * colour scheme before the first paint) is allowed by its hash; Mantine sets styles inline.
 */
function contentSecurityPolicy(indexHtml: string): string {
  const inline = [...indexHtml.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (match) =>
      `'sha256-${createHash('sha256')
        .update(match[1] ?? '')
        .digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self' ${inline.join(' ')}`.trim(),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html');
}

/**
 * Serves the built portal (`npm run build:web` writes it to `dist/public`) at `/`: its files
 * as they are, and `index.html` for any other page address a browser asks for (the portal routes
 * in the browser). `/api`, `/v1` and the other server paths keep their own 404s.
 */
export async function portalRoutes(app: App, opts: { root: string }): Promise<void> {
  const root = path.resolve(opts.root);
  const indexFile = path.join(root, 'index.html');
  if (!existsSync(indexFile)) {
    app.log.warn({ root }, 'the portal is not built (run `npm run build:web`); serving the API only');
    return;
  }
  const csp = contentSecurityPolicy(readFileSync(indexFile, 'utf8'));

  await app.register(fastifyStatic, {
    root,
    // One route per built file (listed at start), so unknown paths reach the fallback below.
    wildcard: false,
    index: false,
    // The fallback answers with index.html itself, with the page's headers.
    globIgnore: ['index.html'],
    cacheControl: false,
    setHeaders: (res, filePath) => {
      const relative = path.relative(root, filePath);
      res.setHeader('cache-control', relative.startsWith(`assets${path.sep}`) ? IMMUTABLE : 'no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
    },
  });

  const page = (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin')
      .sendFile('index.html', root, { cacheControl: false });

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const pathname = request.url.split('?')[0] ?? '/';
    // The root is the portal for anyone (`curl https://host/` shows what lives there); other
    // unknown paths are pages only for browsers, so API clients keep a problem+json 404.
    if (NOT_PORTAL.test(pathname) || (pathname !== '/' && !wantsHtml(request))) return reply.callNotFound();
    return page(request, reply);
  });
}
