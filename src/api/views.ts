/**
 * The JSON shapes the portal API answers with. This module imports only the shared vocabulary,
 * so the server's services and the browser app (`web/src/lib/types.ts`) share one definition of each.
 */
import type { ActionType, KeyDisplayStatus, KeyEnvironment, Role, Severity, UserStatus } from '../domain/vocabulary.js';

export type { ActionType, KeyDisplayStatus, KeyEnvironment, Outcome, Role, Severity } from '../domain/vocabulary.js';

export interface UserRef {
  id: string;
  email: string;
  name: string;
  /** The person was deactivated; the keys they created keep working and are flagged. */
  deactivated: boolean;
}

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: UserStatus;
  createdAt: string;
  deactivatedAt: string | null;
}

export interface MemberView extends UserView {
  /** Live keys this person created; they keep working after a deactivation. */
  activeKeyCount: number;
}

export interface InvitationView {
  id: string;
  email: string;
  role: Role;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  /** Who sent it (null when the operator did, from the CLI). */
  invitedBy: { id: string; name: string | null } | null;
}

/** What the accept page shows before anyone signs up: who invites whom, to what. */
export interface InvitationPreview {
  organisation: string;
  email: string;
  role: Role;
  inviterName: string | null;
  expiresAt: string;
}

/** An API key as every route shows it (built only by `toKeyView`, so the hash cannot leak). */
export interface KeyView {
  id: string;
  name: string;
  start: string;
  last4: string;
  status: KeyDisplayStatus;
  environment: KeyEnvironment | null;
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

export interface FlowView {
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
  /** The flow called this key after it stopped working: it needs the new key. */
  callingDeadKey: boolean;
}

export interface QuotaView {
  actionType: 'document' | 'utility';
  used: number;
  /** `null`: unlimited. */
  limit: number | null;
  remaining: number | null;
  percent: number | null;
}

export interface OperationUsageView {
  operation: string;
  actionType: ActionType;
  success: number;
  clientError: number;
  serverError: number;
  rejected: number;
}

export interface DailyUsageView {
  day: string;
  /** Successful actions of each type that day. */
  document: number;
  utility: number;
  none: number;
  /** Requests refused or failed that day, of any type. */
  failed: number;
}

export interface OrgUsageView {
  periodStart: string;
  periodEnd: string;
  quotas: QuotaView[];
  operations: OperationUsageView[];
  daily: DailyUsageView[];
}

/** One audit log entry as the API shows it. */
export interface AuditEntryView {
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
  severity: Severity;
}
