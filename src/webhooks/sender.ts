import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkWebhookUrl } from './url-guard.js';

export interface SendResult {
  /** The receiver's status code; null when none came (refused URL, network error, timeout). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * POSTs one signed delivery. The URL is checked again (SSRF) and the connection goes to the
 * address that check resolved; redirects are not followed (a 3xx is a failed attempt).
 */
export async function sendWebhook(
  target: string,
  body: string,
  headers: Record<string, string>,
  options: { allowPrivate: boolean; timeoutMs: number },
): Promise<SendResult> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  const checked = await checkWebhookUrl(target, options);
  if (!checked.ok) return { statusCode: null, error: `URL refused: it ${checked.reason}`, durationMs: took() };
  const { url, address, family } = checked;
  const pinned: LookupFunction = (_hostname, opts, callback) => {
    if ((opts as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: took() });
    };
    const request = transport.request(
      url,
      {
        method: 'POST',
        lookup: pinned,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'BuildADoc-Webhooks/1.0', ...headers },
      },
      (response) => {
        // Only the status matters; the body is read (and dropped) so the socket closes cleanly.
        response.on('data', () => {});
        response.on('end', () => finish({ statusCode: response.statusCode ?? null, error: null }));
        response.on('error', () => finish({ statusCode: response.statusCode ?? null, error: null }));
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      finish({ statusCode: null, error: `no answer within ${Math.round(options.timeoutMs / 1000)} s` });
    }, options.timeoutMs);
    request.on('error', (error) => finish({ statusCode: null, error: error.message.slice(0, 200) }));
    request.end(body);
  });
}
