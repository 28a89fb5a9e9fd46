import { BASE62, randomBase62 } from './random.js';

/** Resource id prefixes; an id names its kind at a glance (`key_…`, `org_…`). */
export type IdPrefix = 'org' | 'usr' | 'key' | 'ses' | 'inv' | 'aud' | 'req' | 'flw' | 'evt' | 'whe' | 'whd' | 'whs' | 'mail';

export type IdGenerator = (prefix: IdPrefix) => string;

/**
 * Ids sort by creation time: 9 base62 characters of milliseconds, then 12 random ones.
 * Time-ordered ids keep inserts at the end of indexes and give lists a stable tiebreak.
 */
export const newId: IdGenerator = (prefix) => `${prefix}_${encodeTime(Date.now())}${randomBase62(12)}`;

function encodeTime(ms: number): string {
  let out = '';
  let n = ms;
  for (let i = 0; i < 9; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}
