import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/catalogue.js';
import { monthlyLimit, type QuotaDecision, type Quotas, type Reservation } from '../limits/quota-tracker.js';
import type { RateDecision, RateLimiter } from '../limits/rate-limiter.js';
import type { PlanCatalogue } from '../plans/catalogue.js';
import type { CachedOrg } from './key-cache.js';
import type { GatewayOperation } from '../operations/operation.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The quota place this request holds until its outcome is known. */
    quotaReservation: Reservation | undefined;
  }
}

export interface PlanCheckDeps {
  plans: PlanCatalogue;
  rateLimiter: RateLimiter;
  quotas: Quotas;
}

type Done = (error?: Error) => void;

const ACTION_NAMES = { document: 'document actions', utility: 'utility actions' } as const;

function setRateHeaders(reply: FastifyReply, rate: RateDecision): void {
  reply.header('ratelimit-limit', rate.limit);
  reply.header('ratelimit-remaining', rate.remaining);
  reply.header('ratelimit-reset', rate.resetSeconds);
}

/**
 * Checks 9–11 of CONTRACT §4 for one operation, after the key checks: the plan includes the
 * feature, the organisation is within its rate, and (for document and utility actions) a
 * place in this month's quota is reserved. A check that fails answers `done` with the domain error.
 */
export function planChecks(operation: Pick<GatewayOperation, 'operationId' | 'feature' | 'actionType'>, deps: PlanCheckDeps) {
  const quotaType = operation.actionType === 'none' ? null : operation.actionType;
  const includedIn = deps.plans
    .ids()
    .map((id) => deps.plans.get(id)!)
    .filter((plan) => plan.features.includes(operation.feature));

  function featureRefusal(org: CachedOrg): AppError {
    const cheapest = includedIn[0];
    return new AppError(
      'feature_not_available',
      `Feature not available for your subscription: ${operation.operationId} is not part of the ${org.plan.name} plan${cheapest ? `; it is included in the ${cheapest.name} plan and above` : ''}. An Admin can change the plan in the Build a Doc portal under Subscription.`,
      { extras: { feature: operation.feature, plan: org.plan.id, ...(cheapest ? { availableIn: cheapest.id } : {}) } },
    );
  }

  function quotaRefusal(used: number, limit: number, periodEnd: string): AppError {
    const what = ACTION_NAMES[quotaType!];
    return new AppError(
      'quota_exceeded',
      `Quota exceeded: your organisation has used ${used} of ${limit} ${what} this billing period. The quota resets on ${periodEnd.slice(0, 10)}; an Admin can move to a larger plan in the Build a Doc portal under Subscription.`,
      { extras: { actionType: quotaType, used, limit, resetsAt: periodEnd } },
    );
  }

  function rateRefusal(perMinute: number, rate: RateDecision): AppError {
    return new AppError(
      'rate_limited',
      `Too many requests: your plan allows ${perMinute} requests per minute. Retry after ${rate.retryAfterSeconds} second${rate.retryAfterSeconds === 1 ? '' : 's'}; Power Automate retries automatically when the action's retry policy is on.`,
      {
        headers: { 'retry-after': String(rate.retryAfterSeconds) },
        extras: { limit: perMinute, retryAfter: rate.retryAfterSeconds },
      },
    );
  }

  // Steps made once per operation, taking what they need: a request answered from memory allocates no closure.
  function refuse(request: FastifyRequest, done: Done, error: Error): void {
    request.gatewayRefused = true;
    done(error);
  }

  function settleQuota(request: FastifyRequest, decision: QuotaDecision, done: Done): void {
    if (decision.ok) {
      request.quotaReservation = decision.reservation;
      done();
      return;
    }
    refuse(request, done, quotaRefusal(decision.used, decision.limit, decision.period.end));
  }

  function reserveQuota(request: FastifyRequest, org: CachedOrg, done: Done): void {
    if (!quotaType) {
      done();
      return;
    }
    const decision = deps.quotas.reserve(org, quotaType, monthlyLimit(org.plan, quotaType), request.gatewayAt);
    if (decision instanceof Promise) decision.then((settled) => settleQuota(request, settled, done), done);
    else settleQuota(request, decision, done);
  }

  function afterRate(request: FastifyRequest, reply: FastifyReply, org: CachedOrg, perMinute: number, rate: RateDecision, done: Done): void {
    setRateHeaders(reply, rate);
    if (rate.allowed) reserveQuota(request, org, done);
    else refuse(request, done, rateRefusal(perMinute, rate));
  }

  return (request: FastifyRequest, reply: FastifyReply, done: Done): void => {
    const org = request.gatewayOrg!;
    if (!org.plan.features.includes(operation.feature)) {
      refuse(request, done, featureRefusal(org));
      return;
    }
    const perMinute = org.plan.requestsPerMinute;
    if (perMinute === null) {
      reserveQuota(request, org, done);
      return;
    }
    const rate = deps.rateLimiter.take(org.id, perMinute, request.gatewayAt);
    if (rate instanceof Promise) rate.then((decided) => afterRate(request, reply, org, perMinute, decided, done), done);
    else afterRate(request, reply, org, perMinute, rate, done);
  };
}
