import { randomBytes } from 'node:crypto';

/** The base62 alphabet of the CONTRACT, in its order. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `length` characters drawn uniformly from BASE62 with a CSPRNG. Bytes >= 248 are rejected
 * (248 = 4 * 62) so that `byte % 62` carries no modulo bias.
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(Math.ceil((length - out.length) * 1.1) + 4);
    for (const byte of bytes) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A random 256-bit token for sessions and invitations, URL-safe. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
