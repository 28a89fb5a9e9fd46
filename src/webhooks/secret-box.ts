import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeDirectory } from '../lib/make-directory.js';
import path from 'node:path';
import { ConfigError } from '../config.js';

/** The file in DATA_DIR holding the generated key when WEBHOOK_SECRET_KEY is not set (one node only). */
export const GENERATED_KEY_FILE = 'webhook-secret.key';

/**
 * The key that encrypts webhook signing secrets at rest: WEBHOOK_SECRET_KEY (base64 of 32
 * bytes), or on one node a key generated into DATA_DIR on first start. Several nodes on
 * PostgreSQL must share the key, so there it is required.
 */
export function loadSecretKey(input: { configured: Buffer | undefined; dataDir: string; postgres: boolean }): Buffer {
  if (input.configured) return input.configured;
  if (input.postgres) {
    throw new ConfigError(
      'WEBHOOK_SECRET_KEY is required with a PostgreSQL DATABASE_URL (every node needs the same key): set it to the base64 of 32 random bytes.',
    );
  }
  const file = path.join(input.dataDir, GENERATED_KEY_FILE);
  if (!existsSync(file)) {
    makeDirectory(input.dataDir);
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32)
    throw new Error(`${file} does not hold the base64 of 32 bytes; delete it to have a new one made (existing webhook secrets are then lost).`);
  return key;
}

/** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>` in base64url; the secret itself is never stored. */
export class SecretBox {
  readonly #load: () => Buffer;
  #loaded: Buffer | undefined;
  /** The key is read when first needed (the CLI never needs it); the server asks at start (`check`). */
  constructor(load: () => Buffer) {
    this.#load = load;
  }

  get #key(): Buffer {
    this.#loaded ??= this.#load();
    if (this.#loaded.length !== 32) throw new Error('The webhook secret key must be 32 bytes.');
    return this.#loaded;
  }

  /** Throws the configuration error now rather than at the first webhook. */
  check(): void {
    void this.#key;
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('Unknown sealed secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}
