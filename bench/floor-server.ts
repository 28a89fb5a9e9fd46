/**
 * The framework floor of the gateway benchmarks: the service's own HTTP shell (`src/http/shell.ts`:
 * the same Fastify server, plugins, hooks and `/healthz` as every node) with one route,
 * `GET /v1/connection`, that answers what CheckConnection answers (the same response schema, the
 * same RateLimit headers, a body of the same size) without checking anything: no key, no plan,
 * no rate limit, no quota, no usage. Its gateway/no-op ratio is the best any gateway built on this
 * shell can reach on the machine; the distance from it to the real gateway's is what the checks cost.
 *
 * Run by the benchmarks as `node --import tsx bench/floor-server.ts` with PORT and PUBLIC_URL.
 */
import { loadConfig } from '../src/config.js';
import { checkConnection } from '../src/gateway/connection.operation.js';
import { gatewayResponses } from '../src/gateway/gateway.routes.js';
import { createServer, installShell } from '../src/http/shell.js';
import { disablePretenuring } from '../src/lib/pretenuring.js';

// The same V8 settings as a node (`serve`), so the floor measures the same runtime.
disablePretenuring();
const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
const app = createServer(config, { nodePrefix: 'floor0' });
await installShell(app, { publicUrl: config.publicUrl, resolveSession: async () => undefined, cookie: { secure: false } });

const LIMIT = 1_000_000_000;
let served = 0;
app.get('/v1/connection', { schema: { hide: true, response: gatewayResponses(checkConnection) } }, (_request, reply) => {
  served++;
  reply.header('ratelimit-limit', LIMIT);
  reply.header('ratelimit-remaining', LIMIT - 1);
  reply.header('ratelimit-reset', 37);
  // A fresh answer per request, as the gateway builds one; the key name differs per request as the load's keys do.
  return {
    keyName: `bench-load-${served % 200}`,
    keyId: 'key_00VcqdoAqzNXNYa6O5UzQ',
    organisation: 'Bench Cluster',
    organisationId: 'org_00Vcqdo8NJZ0utC6G09P3',
    plan: 'enterprise',
    subscriptionStatus: 'active',
    documentActionsLeft: LIMIT - served,
    utilityActionsLeft: LIMIT,
  };
});

await app.listen({ port: config.port, host: config.host });
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
