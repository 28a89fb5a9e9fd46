import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/harness.js';

/** A stand-in for Vite's output: the page, with its inline colour-scheme script, and one hashed asset. */
const INDEX =
  '<!doctype html><html><head><script>document.documentElement.dataset.x = "1";</script><script type="module" src="/assets/index-AbC123.js"></script></head><body><div id="root"></div></body></html>';

describe('the portal is served by the same process', () => {
  let t: TestApp;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'bdoc-portal-'));
    mkdirSync(path.join(root, 'assets'));
    writeFileSync(path.join(root, 'index.html'), INDEX);
    writeFileSync(path.join(root, 'assets', 'index-AbC123.js'), 'console.log("portal");');
    writeFileSync(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    t = await startTestApp({ portalRoot: root });
  });
  afterAll(async () => {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers the root with the portal page, whatever the client accepts', async () => {
    for (const accept of [undefined, '*/*', 'text/html']) {
      const res = await t.app.inject({ method: 'GET', url: '/', headers: accept ? { accept } : {} });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toBe(INDEX);
    }
  });

  it('sends the page with a CSP that allows its one inline script by hash, and no caching', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/keys/key_123?tab=flows', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INDEX);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]{44}'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('serves hashed assets as immutable and other files as revalidated', async () => {
    const asset = await t.app.inject({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await t.app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers a reload of any portal page with the page, not a JSON 404', async () => {
    const pages = ['/keys', '/keys/key_123', '/usage', '/users', '/audit', '/subscription', '/connector', '/troubleshooting', '/webhooks', '/account'];
    for (const url of [...pages, '/signin', '/signup', '/accept-invitation']) {
      const res = await t.app.inject({ method: 'GET', url, headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/^text\/html/);
      expect(res.body, url).toBe(INDEX);
    }
  });

  it('never answers API clients, server paths or missing assets with the page', async () => {
    const cases = [
      { url: '/keys', accept: 'application/json', status: 404 },
      { url: '/v1/nothing-here', accept: 'text/html', status: 404 },
      // The connector's files are the server's: a missing one is a 404, not the page.
      { url: '/connector/nothing-here.json', accept: 'text/html', status: 404 },
      { url: '/assets/missing-123.js', accept: 'text/html', status: 404 },
      // The portal's API asks who is calling before it says what exists.
      { url: '/api/nothing-here', accept: 'text/html', status: 401 },
    ];
    for (const { url, accept, status } of cases) {
      const res = await t.app.inject({ method: 'GET', url, headers: { accept } });
      expect(res.statusCode, url).toBe(status);
      expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(res.json(), url).toMatchObject({ status });
    }
  });

  it("the page fallback's GET on every path does not make other methods a 405: unknown paths stay 404, real ones name their methods", async () => {
    for (const url of ['/keys', '/v1/nothing-here', '/assets/index-AbC123.js/x']) {
      const res = await t.app.inject({ method: 'POST', url, headers: { accept: 'text/html' } });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().code, url).toBe('not_found');
    }
    const wrong = await t.app.inject({ method: 'POST', url: '/v1/connection' });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('GET, HEAD');
    // A built file answers GET and HEAD only.
    const asset = await t.app.inject({ method: 'DELETE', url: '/assets/index-AbC123.js' });
    expect(asset.statusCode).toBe(405);
    expect(asset.headers.allow).toBe('GET, HEAD');
  });
});
