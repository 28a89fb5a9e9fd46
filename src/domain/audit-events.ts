/**
 * Every kind of entry the audit log holds (its `eventType`). The server can record no other
 * (`AuditEvent.eventType` is this type), and the portal names each of them: one list for both,
 * so a new kind of entry cannot reach the log without the portal having words for it.
 */
export const AUDIT_EVENT_TYPES = [
  'auth.signed_in',
  'auth.sign_in_failed',
  'auth.signed_out',
  'key.created',
  'key.renamed',
  'key.updated',
  'key.suspended',
  'key.resumed',
  'key.rotated',
  'key.revoked',
  'key.deleted',
  'key.expired',
  'key.exposed',
  'key.transferred',
  'flow.labelled',
  'user.invited',
  'user.invitation_resent',
  'user.invitation_revoked',
  'user.joined',
  'user.role_changed',
  'user.deactivated',
  'org.created',
  'org.settings_changed',
  'subscription.changed',
  'quota.threshold_reached',
  'webhook.created',
  'webhook.updated',
  'webhook.deleted',
  'webhook.secret_rotated',
  'webhook.disabled',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** What the webhooks part records about an endpoint, as `webhook.<action>` (`created`, `deleted`, …). */
export type WebhookAuditAction = AuditEventType extends infer T ? (T extends `webhook.${infer Action}` ? Action : never) : never;
