import { AppError } from '../errors/catalogue.js';
import type { Actor } from './actor.js';

/**
 * The role matrix of CONTRACT §5, in one place. The operator (CLI) may do everything.
 * Members manage their own keys; Viewers only look.
 */
export type Permission =
  | 'keys.view'
  | 'keys.create'
  | 'keys.manage'
  | 'keys.transfer'
  | 'flows.label'
  | 'members.view'
  | 'members.manage'
  | 'audit.view'
  | 'subscription.view'
  | 'subscription.change'
  | 'webhooks.manage'
  | 'organisation.settings';

/** An Admin may do everything in their organisation; the operator everything an Admin may. */
const EVERYTHING: readonly Permission[] = [
  'keys.view',
  'keys.create',
  'keys.manage',
  'keys.transfer',
  'flows.label',
  'members.view',
  'members.manage',
  'audit.view',
  'subscription.view',
  'subscription.change',
  'webhooks.manage',
  'organisation.settings',
];

const MATRIX: Record<Actor['role'], ReadonlySet<Permission>> = {
  operator: new Set<Permission>(EVERYTHING),
  admin: new Set<Permission>(EVERYTHING),
  member: new Set<Permission>(['keys.view', 'keys.create', 'keys.manage', 'flows.label', 'members.view', 'audit.view', 'subscription.view']),
  viewer: new Set<Permission>(['keys.view', 'members.view', 'subscription.view']),
};

const REASONS: Record<Permission, string> = {
  'keys.view': 'view API keys',
  'keys.create': 'create API keys',
  'keys.manage': 'change API keys',
  'keys.transfer': "hand a person's API keys to someone else; ask an Admin of your organisation",
  'flows.label': 'label flows',
  'members.view': 'view the team',
  'members.manage': 'manage the team; ask an Admin of your organisation',
  'audit.view': 'view the audit log',
  'subscription.view': 'view the subscription',
  'subscription.change': 'change the plan; ask an Admin of your organisation',
  'organisation.settings': "change the organisation's settings; ask an Admin of your organisation",
  'webhooks.manage': 'manage webhooks; ask an Admin of your organisation',
};

export function can(actor: Pick<Actor, 'role'>, permission: Permission): boolean {
  return MATRIX[actor.role].has(permission);
}

export function requirePermission(actor: Pick<Actor, 'role'>, permission: Permission): void {
  if (!can(actor, permission)) {
    throw new AppError('forbidden', `Your role (${actor.role}) may not ${REASONS[permission]}.`);
  }
}

/** Admins (and the operator) manage every key; Members only the keys they created. */
export function canManageKey(actor: Pick<Actor, 'role' | 'userId'>, key: { createdBy: string | null }): boolean {
  if (!can(actor, 'keys.manage')) return false;
  return actor.role !== 'member' || (actor.userId !== null && key.createdBy === actor.userId);
}

export function requireKeyManagement(actor: Pick<Actor, 'role' | 'userId'>, key: { createdBy: string | null }): void {
  if (canManageKey(actor, key)) return;
  if (actor.role === 'member') {
    throw new AppError('forbidden', 'Members may only change the API keys they created; ask an Admin of your organisation.');
  }
  requirePermission(actor, 'keys.manage');
}
