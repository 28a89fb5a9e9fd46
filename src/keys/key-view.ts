import type { KeyDisplayStatus, KeyView, UserRef } from '../api/views.js';
import type { ApiKeyRow } from '../db/schema.js';

export type { KeyDisplayStatus, KeyView, UserRef } from '../api/views.js';

/** A key row with its creator's and revoker's names joined in. */
export interface KeyRowWithPeople extends ApiKeyRow {
  creatorEmail: string | null;
  creatorName: string | null;
  creatorStatus: string | null;
  revokerEmail: string | null;
  revokerName: string | null;
  revokerStatus: string | null;
  /** How many flows called the key (counted by the flows part; absent: none). */
  flowCount?: number;
}

/** Revoked (or deleted, or past its rotation grace) beats expired beats the stored state. */
export function displayStatus(row: Pick<ApiKeyRow, 'status' | 'revokedAt' | 'deletedAt' | 'expiresAt' | 'graceEndsAt'>, now: Date): KeyDisplayStatus {
  const at = now.toISOString();
  if (row.status === 'revoked' || row.revokedAt || row.deletedAt) return 'revoked';
  if (row.graceEndsAt && row.graceEndsAt <= at) return 'revoked';
  if (row.expiresAt && row.expiresAt <= at) return 'expired';
  return row.status;
}

function userRef(id: string | null, email: string | null, name: string | null, status: string | null): UserRef | null {
  if (!id || !email) return null;
  return { id, email, name: name ?? email, deactivated: status === 'deactivated' };
}

export function toKeyView(row: KeyRowWithPeople, now: Date): KeyView {
  return {
    id: row.id,
    name: row.name,
    start: row.start,
    last4: row.last4,
    status: displayStatus(row, now),
    environment: row.environment,
    team: row.team,
    createdAt: row.createdAt,
    createdBy: userRef(row.createdBy, row.creatorEmail, row.creatorName, row.creatorStatus),
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    suspendedAt: row.suspendedAt,
    revokedAt: row.revokedAt ?? (row.graceEndsAt && row.graceEndsAt <= now.toISOString() ? row.graceEndsAt : null),
    revokedBy: userRef(row.revokedBy, row.revokerEmail, row.revokerName, row.revokerStatus),
    replacesKeyId: row.replacesKeyId,
    replacedByKeyId: row.replacedByKeyId,
    graceEndsAt: row.graceEndsAt,
    flowCount: Number(row.flowCount ?? 0),
    exposedAt: row.exposedAt ?? null,
    exposedUrl: row.exposedUrl ?? null,
  };
}
