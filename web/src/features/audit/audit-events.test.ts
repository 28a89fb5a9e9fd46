import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES } from '../../../../src/domain/audit-events';
import { EVENT_LABELS, eventLabel } from './audit-events';

describe('every kind of audit entry reads as words', () => {
  it('each kind the server can record has a label, and the labels name no other kind', () => {
    expect(AUDIT_EVENT_TYPES.filter((type) => !EVENT_LABELS[type]?.trim())).toEqual([]);
    expect(Object.keys(EVENT_LABELS).sort()).toEqual([...AUDIT_EVENT_TYPES].sort());
  });
  it('no two kinds share a label (the Event type filter lists them by it)', () => {
    const labels = Object.values(EVENT_LABELS);
    expect(labels.filter((label, i) => labels.indexOf(label) !== i)).toEqual([]);
  });
  it('webhook changes, leaks, ownership transfers, settings and invitations are named, not shown raw', () => {
    for (const type of ['webhook.created', 'webhook.secret_rotated', 'key.exposed', 'key.transferred', 'org.settings_changed', 'user.invitation_revoked']) {
      expect(eventLabel(type)).not.toContain('.');
      expect(eventLabel(type)).not.toContain('_');
    }
  });
  it('an old kind no longer written still reads as words', () => {
    expect(eventLabel('key.legacy_thing')).toBe('Key legacy thing');
  });
});
