import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

/**
 * Browser tests against the real, built server (`npm run build` first) on a fresh database in a
 * temporary DATA_DIR and a free port. This file is read by the runner and by every worker; the
 * port and directory are chosen once and handed down through the environment.
 */
function freePort(): number {
  const probe = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  const result = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  const port = Number(result.stdout.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not find a free port: ${result.stderr}`);
  return port;
}

process.env.E2E_PORT ??= String(freePort());
process.env.E2E_DATA_DIR ??= mkdtempSync(path.join(os.tmpdir(), 'bdoc-e2e-'));
const baseURL = `http://127.0.0.1:${process.env.E2E_PORT}`;
const repo = path.resolve(import.meta.dirname, '..');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  outputDir: path.join(repo, '.tmp', 'e2e-results'),
  globalTeardown: './global-teardown.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: process.env.CI ? 2 : 3,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    locale: 'en-GB',
    timezoneId: 'UTC',
    permissions: ['clipboard-read', 'clipboard-write'],
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: 'node dist/cli.js serve',
    cwd: repo,
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      DATA_DIR: process.env.E2E_DATA_DIR,
      PORT: process.env.E2E_PORT,
      HOST: '127.0.0.1',
      PUBLIC_URL: baseURL,
      LOG_LEVEL: 'warn',
      USAGE_FLUSH_MS: '100',
      CHANGE_POLL_MS: '100',
      // exposed-keys.spec.ts writes this key list (a self-made key pair standing in for GitHub's) before its first report.
      GITHUB_SECRET_SCANNING_KEYS_FILE: path.join(process.env.E2E_DATA_DIR, 'github-secret-scanning-keys.json'),
      // Admins change their own plan on the Subscription page (subscription.spec.ts).
      SELF_SERVICE_PLANS: 'true',
      // Every spec signs up its own organisation from 127.0.0.1.
      SIGNUPS_PER_IP_PER_HOUR: '100000',
      // webhooks.spec.ts delivers to a receiver on 127.0.0.1.
      WEBHOOKS_ALLOW_PRIVATE: 'true',
      WEBHOOK_POLL_MS: '100',
    },
  },
});
