import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/catalogue.js';
import { monthlyLimit, type Quotas, type Reservation } from '../limits/quota-tracker.js';
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

const ACTION_NAMES = { document: 'document actions', utility: 'utility actions' } as const;

function setRateHeaders(reply: FastifyReply, rate: RateDecision): void {
  reply.header('ratelimit-limit', rate.limit);
  reply.header('ratelimit-remaining', rate.remaining);
  reply.header('ratelimit-reset', rate.resetSeconds);
}

/**
 * Checks 9–11 of CONTRACT §4 for one operation, after the key checks: the plan includes the
 * feature, the organisation is within its rate, and (for document and utility actions) a
 * place in this month's quota is reserved. A check that fails throws the domain error.
 */
export function planChecks(operation: GatewayOperation, deps: PlanCheckDeps) {
  const quotaType = operation.actionType === 'none' ? null : operation.actionType;
  const includedIn = deps.plans
    .ids()
    .map((id) => deps.plans.get(id)!)
    .filter((plan) => plan.features.includes(operation.feature));

  function featureCheck(org: CachedOrg): void {
    if (org.plan.features.includes(operation.feature)) return;
    const cheapest = includedIn[0];
    throw new AppError(
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

  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    const org = request.gatewayOrg!;
    const refuse = (error: unknown) => {
      request.gatewayRefused = true;
      done(error as Error);
    };
    const reserveQuota = () => {
      if (!quotaType) return done();
      const limit = monthlyLimit(org.plan, quotaType);
      const settle = (decision: Awaited<ReturnType<Quotas['reserve']>>) => {
        if (decision.ok) {
          request.quotaReservation = decision.reservation;
          return done();
        }
        refuse(quotaRefusal(decision.used, decision.limit, decision.period.end));
      };
      const decision = deps.quotas.reserve(org, quotaType, limit, new Date(request.gatewayAt));
      if (decision instanceof Promise) decision.then(settle, done);
      else settle(decision);
    };
    const perMinute = org.plan.requestsPerMinute;
    const afterRate = (rate: RateDecision) => {
      setRateHeaders(reply, rate);
      if (rate.allowed) return reserveQuota();
      refuse(
        new AppError(
          'rate_limited',
          `Too many requests: your plan allows ${perMinute} requests per minute. Retry after ${rate.retryAfterSeconds} second${rate.retryAfterSeconds === 1 ? '' : 's'}; Power Automate retries automatically when the action's retry policy is on.`,
          {
            headers: { 'retry-after': String(rate.retryAfterSeconds) },
            extras: { limit: perMinute, retryAfter: rate.retryAfterSeconds },
          },
        ),
      );
    };
    try {
      featureCheck(org);
    } catch (error) {
      refuse(error);
      return;
    }
    if (perMinute === null) {
      reserveQuota();
      return;
    }
    const rate = deps.rateLimiter.take(org.id, perMinute, request.gatewayAt);
    if (rate instanceof Promise) rate.then(afterRate, done);
    else afterRate(rate);
  };
}
