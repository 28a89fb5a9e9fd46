import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../lib/types';
import { deadKeyCallers, keyActions, keyActionsFor, keyAllowance, statusNotice, type Actor } from './key-rules';

const ann: Actor = { id: 'usr_ann', role: 'admin' };
const mia: Actor = { id: 'usr_mia', role: 'member' };
const vic: Actor = { id: 'usr_vic', role: 'viewer' };
const owner = (id: string) => ({ id, name: id === 'usr_mia' ? 'Mia Member' : 'Bob Builder', email: `${id}@example.com`, deactivated: false });
const key = (status: ApiKey['status'], extra: Partial<ApiKey> = {}) =>
  ({ status, replacedByKeyId: null, createdBy: owner('usr_mia'), expiresAt: null, ...extra }) as Pick<
    ApiKey,
    'status' | 'replacedByKeyId' | 'createdBy' | 'expiresAt'
  >;

describe('which actions a key offers', () => {
  it('an active key can be renamed, suspended, rotated, revoked and deleted, not resumed', () => {
    expect(keyActions(key('active'))).toEqual(['rename', 'suspend', 'rotate', 'revoke', 'delete']);
  });
  it('a suspended key can be resumed instead of suspended', () => {
    expect(keyActions(key('suspended'))).toEqual(['rename', 'resume', 'rotate', 'revoke', 'delete']);
  });
  it('a revoked key can only be deleted', () => {
    expect(keyActions(key('revoked'))).toEqual(['delete']);
  });
  it('an expired key cannot be rotated or suspended, but can still be revoked', () => {
    expect(keyActions(key('expired'))).toEqual(['rename', 'revoke', 'delete']);
  });
  it('a key already rotated is not rotated twice', () => {
    expect(keyActions(key('active', { replacedByKeyId: 'key_next' }))).not.toContain('rotate');
  });
});

describe('who may use them', () => {
  it('an Admin may act on any key', () => {
    expect(keyActionsFor(ann, key('active', { createdBy: owner('usr_bob') }))).toMatchObject({ enabled: true, reason: null });
  });
  it('a Member may act on the keys they created', () => {
    expect(keyActionsFor(mia, key('active'))).toMatchObject({ enabled: true, reason: null });
  });
  it("a Member cannot act on another member's key, and is told whose it is", () => {
    const rules = keyActionsFor(mia, key('active', { createdBy: owner('usr_bob') }));
    expect(rules.enabled).toBe(false);
    expect(rules.reason).toContain('Bob Builder');
    // The actions still show (disabled), so the person sees what an Admin could do.
    expect(rules.actions).toContain('revoke');
  });
  it('a Viewer cannot act on any key, not even one they would own', () => {
    expect(keyActionsFor(vic, key('active', { createdBy: owner('usr_vic') })).enabled).toBe(false);
  });
  it('an operator-made key (no creator) is for Admins only', () => {
    expect(keyActionsFor(mia, key('active', { createdBy: null })).enabled).toBe(false);
    expect(keyActionsFor(ann, key('active', { createdBy: null })).enabled).toBe(true);
  });
});

describe('the key limit before the create form', () => {
  it('below the limit it counts and lets everyone go on', () => {
    expect(keyAllowance('member', 1, 2)).toEqual({ used: '1 of 2 keys used', full: false, advice: null, seePlan: false });
  });
  it('at the limit an Admin is pointed to the plan', () => {
    const allowance = keyAllowance('admin', 2, 2);
    expect(allowance).toMatchObject({ used: '2 of 2 keys used', full: true, seePlan: true });
    expect(allowance.advice).toMatch(/larger plan/);
  });
  it('at the limit a Member is told to ask an Admin, not sent to a page they cannot use', () => {
    const allowance = keyAllowance('member', 2, 2);
    expect(allowance).toMatchObject({ full: true, seePlan: false });
    expect(allowance.advice).toMatch(/Ask an Admin/);
  });
  it('over the limit (a rotation may go one over while its old key works) it says so, never "11 of 10"', () => {
    const allowance = keyAllowance('admin', 11, 10);
    expect(allowance.used).not.toMatch(/11 of 10/);
    expect(allowance).toMatchObject({ used: "11 live keys, 1 more than your plan's 10", full: true, seePlan: true });
    expect(allowance.advice).toMatch(/rotated key keeps counting until it is revoked or its grace period ends/);
  });
  it('without a limit nothing is ever full', () => {
    expect(keyAllowance('admin', 500, null).full).toBe(false);
  });
});

describe('the warning on a key page', () => {
  const now = Date.parse('2026-03-01T00:00:00Z');
  it('names revoked, suspended and expired keys', () => {
    expect(statusNotice(key('revoked'), now)).toBe('revoked');
    expect(statusNotice(key('suspended'), now)).toBe('suspended');
    expect(statusNotice(key('expired'), now)).toBe('expired');
  });
  it('warns of an active key expiring within 14 days, not of one expiring later', () => {
    expect(statusNotice(key('active', { expiresAt: '2026-03-10T00:00:00Z' }), now)).toBe('expiring');
    expect(statusNotice(key('active', { expiresAt: '2026-04-10T00:00:00Z' }), now)).toBeNull();
  });
  it('lists only the flows still calling a key that no longer works', () => {
    const flows = [
      { id: 'a', callingDeadKey: true },
      { id: 'b', callingDeadKey: false },
    ] as Parameters<typeof deadKeyCallers>[0];
    expect(deadKeyCallers(flows).map((f) => f.id)).toEqual(['a']);
  });
});
