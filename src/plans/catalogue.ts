/**
 * The plan catalogue of CONTRACT §6 as data. An organisation's effective limits are its
 * plan's, overridden field by field by its subscription's `overrides` (Enterprise contracts).
 * `null` means unlimited.
 */
export interface PlanLimits {
  documentActionsPerMonth: number | null;
  utilityActionsPerMonth: number | null;
  requestsPerMinute: number | null;
  maxKeys: number | null;
}

/** The action types a plan counts against a monthly quota. */
export type QuotaActionType = 'document' | 'utility';

/** The plan's monthly limit for one action type (`null`: unlimited). */
export function monthlyLimit(plan: PlanLimits, actionType: QuotaActionType): number | null {
  return actionType === 'document' ? plan.documentActionsPerMonth : plan.utilityActionsPerMonth;
}

export interface Plan extends PlanLimits {
  id: string;
  name: string;
  /** Gateway features (operation groups) the plan may call. */
  features: string[];
}

const ALL_FEATURES = ['connection', 'pdf', 'word', 'convert', 'compute'];

export const DEFAULT_PLANS: readonly Plan[] = [
  { id: 'free', name: 'Free', documentActionsPerMonth: 50, utilityActionsPerMonth: 50, requestsPerMinute: 60, maxKeys: 2, features: ALL_FEATURES },
  { id: 'standard', name: 'Standard', documentActionsPerMonth: 500, utilityActionsPerMonth: 5000, requestsPerMinute: 300, maxKeys: 10, features: ALL_FEATURES },
  { id: 'midsize', name: 'Midsize', documentActionsPerMonth: 1200, utilityActionsPerMonth: 10000, requestsPerMinute: 600, maxKeys: 25, features: ALL_FEATURES },
  { id: 'large', name: 'Large', documentActionsPerMonth: 5000, utilityActionsPerMonth: 100000, requestsPerMinute: 1200, maxKeys: 100, features: ALL_FEATURES },
  // Enterprise limits are set per organisation; until they are, it gets Large's and unlimited keys.
  {
    id: 'enterprise',
    name: 'Enterprise',
    documentActionsPerMonth: 5000,
    utilityActionsPerMonth: 100000,
    requestsPerMinute: 1200,
    maxKeys: null,
    features: ALL_FEATURES,
  },
];

export type LimitOverrides = Partial<PlanLimits>;

export class PlanCatalogue {
  readonly #plans: Map<string, Plan>;
  constructor(plans: readonly Plan[] = DEFAULT_PLANS) {
    this.#plans = new Map(plans.map((p) => [p.id, p]));
  }
  ids(): string[] {
    return [...this.#plans.keys()];
  }
  get(id: string): Plan | undefined {
    return this.#plans.get(id);
  }
  /** The plan's limits with the organisation's overrides applied. */
  limits(planId: string, overrides: LimitOverrides): Plan {
    const plan = this.#plans.get(planId) ?? this.#plans.get('free')!;
    return { ...plan, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  }
  /** A subscription's effective plan: its plan with its stored overrides applied. */
  ofSubscription(sub: { plan: string; overrides: string }): Plan {
    return this.limits(sub.plan, parseOverrides(sub.overrides));
  }
}

export function parseOverrides(json: string): LimitOverrides {
  try {
    const value = JSON.parse(json) as unknown;
    return value && typeof value === 'object' ? (value as LimitOverrides) : {};
  } catch {
    return {};
  }
}
