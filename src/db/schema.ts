import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ActionType, KeyEnvironment, KeyStatus, Outcome, Role, Severity, SubscriptionStatus, UserStatus } from '../domain/vocabulary.js';

export type { KeyEnvironment, KeyStatus, Role, SubscriptionStatus } from '../domain/vocabulary.js';

/**
 * Row types of the database. Column names are snake_case in SQL and camelCase here
 * (CamelCasePlugin). Timestamps are ISO-8601 UTC strings on both dialects, so rows read
 * the same from SQLite and PostgreSQL and sort as text.
 */
export interface Database {
  organisations: OrganisationTable;
  subscriptions: SubscriptionTable;
  users: UserTable;
  sessions: SessionTable;
  invitations: InvitationTable;
  knownDevices: KnownDeviceTable;
  apiKeys: ApiKeyTable;
  keyUsageDaily: KeyUsageDailyTable;
  keyFlows: KeyFlowTable;
  auditLog: AuditLogTable;
  nodeHeartbeats: NodeHeartbeatTable;
  domainEvents: DomainEventTable;
}

export interface OrganisationTable {
  id: string;
  name: string;
  createdAt: string;
}

export interface SubscriptionTable {
  orgId: string;
  plan: string;
  status: SubscriptionStatus;
  periodStart: string;
  periodEnd: string | null;
  /** JSON object of per-organisation limit overrides (Enterprise contracts). */
  overrides: string;
  updatedAt: string;
}

export interface UserTable {
  id: string;
  orgId: string;
  /** Lower-cased; unique across the service. */
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
  status: UserStatus;
  createdAt: string;
  deactivatedAt: string | null;
}

export interface SessionTable {
  id: string;
  /** SHA-256 of the cookie's token; the token itself is never stored. */
  tokenHash: string;
  userId: string;
  orgId: string;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string;
  ip: string | null;
  userAgent: string | null;
}

export interface InvitationTable {
  id: string;
  orgId: string;
  email: string;
  role: Role;
  tokenHash: string;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
  revokedAt: string | null;
  /** `revoked` by an Admin, `inviter_deactivated`, `resent` (a new link replaced it). */
  revokedReason: string | null;
}

/** A browser a person signed in from: only the SHA-256 of its device cookie is stored. */
export interface KnownDeviceTable {
  tokenHash: string;
  userId: string;
  createdAt: string;
  lastUsedAt: string;
}

export interface ApiKeyTable {
  id: string;
  orgId: string;
  name: string;
  /** Hex SHA-256 of the whole key; the only form of the secret the service keeps. */
  hash: string;
  start: string;
  last4: string;
  status: KeyStatus;
  environment: KeyEnvironment | null;
  team: string | null;
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  suspendedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  deletedAt: string | null;
  replacesKeyId: string | null;
  replacedByKeyId: string | null;
  graceEndsAt: string | null;
  /** When the "key expired" audit event was written, so it is written once. */
  expiryRecordedAt: string | null;
}

export interface KeyUsageDailyTable {
  keyId: string;
  orgId: string;
  day: string;
  operation: string;
  actionType: ActionType;
  outcome: Outcome;
  count: number;
}

export interface KeyFlowTable {
  /** `flw_` + a digest of (key, flow identity), so buffered writes can upsert without reading. */
  id: string;
  keyId: string;
  orgId: string;
  workflowName: string | null;
  workflowId: string | null;
  lastRunId: string | null;
  location: string | null;
  clientEnvironmentId: string | null;
  userAgent: string | null;
  label: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  calls: number;
  lastOutcome: string;
}

export interface AuditLogTable {
  id: string;
  orgId: string;
  timestamp: string;
  eventType: string;
  userId: string | null;
  userEmail: string | null;
  resourceType: string;
  resourceId: string | null;
  action: string;
  /** JSON object; never holds a secret. */
  details: string;
  ip: string | null;
  severity: Severity;
}

/** Every change other nodes must notice (cache invalidation), in commit order. */
/** The event log (src/events/event-log.ts owns it); `position` orders events by insertion, not commit. */
export interface DomainEventTable {
  position: Generated<number>;
  id: string;
  type: string;
  organisationId: string;
  /** The event's `data`, as JSON. */
  data: string;
  occurredAt: string;
}

/** One row per node: `/readyz` rewrites it to prove the database takes writes (db/heartbeat.ts owns it). */
export interface NodeHeartbeatTable {
  nodeId: string;
  beatAt: string;
}

export type ApiKeyRow = Selectable<ApiKeyTable>;
export type NewApiKeyRow = Insertable<ApiKeyTable>;
export type ApiKeyUpdate = Updateable<ApiKeyTable>;
export type UserRow = Selectable<UserTable>;
export type SubscriptionRow = Selectable<SubscriptionTable>;
export type AuditRow = Selectable<AuditLogTable>;
