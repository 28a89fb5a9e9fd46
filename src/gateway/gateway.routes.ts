import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/catalogue.js';
import type { Clock } from '../lib/clock.js';
import { problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import { monthlyLimit, type QuotaActionType } from '../limits/quota-tracker.js';
import type { FlowInfo, Outcome, UsageBuffer } from '../usage/usage-buffer.js';
import type { CachedKey, CachedOrg, KeyCache } from './key-cache.js';
import type { DocumentLimits } from '../config.js';
import { type GatewayOperation, type JobRunner, JsonAnswer, type OperationContext, type PdfConverter, type RequestBody } from '../operations/operation.js';
import { planChecks, type PlanCheckDeps } from './plan-checks.js';
import { verifyApiKey, type Verification } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The key was known but refused at checks 5–11: counted as `rejected`. */
    gatewayRefused: boolean;
    /** When the gateway received the request (epoch ms), for every check and the usage record. */
    gatewayAt: number;
    /** The action failed after its work had started (AppError.billed): its quota place is used. */
    gatewayBilled: boolean;
  }
}

export interface GatewayDeps extends PlanCheckDeps {
  cache: KeyCache;
  clock: Clock;
  usage: UsageBuffer;
  operations: readonly GatewayOperation[];
  /** Document and compute work: a worker pool with the caps below. */
  jobs: JobRunner;
  limits: DocumentLimits;
  converter: PdfConverter;
  /** A revoked key called (told synchronously; the listener announces it later, off this path). */
  onRevokedKeyUsed?: (key: CachedKey) => void;
  /**
   * Further routes behind the key checks (the connector's trigger subscriptions). A route adds the
   * plan's checks with `planChecked(operationId)` as its onRequest hook: they are never billed.
   */
  keyedRoutes?: (gateway: App, planChecked: (operationId: string) => Check) => void;
}

const HEADER_MAX = 200;
const GATEWAY_PREFIX = '/v1';
/** The plan feature of the keyed routes: every plan that can check its connection can subscribe to triggers. */
const KEYED_ROUTES_FEATURE = 'connection';

function header(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text ? text.slice(0, HEADER_MAX) : null;
}

/**
 * The calling flow or app, from the headers Power Automate, Logic Apps and Power Apps send.
 * Only a call with `x-ms-workflow-name` makes a flow; the usage buffer decides (`flowKey`).
 */
export function flowInfo(request: FastifyRequest): FlowInfo | null {
  const headers = request.headers;
  // None of the headers a flow is known by (`flowIdentity`): nothing to record, nothing to read.
  if (
    headers['x-ms-workflow-id'] === undefined &&
    headers['x-ms-workflow-name'] === undefined &&
    headers['x-ms-client-environment-id'] === undefined &&
    headers['user-agent'] === undefined
  )
    return null;
  return {
    workflowName: header(request, 'x-ms-workflow-name'),
    workflowId: header(request, 'x-ms-workflow-id'),
    runId: header(request, 'x-ms-workflow-run-id'),
    location: header(request, 'x-ms-execution-location'),
    clientEnvironmentId: header(request, 'x-ms-client-environment-id'),
    userAgent: header(request, 'user-agent'),
  };
}

function outcomeOf(request: FastifyRequest, reply: FastifyReply): Outcome {
  if (request.gatewayRefused) return 'rejected';
  if (reply.statusCode >= 500) return 'server_error';
  if (reply.statusCode >= 400) return 'client_error';
  return 'success';
}

/**
 * The connector-facing API under `/v1`, one route per operation. A request passes the key
 * checks (CONTRACT §4) before its body is even read, then the handler; its usage is counted
 * in memory once the answer is sent.
 */
export function gatewayRoutes(app: App, deps: GatewayDeps): void {
  // Decorated on the root, not the /v1 context: one request shape for every route keeps
  // Fastify's request handling monomorphic (a context-local decoration adds a Request subclass).
  app.decorateRequest('gatewayKey', undefined);
  app.decorateRequest('gatewayOrg', undefined);
  app.decorateRequest('gatewayRefused', false);
  app.decorateRequest('gatewayAt', 0);
  app.decorateRequest('gatewayBilled', false);
  app.decorateRequest('quotaReservation', undefined);
  // On the root context with the prefix in the URL: an encapsulated context would give /v1 its
  // own Request and Reply classes, and every hook and Fastify internal two shapes to handle.
  for (const operation of deps.operations) registerOperation(app, operation, deps);
  if (deps.keyedRoutes) {
    const keyedRoutes = deps.keyedRoutes;
    app.register(
      async (keyed: App) => {
        keyed.addHook('onRequest', keyChecks(deps));
        // Route hooks run after the context's: a route's plan checks see the verified key and organisation.
        keyedRoutes(keyed, (operationId) => planChecks({ operationId, feature: KEYED_ROUTES_FEATURE, actionType: 'none' }, deps));
      },
      { prefix: GATEWAY_PREFIX },
    );
  }
}

type Done = (error?: Error) => void;
type Check = (request: FastifyRequest, reply: FastifyReply, done: Done) => void;

