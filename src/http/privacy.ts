import { PRIVACY_CSP } from './security-headers.js';
import type { App } from './types.js';

/** The privacy statement the connector definition links to ("Privacy policy" metadata). */
const PRIVACY_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Privacy policy · Build a Doc</title>
<style>body{font:16px/1.6 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1a1b1e}h1{font-size:1.6rem}</style></head>
<body><main>
<h1>Build a Doc privacy policy</h1>
<p>This service issues and verifies the API keys with which Power Automate and Power Apps call Build a Doc, and runs the document actions you call.</p>
<h2>What we keep</h2>
<ul>
<li>For each person: email address, name, role, and a salted scrypt hash of the password (never the password).</li>
<li>For each API key: its name, environment, team, owner, dates, and a SHA-256 hash of the key with its first 9 and last 4 characters. The key itself is shown once and never stored.</li>
<li>For each request made with a key: counts per day, operation and outcome, and for each calling flow its Power Automate workflow name or id, run id, region and client, so you can see which flows use which key.</li>
<li>An audit log of sign-ins and of changes to keys, people and subscriptions, with the IP address they came from.</li>
</ul>
<h2>What we do not keep</h2>
<p>Documents and data sent to the document actions are processed in memory and temporary files that are deleted when the action ends; they are not stored or logged.</p>
<h2>Your choices</h2>
<p>Admins of an organisation can revoke and delete keys, deactivate people and export the audit log and usage at any time in the portal.</p>
</main></body></html>`;

export function privacyRoutes(app: App): void {
  app.get('/privacy', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', PRIVACY_CSP).send(PRIVACY_HTML),
  );
}
