import { describe, expect, it } from 'vitest';
import { detailsSummary } from './audit-details';

describe("an audit entry's details read as words", () => {
  it('a subscription change says what changed, not both states in full', () => {
    const details = {
      from: { plan: 'free', status: 'active', overrides: {} },
      to: { plan: 'standard', status: 'active', overrides: { maxKeys: 20 } },
    };
    expect(detailsSummary(details)).toBe('plan: free → standard · overrides: none → maxKeys 20');
    expect(detailsSummary({ from: { plan: 'free' }, to: { plan: 'free' } })).toBe('no change');
  });
  it('other details are field: value pairs, empty ones left out, lists and objects in words', () => {
    expect(detailsSummary({ name: 'prod-x', environment: 'production', team: null, expiresAt: '' })).toBe('name: prod-x · environment: production');
    expect(detailsSummary({ eventTypes: ['api_key.created', 'api_key.revoked'], limits: { rate: 60 } })).toBe(
      'eventTypes: api_key.created, api_key.revoked · limits: rate 60',
    );
    // A rename records from/to as names: shown as they are.
    expect(detailsSummary({ from: 'old-name', to: 'new-name' })).toBe('from: old-name · to: new-name');
  });
});
