import type { InvitationView } from '../api/views.js';
import { normaliseEmail } from '../auth/auth.service.js';
import type { DbOrTrx } from '../db/database.js';
import type { Role } from '../domain/vocabulary.js';
import { DAY, type Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import type { IdGenerator } from '../lib/ids.js';
import { randomToken } from '../lib/random.js';
import { invitationsRepository as invitations, type InvitationRow } from './invitations.repository.js';

export const INVITATION_TTL_MS = 7 * DAY;

/** The one-time link of an invitation; the token rides in the fragment so it never reaches a server log. */
export function invitationUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/accept-invitation#token=${token}`;
}

/** Creates an invitation and returns its one-time token; only the token's hash is stored. */
export async function createInvitation(
  db: DbOrTrx,
  deps: { clock: Clock; newId: IdGenerator },
  fields: { orgId: string; email: string; role: Role; createdBy: string | null },
): Promise<{ invitation: InvitationView; token: string }> {
  const token = randomToken();
  const now = deps.clock.now();
  const row: InvitationRow = {
    id: deps.newId('inv'),
    orgId: fields.orgId,
    email: normaliseEmail(fields.email),
    role: fields.role,
    tokenHash: sha256Hex(token),
    createdBy: fields.createdBy,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + INVITATION_TTL_MS).toISOString(),
    acceptedAt: null,
    acceptedBy: null,
    revokedAt: null,
    revokedReason: null,
  };
  await invitations.insert(db, row);
  return { invitation: toInvitationView(row, null), token };
}

export function toInvitationView(row: InvitationRow, inviterName: string | null): InvitationView {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    acceptedAt: row.acceptedAt,
    invitedBy: row.createdBy ? { id: row.createdBy, name: inviterName } : null,
  };
}

/** Why an invitation link cannot be used, in the words of the person holding it; null when it can. */
export function unusable(invitation: InvitationRow | undefined, now: string): string | null {
  if (!invitation || invitation.acceptedAt || invitation.expiresAt <= now) {
    return 'This invitation link is not valid: it was already used, it expired (links are valid for 7 days), or it was copied incompletely. Ask an Admin of your organisation for a new invitation.';
  }
  if (invitation.revokedAt) {
    if (invitation.revokedReason === 'resent')
      return 'This invitation link was replaced by a newer one. Use the link in the latest invitation, or ask an Admin to send it again.';
    if (invitation.revokedReason === 'joined') return `${invitation.email} has already joined Build a Doc with another invitation. Sign in instead.`;
    return 'This invitation was withdrawn by your organisation. Ask an Admin of your organisation for a new invitation.';
  }
  return null;
}
