import { displayStatus } from '../../lib/format';
import type { ApiKey, Flow, Role } from '../../lib/types';

/**
 * What may be done to a key: by its status (the server refuses the rest with 409) and by the
 * person's role (the contract's matrix; the server refuses the rest with 403). Pure, so the
 * key list, the key page and the tests share one answer.
 */
export type KeyAction = 'rename' | 'suspend' | 'resume' | 'rotate' | 'revoke' | 'delete';

/** Who is asking: their id and role in the organisation. */
export interface Actor {
  id: string;
  role: Role;
}

type KeyFacts = Pick<ApiKey, 'status' | 'replacedByKeyId' | 'createdBy'>;

/** Which actions a key's state allows, in menu order. */
export function keyActions(key: Pick<ApiKey, 'status' | 'replacedByKeyId'>): KeyAction[] {
  const live = key.status === 'active' || key.status === 'suspended';
  const allowed: Record<KeyAction, boolean> = {
    rename: key.status !== 'revoked',
    suspend: key.status === 'active',
    resume: key.status === 'suspended',
    rotate: live && !key.replacedByKeyId,
    revoke: key.status !== 'revoked',
    delete: true,
  };
  return (Object.keys(allowed) as KeyAction[]).filter((action) => allowed[action]);
}

/** Revoke and Delete cannot be undone: shown in red, confirmed by typing the key's name. */
export function isDestructive(action: KeyAction): action is 'revoke' | 'delete' {
  return action === 'revoke' || action === 'delete';
}

export const ACTION_LABEL: Record<KeyAction, string> = {
  rename: 'Rename',
  suspend: 'Suspend',
  resume: 'Resume',
  rotate: 'Rotate',
  revoke: 'Revoke',
  delete: 'Delete',
};

/** Whether the person may change this key at all, with the reason in words when not. */
export function mayManageKey(actor: Actor, key: Pick<ApiKey, 'createdBy'>): { ok: true } | { ok: false; reason: string } {
  if (actor.role === 'admin') return { ok: true };
  if (actor.role === 'viewer') return { ok: false, reason: 'Viewers can look at keys but not change them; ask an Admin.' };
  if (key.createdBy?.id === actor.id) return { ok: true };
  return {
    ok: false,
    reason: `Members manage only the keys they created; this key belongs to ${key.createdBy?.name ?? 'someone else'}. Ask an Admin.`,
  };
}

/**
 * The actions to show for a key, each enabled or not: the status decides which appear, the role
 * whether they can be used (shown disabled with `reason`, so a person learns why).
 */
export function keyActionsFor(actor: Actor, key: KeyFacts): { actions: KeyAction[]; enabled: boolean; reason: string | null } {
  const permission = mayManageKey(actor, key);
  return { actions: keyActions(key), enabled: permission.ok, reason: permission.ok ? null : permission.reason };
}

/**
 * The key limit before the create form: how many live keys there are of how many, and what to do
 * at the limit. `live` is the server's count (active or suspended, not expired, not past a
 * rotation's grace period); the old key of a rotation counts until it stops working, and a
 * rotation may take the organisation one over the limit, so "11 of 10" is possible and is said
 * as what it is rather than as a count that looks wrong.
 */
export function keyAllowance(role: Role, live: number, max: number | null): { used: string; full: boolean; advice: string | null; seePlan: boolean } {
  if (max === null) return { used: `${live} keys in use, no limit`, full: false, advice: null, seePlan: false };
  if (live < max) return { used: `${live} of ${max} keys used`, full: false, advice: null, seePlan: false };
  const over = live - max;
  const used = over > 0 ? `${live} live keys, ${over} more than your plan's ${max}` : `${live} of ${max} keys used`;
  const why =
    over > 0
      ? 'A rotated key keeps counting until it is revoked or its grace period ends, so a rotation can take you one over the limit (as can a smaller plan). '
      : '';
  if (role === 'admin') {
    return { used, full: true, advice: `${why}Your plan allows no more live keys. Choose a larger plan, or revoke a key you no longer need.`, seePlan: true };
  }
  return {
    used,
    full: true,
    advice: `${why}Your organisation has all the live keys its plan allows. Ask an Admin to choose a larger plan or revoke an unused key.`,
    seePlan: false,
  };
}

/** The warning a key's state calls for on its page, if any. */
export function statusNotice(key: Pick<ApiKey, 'status' | 'expiresAt'>, now = Date.now()): 'revoked' | 'suspended' | 'expired' | 'expiring' | null {
  if (key.status === 'revoked' || key.status === 'suspended' || key.status === 'expired') return key.status;
  if (key.expiresAt && displayStatus(key, now) === 'expiring') return 'expiring';
  return null;
}

/** A flow's name for people: its label, else what Power Automate told us, else how it called. */
export function flowName(flow: Flow): string {
  return flow.label ?? flow.workflowName ?? flow.workflowId ?? flow.clientEnvironmentId ?? flow.userAgent ?? 'Unknown caller';
}

/** The flows still calling this key although it no longer works: each needs a new key. */
export function deadKeyCallers(flows: Flow[]): Flow[] {
  return flows.filter((flow) => flow.callingDeadKey);
}
