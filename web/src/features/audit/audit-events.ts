import type { AuditEntry } from '../../lib/types';

/** The colour of an entry by severity, in the log and in a key's history. */
export const SEVERITY_COLOR: Record<AuditEntry['severity'], string> = { info: 'blue', warning: 'orange', error: 'red' };

/** The audit log's event types, in words. */
export const EVENT_LABELS: Record<string, string> = {
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
  'flow.labelled': 'Flow labelled',
  'user.invited': 'User invited',
  'user.joined': 'User joined',
  'user.role_changed': 'Role changed',
  'user.deactivated': 'User deactivated',
  'org.created': 'Organisation created',
  'subscription.changed': 'Subscription changed',
  'quota.threshold_reached': 'Quota threshold reached',
};

export function eventLabel(type: string): string {
  return EVENT_LABELS[type] ?? type;
}
