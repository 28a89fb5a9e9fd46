import type { AuditEntry } from '../../lib/types';

/**
 * How an audit entry's resource is shown: by name, with a link where there is a page for it,
 * never as a raw id. The name is the one the entry recorded (a key's name then, a person's
 * email); `gone` marks a key or webhook endpoint the entry itself says was deleted (its page would be a 404).
 */
export function auditResource(entry: Pick<AuditEntry, 'resourceType' | 'resourceId' | 'eventType' | 'details' | 'userId' | 'userEmail'>): {
  kind: string;
  name: string;
  href: string | null;
  gone: boolean;
} {
  const text = (field: string) => {
    const value = entry.details[field];
    return typeof value === 'string' && value.trim() ? value : null;
  };
  switch (entry.resourceType) {
    case 'api_key': {
      const gone = entry.eventType === 'key.deleted';
      const name = text('to') ?? text('name') ?? 'A key';
      return { kind: 'Key', name, href: entry.resourceId && !gone ? `/keys/${encodeURIComponent(entry.resourceId)}` : null, gone };
    }
    case 'user': {
      // Signing in, joining: the person is the one who acted.
      const self = entry.resourceId !== null && entry.resourceId === entry.userId ? entry.userEmail : null;
      return { kind: 'Person', name: text('name') ?? text('email') ?? self ?? 'A person', href: '/users', gone: false };
    }
    case 'invitation':
      return { kind: 'Invitation', name: text('email') ?? 'An invitation', href: '/users', gone: false };
    case 'webhook': {
      const gone = entry.eventType === 'webhook.deleted';
      return { kind: 'Webhook', name: text('url') ?? 'A webhook endpoint', href: gone ? null : '/webhooks', gone };
    }
    case 'organisation':
    case 'subscription':
      return {
        kind: entry.resourceType === 'subscription' ? 'Subscription' : 'Organisation',
        name: 'Your organisation',
        // Its settings (what a leak report does) are on the account page; its plan on Subscription.
        href: entry.eventType === 'org.settings_changed' ? '/account' : '/subscription',
        gone: false,
      };
    default:
      return { kind: entry.resourceType, name: entry.resourceType.replace(/_/g, ' '), href: null, gone: false };
  }
}
