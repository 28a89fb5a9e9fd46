/**
 * The words the whole product shares: roles, key environments, statuses, outcomes. The lowest
 * module of the domain: the database rows (`db/schema.ts`), the API shapes (`api/views.ts`) and
 * the browser app all use these, and it imports nothing.
 */

export type Role = 'admin' | 'member' | 'viewer';
export type KeyEnvironment = 'production' | 'test' | 'development' | 'other';
/** What a key's row says; `expired` is derived from `expiresAt` (see `KeyDisplayStatus`). */
export type KeyStatus = 'active' | 'suspended' | 'revoked';
/** A key's status as the API shows it. */
export type KeyDisplayStatus = 'active' | 'suspended' | 'revoked' | 'expired';
export type UserStatus = 'active' | 'deactivated';
export type SubscriptionStatus = 'active' | 'trialing' | 'past_due' | 'cancelled' | 'suspended';
export type ActionType = 'document' | 'utility' | 'none';
export type Outcome = 'success' | 'client_error' | 'server_error' | 'rejected';
export type Severity = 'info' | 'warning' | 'error';
