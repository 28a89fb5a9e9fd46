import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../lib/clock.js';
import { problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { FlowInfo, Outcome, UsageBuffer } from '../usage/usage-buffer.js';
import type { KeyCache } from './key-cache.js';
import { verifyApiKey } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The key was known but refused at checks 5–11: counted as `rejected`. */
    gatewayRefused: boolean;
  }
}

export interface GatewayDeps {
  cache: KeyCache;
  clock: Clock;
  usage: UsageBuffer;
}

const HEADER_MAX = 200;

function header(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text ? text.slice(0, HEADER_MAX) : null;
}

/** The calling flow or app, from the headers Power Automate, Logic Apps and Power Apps send. */
export function flowInfo(request: FastifyRequest): FlowInfo | null {
  const flow: FlowInfo = {
    workflowName: header(request, 'x-ms-workflow-name'),
    workflowId: header(request, 'x-ms-workflow-id'),
    runId: header(request, 'x-ms-workflow-run-id'),
    location: header(request, 'x-ms-execution-location'),
    clientEnvironmentId: header(request, 'x-ms-client-environment-id'),
    userAgent: header(request, 'user-agent'),
  };
  return Object.values(flow).some((v) => v !== null) ? flow : null;
}

function outcomeOf(request: FastifyRequest, reply: FastifyReply): Outcome {
  if (request.gatewayRefused) return 'rejected';
  if (reply.statusCode >= 500) return 'server_error';
  if (reply.statusCode >= 400) return 'client_error';
  return 'success';
}

/**
 * The connector-facing API under `/v1`. Every request passes the key check (CONTRACT §4,
 * checks 1–8) before its body is even read, then the handler; usage is counted after the
 * answer is sent, in memory.
 */
export function gatewayRoutes(app: App, deps: GatewayDeps): void {
  app.register(
    async (gateway: App) => {
      gateway.decorateRequest('gatewayKey', undefined);
      gateway.decorateRequest('gatewayOrg', undefined);
      gateway.decorateRequest('gatewayRefused', false);

      gateway.addHook('onRequest', async (request) => {
        const result = await verifyApiKey(request.headers['x-api-key'], deps.cache, deps.clock);
        request.gatewayKey = result.key;
        request.gatewayOrg = result.org;
        if (!result.ok) {
          request.gatewayRefused = true;
          throw result.error;
        }
      });

      gateway.addHook('onResponse', (request, reply, done) => {
        const key = request.gatewayKey;
        const route = request.routeOptions.config?.gateway;
        if (key && route) {
          const outcome = outcomeOf(request, reply);
          deps.usage.record({
            keyId: key.id,
            orgId: key.orgId,
            at: deps.clock.now(),
            operation: route.operation,
            actionType: route.actionType,
            outcome,
            accepted: !request.gatewayRefused,
            flow: flowInfo(request),
          });
        }
        done();
      });

      gateway.get('/connection', {
        config: { gateway: { operation: 'CheckConnection', actionType: 'none', feature: 'connection' } },
        schema: {
          tags: ['Connector'],
          operationId: 'CheckConnection',
          summary: 'Check the connection',
          description: 'Checks that the API key of the connection works and tells which organisation and plan it belongs to.',
          response: {
            200: Type.Object({
              keyName: Type.String({ description: 'The name of the API key' }),
              keyId: Type.String({ description: 'The id of the API key' }),
              organisation: Type.String({ description: 'The organisation the key belongs to' }),
              organisationId: Type.String({ description: 'The id of the organisation' }),
              plan: Type.String({ description: 'The subscription plan' }),
              subscriptionStatus: Type.String({ description: 'The subscription status' }),
            }),
            ...problems(401, 403, 429, 500),
          },
        },
      }, async (request) => {
        const key = request.gatewayKey!;
        const org = request.gatewayOrg!;
        return { keyName: key.name, keyId: key.id, organisation: org.name, organisationId: org.id, plan: org.plan.id, subscriptionStatus: org.status };
      });
    },
    { prefix: '/v1' },
  );
}
