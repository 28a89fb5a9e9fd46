import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkKeyShape, generateApiKey, keyChecksum, KEY_PATTERN } from '../src/keys/key-format.js';
import { BASE62, randomBase62 } from '../src/lib/random.js';

// Computed independently with Python's zlib.crc32 and a base62 encoder.
const VECTORS: Array<[string, string]> = [
  ['000000000000000000000000000000', '2C8GjS'],
  ['abcdefghijklmnopqrstuvwxyzABCD', '4dNndU'],
  ['H2W8ESJzgMOBGingYQI25eH483HiXj', '0AzNfg'],
  ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', '4IlJEz'],
];

const validKey = fc.constant(null).map(() => generateApiKey());

describe('API key format', () => {
  it.each(VECTORS)('the checksum of %s is CRC-32 in base62: %s', (random, checksum) => {
    expect(keyChecksum(random)).toBe(checksum);
    expect(checkKeyShape(`bdoc_${random}${checksum}`)).toEqual({ ok: true, key: `bdoc_${random}${checksum}` });
  });

  it('generated keys always match the pattern and pass the check', () => {
    for (let i = 0; i < 2000; i++) {
      const key = generateApiKey();
      expect(key).toMatch(KEY_PATTERN);
      expect(key).toHaveLength(41);
      expect(checkKeyShape(key).ok).toBe(true);
    }
  });

  it('draws the random part uniformly from the whole alphabet', () => {
    const counts = new Map<string, number>();
    const sample = randomBase62(62 * 2000);
    for (const char of sample) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const char of BASE62) {
      // Expected 2000 each; a modulo bias would push the first 8 characters ~3% higher.
      expect(counts.get(char)!).toBeGreaterThan(1750);
      expect(counts.get(char)!).toBeLessThan(2250);
    }
  });

  it('refuses every single-character change as malformed', () => {
    fc.assert(
      fc.property(validKey, fc.nat(40), fc.constantFrom(...BASE62), (key, index, replacement) => {
        fc.pre(key[index] !== replacement);
        const changed = key.slice(0, index) + replacement + key.slice(index + 1);
        const result = checkKeyShape(changed);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.code).toBe('api_key_malformed');
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses every truncation and every extension as malformed, naming the length', () => {
    fc.assert(
      fc.property(validKey, fc.nat(40), fc.string({ minLength: 1, maxLength: 5, unit: fc.constantFrom(...BASE62) }), (key, cut, extra) => {
        for (const candidate of [key.slice(0, cut), key + extra]) {
          if (candidate.trim() === '') continue;
          const result = checkKeyShape(candidate);
          expect(result.ok).toBe(false);
          if (!result.ok) {
            expect(result.code).toBe('api_key_malformed');
            expect(result.detail).toContain(`has ${candidate.length} characters`);
            if (candidate.length >= 10) expect(result.detail).not.toContain(candidate);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('plain spaces and tabs around the key do not break it: HTTP removes them', () => {
    const key = generateApiKey();
    for (const header of [`${key} `, ` ${key}`, `\t${key}\t`, `  ${key}  `]) expect(checkKeyShape(header), JSON.stringify(header)).toEqual({ ok: true, key });
  });

  it('names invisible spaces, quotes and a Bearer prefix, and never echoes the key', () => {
    const key = generateApiKey();
    const cases: Array<[string, RegExp]> = [
      [`${key}\u00a0`, /invisible character at its end \(a non-breaking or zero-width space/],
      [`\u200b${key}`, /invisible character at its start/],
      [`\ufeff${key}\u00a0`, /invisible character at its start and end/],
      [`${Buffer.from(`${key}\u00a0`, 'utf8').toString('latin1')}`, /invisible character at its end/],
      [`"${key}"`, /quotation marks/],
      [`'${key}'`, /quotation marks/],
      [`Bearer ${key}`, /"Bearer " prefix/],
      [`bearer "${key}"\u00a0`, /"Bearer " prefix.*quotation marks.*invisible character at its end/],
      [`${key.slice(0, 20)} ${key.slice(20)}`, /a space or line break inside it/],
      [`${key.slice(0, 20)}\u00a0${key.slice(20)}`, /a space or line break inside it/],
      [`${key.slice(0, 20)}\u200b${key.slice(20)}`, /a space or line break inside it/],
    ];
    for (const [header, expected] of cases) {
      const result = checkKeyShape(header);
      expect(result.ok, header).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe('api_key_malformed');
        expect(result.detail).toMatch(expected);
        expect(result.detail).toMatch(/paste it into the connection, without/);
        expect(result.detail).not.toContain(key);
      }
    }
  });

  it('says so when the request has the header twice, without echoing either', () => {
    const key = generateApiKey();
    // As an array, and as Node hands a repeated header over: joined with ", ".
    for (const header of [[key, key], `${key}, ${key}`]) {
      const result = checkKeyShape(header);
      expect(result).toMatchObject({ ok: false, code: 'api_key_malformed' });
      if (!result.ok) {
        expect(result.detail).toMatch(/2 x-api-key headers \(or 2 keys in one\); send exactly one/);
        expect(result.detail).not.toContain(key);
      }
    }
  });

  it('treats an absent or blank header as missing', () => {
    for (const header of [undefined, '', '   ']) {
      const result = checkKeyShape(header);
      expect(result).toMatchObject({ ok: false, code: 'api_key_missing' });
    }
  });

  it('says what is wrong with a key of the right length but the wrong prefix or alphabet', () => {
    const key = generateApiKey();
    const wrongPrefix = checkKeyShape(`sk_l_${key.slice(5)}`);
    expect(wrongPrefix).toMatchObject({ ok: false, code: 'api_key_malformed' });
    if (!wrongPrefix.ok) expect(wrongPrefix.detail).toMatch(/does not start with "bdoc_"/);
    const badChar = checkKeyShape(`${key.slice(0, 20)}-${key.slice(21)}`);
    expect(badChar).toMatchObject({ ok: false, code: 'api_key_malformed' });
    if (!badChar.ok) expect(badChar.detail).toMatch(/characters other than letters and digits/);
  });
});
