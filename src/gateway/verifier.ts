import { AppError } from '../errors/catalogue.js';
import type { Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import { checkKeyShape } from '../keys/key-format.js';
import type { CachedKey, CachedOrg, KeyCache } from './key-cache.js';

export type Verification =
  | { ok: true; key: CachedKey; org: CachedOrg }
  /** `key` is set when the key was known, so the refusal is counted against it. */
  | { ok: false; error: AppError; key?: CachedKey; org?: CachedOrg };

const PORTAL = 'the Build a Doc portal under API Keys';

function day(iso: string | null): string {
  return iso ? iso.slice(0, 10) : 'an unknown date';
}

/**
 * Checks 1–8 of CONTRACT §4 in order. Only a cache miss reads the database; a malformed key
 * never does.
 */
export async function verifyApiKey(header: string | string[] | undefined, cache: KeyCache, clock: Clock): Promise<Verification> {
  const shape = checkKeyShape(header);
  if (!shape.ok) return { ok: false, error: new AppError(shape.code, shape.detail) };

  const key = await cache.key(sha256Hex(shape.key));
  if (!key) {
    return {
      ok: false,
      error: new AppError(
        'api_key_invalid',
        `Invalid API key or API key not found. Check that the connection holds the whole key exactly as it was shown; a lost key cannot be shown again, so create a new key in ${PORTAL} and update the connection.`,
      ),
    };
  }
  const now = clock.now().getTime();
  const org = await cache.org(key.orgId);
  const refuse = (error: AppError): Verification => ({ ok: false, error, key, org: org ?? undefined });

  if (key.deleted || key.status === 'revoked') {
    const what = key.deleted ? 'deleted' : 'revoked';
    return refuse(new AppError('api_key_revoked', `This API key ("${key.name}") was ${what} on ${day(key.revokedAt)} and no longer works. Create a new key in ${PORTAL} and update the connection with it.`, { extras: { revokedAt: key.revokedAt } }));
  }
  if (key.graceEndsAtMs !== null && key.graceEndsAtMs <= now) {
    return refuse(new AppError('api_key_revoked', `This API key ("${key.name}") was rotated and its grace period ended on ${day(key.graceEndsAt)}, so it no longer works. Update the connection with its replacement key, or create a new key in ${PORTAL}.`, { extras: { revokedAt: key.graceEndsAt } }));
  }
  if (key.status === 'suspended') {
    return refuse(new AppError('api_key_suspended', `This API key ("${key.name}") is suspended. An Admin of your organisation, or the key's owner, can resume it in ${PORTAL}.`));
  }
  if (key.expiresAtMs !== null && key.expiresAtMs <= now) {
    return refuse(new AppError('api_key_expired', `API key expired on ${day(key.expiresAt)}. Create a new key in ${PORTAL} and update the connection with it.`, { extras: { expiredAt: key.expiresAt } }));
  }
  if (!org) return refuse(new AppError('subscription_inactive', 'The organisation of this API key no longer exists. Create an account in the Build a Doc portal.'));
  if (org.status !== 'active' && org.status !== 'trialing') {
    return refuse(
      new AppError('subscription_inactive', `Your organisation's subscription is ${org.status.replace('_', ' ')}, so Build a Doc refuses requests. Check the subscription in the Build a Doc portal under Subscription, or contact your Admin.`, {
        extras: { subscriptionStatus: org.status },
      }),
    );
  }
  return { ok: true, key, org };
}
