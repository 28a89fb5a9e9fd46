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
  flows: FlowTable;
  flowKeys: FlowKeyTable;
  auditLog: AuditLogTable;
  nodeHeartbeats: NodeHeartbeatTable;
  domainEvents: DomainEventTable;
  mailOutbox: MailOutboxTable;
  mailPreferences: MailPreferenceTable;
  eventMarks: EventMarkTable;
  webhookEndpoints: WebhookEndpointTable;
  webhookDeliveries: WebhookDeliveryTable;
}

export interface OrganisationTable {
  id: string;
  name: string;
  createdAt: string;
  /** What a leak report does to a live key: `revoke` it at once, or only `notify`. */
  leakResponse: Generated<LeakResponse>;
}

export type LeakResponse = 'revoke' | 'notify';

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
  /** SHA-256 of the link's token in the invitation mail, made when the mail is sent (the link itself is never stored). */
  mailTokenHash?: string | null;
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
  /** When a secret scanner reported the key public, and where it was found. */
  exposedAt: Generated<string | null>;
  exposedUrl: Generated<string | null>;
  /** 1: the rotation that made this key a predecessor revokes it once its flows have moved (or at `graceEndsAt`). */
  revokeWhenDrained: Generated<number>;
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

/**
 * A flow of the organisation's inventory (CONTRACT §10): one per organisation, environment and
 * `x-ms-workflow-name`, across every key it used. `id` is `flw_` + a digest of those three, so
 * buffered writes from every node upsert the same row without reading first.
 */
export interface FlowTable {
  id: string;
  orgId: string;
  workflowName: string;
  /** The Power Platform environment the flow runs in, when its calls said. */
  environmentId: string | null;
  workflowId: string | null;
  label: string | null;
  location: string | null;
  userAgent: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  calls: number;
  lastOutcome: string;
  lastRunId: string | null;
}

/** A key a flow has called: when first and last, how often, and how its last call through it ended. */
export interface FlowKeyTable {
  flowId: string;
  keyId: string;
  orgId: string;
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

/** A mail waiting to be sent, sent, or given up (mail/outbox.repository.ts owns it); bodies are cleared once sent. */
export interface MailOutboxTable {
  id: string;
  orgId: string;
  /** The cause and the recipient: a second write of the same mail finds it already there. */
  dedupeKey: string;
  kind: string;
  /** What the mail is about (an invitation id): its link is made only when the mail is sent. */
  ref: string | null;
  recipient: string;
  subject: string;
  textBody: string | null;
  htmlBody: string | null;
  createdAt: string;
  attempts: Generated<number>;
  nextAttemptAt: string;
  /** A node sending it holds it until then; past it, another node may try. */
  lockedUntil: string | null;
  sentAt: string | null;
  failedAt: string | null;
  lastError: string | null;
}

/** What mail a person chose to receive (mail/preferences.repository.ts owns it); no row: the defaults. */
export interface MailPreferenceTable {
  userId: string;
  /** 1: expiry reminders for their keys (and, for Admins, the organisation's); 0: none. */
  expiryReminders: number;
  updatedAt: string;
}

/** An announcement made once (see migration 0006). */
export interface EventMarkTable {
  kind: string;
  subject: string;
  mark: string;
  orgId: string;
  createdAt: string;
}

/** `kind`: `webhook` (made in the portal) or `trigger` (a Power Automate subscription made with `keyId`). */
export interface WebhookEndpointTable {
  id: string;
  orgId: string;
  kind: 'webhook' | 'trigger';
  url: string;
  description: string | null;
  /** JSON array of event types. */
  eventTypes: string;
  /** AES-256-GCM of the signing secret, never the secret itself. */
  secretEnc: string;
  previousSecretEnc: string | null;
  previousSecretUntil: string | null;
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  keyId: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDeliveryTable {
  id: string;
  endpointId: string;
  orgId: string;
  eventId: string;
  eventType: string;
  payload: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: Generated<number>;
  /** JSON array of `{ at, statusCode, error, durationMs }`. */
  attemptLog: string;
  nextAttemptAt: string | null;
  claimedUntil: string | null;
  lastStatusCode: number | null;
  createdAt: string;
  deliveredAt: string | null;
}

export type ApiKeyRow = Selectable<ApiKeyTable>;
export type NewApiKeyRow = Insertable<ApiKeyTable>;
export type ApiKeyUpdate = Updateable<ApiKeyTable>;
export type UserRow = Selectable<UserTable>;
export type SubscriptionRow = Selectable<SubscriptionTable>;
export type AuditRow = Selectable<AuditLogTable>;
