/** The JSON shapes of the portal API (see GET /api/openapi.json). */
export type Role = 'admin' | 'member' | 'viewer';
export type KeyStatus = 'active' | 'suspended' | 'revoked' | 'expired';
export type Environment = 'production' | 'test' | 'development' | 'other';

export interface UserRef {
  id: string;
  email: string;
  name: string;
  deactivated: boolean;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: 'active' | 'deactivated';
  createdAt: string;
  deactivatedAt: string | null;
}

export interface Me {
  user: User;
  organisation: { id: string; name: string; plan: string; subscriptionStatus: string };
}

export interface ApiKey {
  id: string;
  name: string;
  start: string;
  last4: string;
  status: KeyStatus;
  environment: Environment | null;
  team: string | null;
  createdAt: string;
  createdBy: UserRef | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  suspendedAt: string | null;
  revokedAt: string | null;
  revokedBy: UserRef | null;
  replacesKeyId: string | null;
  replacedByKeyId: string | null;
  graceEndsAt: string | null;
  flowCount: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface IssuedKey {
  key: ApiKey;
  secret: string;
  warnings: string[];
}

export interface Flow {
  id: string;
  label: string | null;
  workflowName: string | null;
  workflowId: string | null;
  lastRunId: string | null;
  location: string | null;
  clientEnvironmentId: string | null;
  userAgent: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  calls: number;
  lastOutcome: string;
  callingDeadKey: boolean;
}

export type Outcome = 'success' | 'client_error' | 'server_error' | 'rejected';

export interface KeyUsage {
  keyId: string;
  from: string;
  to: string;
  items: Array<{ day: string; operation: string; actionType: string; outcome: Outcome; count: number }>;
  totals: Record<Outcome, number>;
}

export interface Quota {
  actionType: 'document' | 'utility';
  used: number;
  limit: number | null;
  remaining: number | null;
  percent: number | null;
}

export interface OrgUsage {
  periodStart: string;
  periodEnd: string;
  quotas: Quota[];
  operations: Array<{ operation: string; actionType: string; success: number; clientError: number; serverError: number; rejected: number }>;
  daily: Array<{ day: string; document: number; utility: number; none: number; failed: number }>;
}

export interface Member extends User {
  activeKeyCount: number;
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
}

export interface AuditEntry {
  id: string;
  timestamp: string;
  eventType: string;
  userId: string | null;
  userEmail: string | null;
  resourceType: string;
  resourceId: string | null;
  action: string;
  details: Record<string, unknown>;
  ip: string | null;
  severity: 'info' | 'warning' | 'error';
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
