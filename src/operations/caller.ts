import type { KeyStatus, SubscriptionStatus } from '../domain/vocabulary.js';
import type { Plan } from '../plans/catalogue.js';

/** What the gateway needs to know of a key, held in memory. */
export interface CachedKey {
  id: string;
  orgId: string;
  name: string;
  status: KeyStatus;
  deleted: boolean;
  revokedAt: string | null;
  expiresAt: string | null;
  expiresAtMs: number | null;
  graceEndsAt: string | null;
  graceEndsAtMs: number | null;
  /** Rotated (it has a successor): every call's time is written at the next flush (the rotation's "no call for 15 minutes"). */
  replaced: boolean;
}

export interface CachedOrg {
  id: string;
  name: string;
  status: SubscriptionStatus;
  plan: Plan;
  periodStart: string;
  periodEnd: string | null;
}
