import { AppError } from '../errors/catalogue.js';
import { sha256Hex } from '../lib/hash.js';
import { checkKeyShape, KEY_PATTERN } from '../keys/key-format.js';
import type { CachedKey, CachedOrg, KeyCache } from './key-cache.js';

export type Verification =
  | { ok: true; key: CachedKey; org: CachedOrg }
  /** `key` is set when the key was known, so the refusal is counted against it. */
  | { ok: false; error: AppError; key?: CachedKey; org?: CachedOrg };

const PORTAL = 'the Build a Doc portal under API Keys';

function day(iso: string | null): string {
  return iso ? iso.slice(0, 10) : 'an unknown date';
}

const INVALID = (): AppError =>
  new AppError(
    'api_key_invalid',
    `Invalid API key or API key not found. Check that the connection holds the whole key exactly as it was shown; a lost key cannot be shown again, so create a new key in ${PORTAL} and update the connection.`,
  );

/**
 * Checks 1–8 of CONTRACT §4 in order. A key already in the cache is answered synchronously
 * (the common case); only a miss reads the database, and a malformed key never does.
 */
export function verifyApiKey(header: string | string[] | undefined, cache: KeyCache, nowMs: number): Verification | Promise<Verification> {
  // Fast path: a well-shaped header whose hash the cache knows is a real key (the cache holds
  // only keys the service issued), so its checksum needs no second look.
  if (typeof header === 'string' && KEY_PATTERN.test(header)) {
    const hash = sha256Hex(header);
    const known = cache.peek(hash, nowMs);
    if (known) return afterLookup(known, cache, nowMs);
    const shape = checkKeyShape(header);
    if (!shape.ok) return { ok: false, error: new AppError(shape.code, shape.detail) };
    return resolve(cache.key(hash), cache, nowMs);
  }
  const shape = checkKeyShape(header);
  if (!shape.ok) return { ok: false, error: new AppError(shape.code, shape.detail) };
  return resolve(cache.key(sha256Hex(shape.key)), cache, nowMs);
}

function resolve(found: CachedKey | null | Promise<CachedKey | null>, cache: KeyCache, nowMs: number): Verification | Promise<Verification> {
  if (found instanceof Promise) return found.then((key) => (key ? afterLookup(key, cache, nowMs) : { ok: false, error: INVALID() }));
  return found ? afterLookup(found, cache, nowMs) : { ok: false, error: INVALID() };
}

function afterLookup(key: CachedKey, cache: KeyCache, nowMs: number): Verification | Promise<Verification> {
  const org = cache.org(key.orgId, nowMs);
  return org instanceof Promise ? org.then((o) => checkState(key, o, nowMs)) : checkState(key, org, nowMs);
}

/** Checks 5–8: the key's state, then its organisation's subscription. */
function checkState(key: CachedKey, org: CachedOrg | null, nowMs: number): Verification {
  const refuse = (error: AppError): Verification => ({ ok: false, error, key, org: org ?? undefined });

  if (key.deleted || key.status === 'revoked') {
    const what = key.deleted ? 'deleted' : 'revoked';
    return refuse(
      new AppError(
        'api_key_revoked',
        `This API key ("${key.name}") was ${what} on ${day(key.revokedAt)} and no longer works. Create a new key in ${PORTAL} and update the connection with it.`,
        { extras: { revokedAt: key.revokedAt } },
      ),
    );
  }
  if (key.graceEndsAtMs !== null && key.graceEndsAtMs <= nowMs) {
    return refuse(
      new AppError(
        'api_key_revoked',
        `This API key ("${key.name}") was rotated and its grace period ended on ${day(key.graceEndsAt)}, so it no longer works. Update the connection with its replacement key, or create a new key in ${PORTAL}.`,
        { extras: { revokedAt: key.graceEndsAt } },
      ),
    );
  }
  if (key.status === 'suspended') {
    return refuse(
      new AppError(
        'api_key_suspended',
        `This API key ("${key.name}") is suspended. An Admin of your organisation, or the key's owner, can resume it in ${PORTAL}.`,
      ),
    );
  }
  if (key.expiresAtMs !== null && key.expiresAtMs <= nowMs) {
    return refuse(
      new AppError('api_key_expired', `API key expired on ${day(key.expiresAt)}. Create a new key in ${PORTAL} and update the connection with it.`, {
        extras: { expiredAt: key.expiresAt },
      }),
    );
  }
  if (!org)
    return refuse(new AppError('subscription_inactive', 'The organisation of this API key no longer exists. Create an account in the Build a Doc portal.'));
  if (org.status !== 'active' && org.status !== 'trialing') {
    return refuse(
      new AppError(
        'subscription_inactive',
        `Your organisation's subscription is ${org.status.replace('_', ' ')}, so Build a Doc refuses requests. Check the subscription in the Build a Doc portal under Subscription, or contact your Admin.`,
        {
          extras: { subscriptionStatus: org.status },
        },
      ),
    );
  }
  return { ok: true, key, org };
}
