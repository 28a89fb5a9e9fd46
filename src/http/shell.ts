/**
 * The HTTP shell every request passes through, whatever it asks for: the Fastify server with its
 * logger, request ids and framework-error answers, then the plugins and hooks (cookies, the
 * OpenAPI document, security headers, the input guard, problem+json errors, the session guard)
 * and `/healthz`. `buildApp` adds the services and routes; the benchmarks' framework floor
 * (`bench/floor-server.ts`) adds one fixed answer, so both measure the same shell.
 */
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';
import type { RepeatedFailures } from '../lib/repeated-failures.js';
import { RouteMethods } from './allowed-methods.js';
import { clientErrorHandler, frameworkErrors, installInputGuard } from './input-guard.js';
import { installValidation } from './validation.js';
import { installOperationIds } from './operation-ids.js';
import { installErrorHandling } from './problem.js';
import { installSecurityHeaders } from './security-headers.js';
import { type CookieSettings, installSessionGuard, type SessionLookup } from './session-guard.js';
import type { App } from './types.js';
import { loggableUrl } from './url-redaction.js';

function loggerOptions(config: Config, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    ...(stream ? { stream } : {}),
    redact: {
      paths: [
        'req.headers["x-api-key"]',
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'req.body.password',
        'req.body.token',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { method: string; url: string; ip?: string; id?: string }) => ({
        method: req.method,
        url: loggableUrl(req.url),
        ip: req.ip,
      }),
    },
  };
}

/** The server: logger (secrets redacted), request ids `req_<node><n>`, Node's and the router's refusals as problems. */
export function createServer(config: Config, options: { nodePrefix: string; logStream?: NodeJS.WritableStream }): App {
  let requestCounter = 0;
  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    trustProxy: config.trustProxy,
    genReqId: () => `req_${options.nodePrefix}${(++requestCounter).toString(36)}`,
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrors(config.publicUrl),
    clientErrorHandler: clientErrorHandler(config.publicUrl),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
  installValidation(app);
  return app;
}

/** The plugins and hooks of every request, and `/healthz`. Routes come after. */
export async function installShell(
  app: App,
  deps: { publicUrl: string; resolveSession: SessionLookup; cookie: CookieSettings; failures?: RepeatedFailures },
): Promise<void> {
  // First, so that every route (the plugins' too) is known to the 405 of a wrong method.
  const routes = new RouteMethods(app);
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Build a Doc portal API',
        version: '1.0.0',
        description: 'Manage the API keys, team, usage and audit log of a Build a Doc organisation. The connector-facing API is under /v1.',
      },
      servers: [{ url: deps.publicUrl }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'bdoc_session' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
  });
  installOperationIds(app);
  // The documentation page is public, like the OpenAPI document it shows.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/docs')) route.config = { ...route.config, public: true };
  });
  // staticCSP: the docs page gets a Content-Security-Policy with hashes of its own inline parts.
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs', uiConfig: { docExpansion: 'list' }, staticCSP: true });
  installSecurityHeaders(app, deps.publicUrl);
  installInputGuard(app, deps.publicUrl);
  installErrorHandling(app, deps.publicUrl, routes, deps.failures);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  installSessionGuard(app, deps);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
}
