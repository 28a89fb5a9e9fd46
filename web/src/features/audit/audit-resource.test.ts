import { describe, expect, it } from 'vitest';
import { auditResource } from './audit-resource';

const entry = (resourceType: string, eventType: string, details: Record<string, unknown>, resourceId: string | null = 'key_123') => ({
  resourceType,
  resourceId,
  eventType,
  details,
  userId: 'usr_ann',
  userEmail: 'ann@example.com',
});

describe('an audit entry names its resource, never by a raw id', () => {
  it('a key by its name, linked to its page', () => {
    expect(auditResource(entry('api_key', 'key.suspended', { name: 'prod-invoice-flow-finance' }))).toEqual({
      kind: 'Key',
      name: 'prod-invoice-flow-finance',
      href: '/keys/key_123',
      gone: false,
    });
  });
  it('a renamed key by its new name', () => {
    expect(auditResource(entry('api_key', 'key.renamed', { from: 'old-name', to: 'prod-new-flow-ops' })).name).toBe('prod-new-flow-ops');
  });
  it('a deleted key by name, marked deleted and not linked (its page is gone)', () => {
    expect(auditResource(entry('api_key', 'key.deleted', { name: 'dev-old-app-ops' }))).toMatchObject({ name: 'dev-old-app-ops', href: null, gone: true });
  });
  it('a person by email, linked to the Users page', () => {
    expect(auditResource(entry('user', 'user.role_changed', { email: 'mia@example.com', from: 'member', to: 'admin' }, 'usr_1'))).toMatchObject({
      kind: 'Person',
      name: 'mia@example.com',
      href: '/users',
    });
  });
  it('a person acting on themselves (signing in, joining) by their own email', () => {
    expect(auditResource(entry('user', 'auth.signin', { method: 'password' }, 'usr_ann')).name).toBe('ann@example.com');
  });
  it('a webhook endpoint by its URL, linked to the Webhooks page unless the entry deleted it', () => {
    expect(auditResource(entry('webhook', 'webhook.created', { url: 'https://example.com/hooks' }, 'whk_1'))).toEqual({
      kind: 'Webhook',
      name: 'https://example.com/hooks',
      href: '/webhooks',
      gone: false,
    });
    expect(auditResource(entry('webhook', 'webhook.deleted', { url: 'https://example.com/hooks' }, 'whk_1'))).toMatchObject({ href: null, gone: true });
  });
  it('without a recorded name, a phrase rather than an id', () => {
    const shown = auditResource(entry('api_key', 'key.created', {}));
    expect(shown.name).toBe('A key');
    expect(JSON.stringify(shown)).not.toContain('"name":"key_123"');
  });
});
