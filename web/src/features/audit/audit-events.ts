import type { AuditEventType } from '../../../../src/domain/audit-events';
import type { AuditEntry } from '../../lib/types';

/** The colour of an entry by severity, in the log and in a key's history. */
export const SEVERITY_COLOR: Record<AuditEntry['severity'], string> = { info: 'blue', warning: 'orange', error: 'red' };

/**
 * Every kind of audit entry, in words, in the order the Event type filter lists them. Typed by the
 * server's own list (src/domain/audit-events.ts): a kind without words here does not compile.
 */
export const EVENT_LABELS: Record<AuditEventType, string> = {
  'auth.signed_in': 'Signed in',
  'auth.sign_in_failed': 'Failed sign-in',
  'auth.signed_out': 'Signed out',
  'key.created': 'Key created',
  'key.renamed': 'Key renamed',
  'key.updated': 'Key updated',
  'key.suspended': 'Key suspended',
  'key.resumed': 'Key resumed',
  'key.rotated': 'Key rotated',
  'key.revoked': 'Key revoked',
  'key.deleted': 'Key deleted',
  'key.expired': 'Key expired',
  'key.exposed': 'Key found in public',
  'key.transferred': 'Key owner changed',
  'flow.labelled': 'Flow labelled',
  'user.invited': 'User invited',
  'user.invitation_resent': 'Invitation sent again',
  'user.invitation_revoked': 'Invitation withdrawn',
  'user.joined': 'User joined',
  'user.role_changed': 'Role changed',
  'user.deactivated': 'User deactivated',
  'org.created': 'Organisation created',
  'org.settings_changed': 'Settings changed',
  'subscription.changed': 'Subscription changed',
  'quota.threshold_reached': 'Quota threshold reached',
  'webhook.created': 'Webhook added',
  'webhook.updated': 'Webhook changed',
  'webhook.deleted': 'Webhook deleted',
  'webhook.secret_rotated': 'Webhook secret rotated',
  'webhook.disabled': 'Webhook disabled',
};

/**
 * An entry's kind in words. A kind the server no longer writes (an old entry) still reads as
 * words: "webhook.secret_rotated" would be "Webhook secret rotated".
 */
export function eventLabel(type: string): string {
  if (type in EVENT_LABELS) return EVENT_LABELS[type as AuditEventType];
  const words = type.replace(/[._]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
