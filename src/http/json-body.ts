/**
 * JSON request bodies. A body up to `INLINE_JSON_BYTES` is parsed on the event loop; a larger one
 * (only document and compute actions accept one) is handed to a job worker, so that no tenant's
 * megabytes of JSON hold up another tenant's requests (a 36 MB body took the event loop half a
 * second to parse). Either way the same rules refuse it (`parseJsonText`): 400 `validation_failed`.
 */
import { parseJsonText } from './json-text.js';
import type { App } from './types.js';

export const INLINE_JSON_BYTES = 256 * 1024;

export function installJsonBodies(app: App, options: { parseLarge: (bytes: Buffer) => Promise<unknown> }): void {
  // Every body is JSON: text sent as text/plain gets 415 naming application/json, not a type error about a string.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length > INLINE_JSON_BYTES) {
      options.parseLarge(bytes).then(
        (value) => done(null, value),
        (error: Error) => done(error),
      );
      return;
    }
    try {
      done(null, parseJsonText(bytes.toString('utf8')));
    } catch (error) {
      done(error as Error);
    }
  });
}
