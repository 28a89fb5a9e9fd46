/**
 * Headers every answer carries: `X-Content-Type-Options: nosniff`; a Content-Security-Policy
 * (the portal, /api/docs and /privacy set their own; anything else, JSON included, gets one
 * that allows nothing); `Strict-Transport-Security` when the portal is served over https.
 */
import type { App } from './types.js';

const NOTHING_ALLOWED = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function installSecurityHeaders(app: App, publicUrl: string): void {
  const https = new URL(publicUrl).protocol === 'https:';
  // Callback style: every answer passes here, and a promise per answer would cost a microtask.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', NOTHING_ALLOWED);
    if (https) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    done(null, payload);
  });
}

/** The privacy page: its own inline style, nothing else. */
export const PRIVACY_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
