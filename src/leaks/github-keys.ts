import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SecretScanningConfig } from '../config.js';
import { AppError } from '../errors/catalogue.js';
import { MINUTE, type Clock } from '../lib/clock.js';

/** GitHub's published keys for secret-scanning alerts. */
export const GITHUB_KEYS_URL = 'https://api.github.com/meta/public_keys/secret_scanning';

/** How often an unknown key id may make us fetch the keys again (a stranger cannot make us hammer GitHub). */
const REFRESH_MIN_INTERVAL_MS = MINUTE;

/** Reads `{ public_keys: [{ key_identifier, key }] }`; entries that are not P-256 keys are ignored. */
function parseKeys(document: unknown): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const list = (document as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list)) throw new Error('the document has no public_keys list');
  for (const entry of list) {
    if (typeof entry?.key_identifier !== 'string' || typeof entry?.key !== 'string') continue;
    try {
      const key = createPublicKey(entry.key);
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') keys.set(entry.key_identifier, key);
    } catch {
      // A key we cannot read verifies nothing.
    }
  }
  return keys;
}

/**
 * The public keys GitHub signs its reports with: from a local file or from GitHub, cached, and
 * fetched again when a report names a key id we do not know (GitHub rotates its keys).
 */
export class GithubKeys {
  readonly #config: SecretScanningConfig;
  readonly #clock: Clock;
  #keys = new Map<string, KeyObject>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;

  constructor(config: SecretScanningConfig, clock: Clock) {
    this.#config = config;
    this.#clock = clock;
  }

  async #load(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const document = this.#config.keysFile ? JSON.parse(await readFile(this.#config.keysFile, 'utf8')) : await this.#fetch();
        this.#keys = parseKeys(document);
        this.#loadedAt = this.#clock.nowMs();
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  async #fetch(): Promise<unknown> {
    const response = await fetch(this.#config.keysUrl ?? GITHUB_KEYS_URL, {
      signal: AbortSignal.timeout(5000),
      redirect: 'error',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`GitHub's key list answered ${response.status}`);
    return response.json();
  }

  /** The key with this id; loads or refreshes the list when the id is unknown. A list that cannot be read is 503. */
  async find(keyId: string): Promise<KeyObject | undefined> {
    const known = this.#keys.get(keyId);
    if (known) return known;
    if (this.#clock.nowMs() - this.#loadedAt < REFRESH_MIN_INTERVAL_MS) return undefined;
    try {
      await this.#load();
    } catch (error) {
      throw new AppError(
        'unavailable',
        `The public keys of GitHub's secret scanning could not be read (${error instanceof Error ? error.message : 'unknown error'}). Try again later.`,
        {
          headers: { 'retry-after': '60' },
        },
      );
    }
    return this.#keys.get(keyId);
  }
}

/** An ECDSA P-256 SHA-256 signature (base64 DER, as GitHub sends it) over the raw body. */
export function signatureValid(key: KeyObject, body: Buffer, signature: string): boolean {
  try {
    return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
