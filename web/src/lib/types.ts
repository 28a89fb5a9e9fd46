/** The JSON shapes of the portal API (see GET /api/openapi.json). */
import type { KeyView, Outcome, UserView } from '../../../src/api/views';

// Shared with the server: one definition of each shape the API answers with.
export type {
  AuditEntryView as AuditEntry,
  FlowView as Flow,
  InvitationView as Invitation,
  InvitationPreview,
  KeyEnvironment as Environment,
  KeyView as ApiKey,
  MemberView as Member,
  OrgUsageView as OrgUsage,
  Outcome,
  QuotaView as Quota,
  Role,
  UserRef,
  UserView as User,
} from '../../../src/api/views';

export interface Me {
  user: UserView;
  organisation: { id: string; name: string; plan: string; subscriptionStatus: string };
}

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface IssuedKey {
  key: KeyView;
  secret: string;
  warnings: string[];
}

export interface KeyUsage {
  keyId: string;
  from: string;
  to: string;
  items: Array<{ day: string; operation: string; actionType: string; outcome: Outcome; count: number }>;
  totals: Record<Outcome, number>;
}

export interface Limits {
  documentActionsPerMonth: number | null;
  utilityActionsPerMonth: number | null;
  requestsPerMinute: number | null;
  maxKeys: number | null;
}

export interface Subscription {
  organisation: { id: string; name: string };
  plan: string;
  planName: string;
  status: string;
  periodStart: string;
  periodEnd: string | null;
  limits: Limits;
  overrides: Record<string, unknown>;
  features: string[];
  selfService?: boolean;
}

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId?: string;
  errors?: Array<{ path: string; message: string }>;
  [extra: string]: unknown;
}