/**
 * The hook of checks 1–8 (the key and its organisation), then `next` (an operation's plan checks)
 * when the key passed. Callback style: a cached key is checked without a promise, a closure or a database read.
 */
function keyChecks(deps: GatewayDeps, next?: Check): Check {
  const settle = (request: FastifyRequest, reply: FastifyReply, result: Verification, done: Done): void => {
    request.gatewayKey = result.key;
    request.gatewayOrg = result.org;
    if (result.ok) {
      if (next) next(request, reply, done);
      else done();
      return;
    }
    request.gatewayRefused = true;
    if (result.key && result.error.code === 'api_key_revoked') deps.onRevokedKeyUsed?.(result.key);
    done(result.error);
  };
  return (request, reply, done) => {
    const nowMs = deps.clock.nowMs();
    request.gatewayAt = nowMs;
    const result = verifyApiKey(request.headers['x-api-key'], deps.cache, nowMs);
    if (result instanceof Promise) result.then((verified) => settle(request, reply, verified, done), done);
    else settle(request, reply, result, done);
  };
}

/** What a handler knows of its caller (`OperationContext`), made once per request without a closure. */
class Caller implements OperationContext {
  readonly key: CachedKey;
  readonly org: CachedOrg;
  readonly #atMs: number;
  readonly #deps: GatewayDeps;

  constructor(key: CachedKey, org: CachedOrg, atMs: number, deps: GatewayDeps) {
    this.key = key;
    this.org = org;
    this.#atMs = atMs;
    this.#deps = deps;
  }

  quotaLeft(type: QuotaActionType): number | null | Promise<number | null> {
    return this.#deps.quotas.remaining(this.org, type, monthlyLimit(this.org.plan, type), this.#atMs);
  }

  get jobs(): JobRunner {
    return this.#deps.jobs;
  }

  get limits(): DocumentLimits {
    return this.#deps.limits;
  }

  get converter(): PdfConverter {
    return this.#deps.converter;
  }
}

/** The answers a gateway operation documents: its own on 200, a problem for each refusal. */
export function gatewayResponses(operation: Pick<GatewayOperation, 'response'>) {
  return { 200: operation.response, ...problems(400, 401, 403, 413, 415, 429, 500, 503) };
}

function sendJsonAnswer(reply: FastifyReply, { bytes }: JsonAnswer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function registerOperation(app: App, operation: GatewayOperation, deps: GatewayDeps): void {
  app.route({
    method: operation.method,
    url: `${GATEWAY_PREFIX}${operation.path}`,
    ...(operation.bodyLimit ? { bodyLimit: operation.bodyLimit } : {}),
    // A large body goes unparsed to the action's job, which parses and validates it in its worker.
    ...(operation.body ? { config: { bodyForJob: operation.operationId } } : {}),
    schema: {
      tags: ['Connector'],
      operationId: operation.operationId,
      summary: operation.summary,
      description: operation.description,
      ...(operation.body ? { body: operation.body } : {}),
      response: gatewayResponses(operation),
    },
    // Checks 1–8, then 9–11 (the plan's), in one hook.
    onRequest: keyChecks(deps, planChecks(operation, deps)),
    // A billed request that ends before its answer gives its quota place back; one whose work
    // was stopped part-way (time, memory) keeps it used, so it cannot be replayed for free.
    ...(operation.actionType === 'none'
      ? {}
      : {
          onRequestAbort: (request: FastifyRequest, done: () => void) => {
            request.quotaReservation?.release();
            done();
          },
          onError: (request: FastifyRequest, _reply: FastifyReply, error: Error, done: () => void) => {
            if (error instanceof AppError && error.billed) request.gatewayBilled = true;
            done();
          },
        }),
    // Counted after the answer is sent, whatever it was, against the key when one was known.
    onResponse: (request, reply, done) => {
      const reservation = request.quotaReservation;
      if (reservation) {
        if (reply.statusCode < 300 || request.gatewayBilled) reservation.commit();
        else reservation.release();
      }
      const key = request.gatewayKey;
      if (key) {
        deps.usage.record({
          keyId: key.id,
          orgId: key.orgId,
          at: request.gatewayAt,
          operation: operation.operationId,
          actionType: operation.actionType,
          outcome: outcomeOf(request, reply),
          accepted: !request.gatewayRefused,
          replacedKey: key.replaced,
          flow: flowInfo(request),
        });
      }
      done();
    },
    // Not async: an operation that answers synchronously (CheckConnection from memory) is sent
    // without a promise; one that returns a promise is awaited by Fastify, and a throw is its error.
    // An answer a job serialized (JsonAnswer) is sent as the bytes it is.
    handler: (request, reply) => {
      const answer = operation.handle(request.body as RequestBody<unknown>, new Caller(request.gatewayKey!, request.gatewayOrg!, request.gatewayAt, deps));
      return answer instanceof Promise ? answer.then((value) => (value instanceof JsonAnswer ? sendJsonAnswer(reply, value) : value)) : answer;
    },
  });
}
