import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseKeySearch, searchFilters } from './key-search';

const KEY = 'bdoc_Ab12Cd34Ef56Gh78Ij90Kl12Mn34OpQrStUv'; // bdoc_ + 36 base62 characters

describe('the key search', () => {
  it('a pasted whole key is searched by its SHA-256 alone: the key itself is never part of the query', async () => {
    expect(KEY).toHaveLength(41);
    const filters = await searchFilters(`  ${KEY}\n`);
    expect(filters).toEqual({ q: '', hash: createHash('sha256').update(KEY).digest('hex'), last4: null });
    expect(JSON.stringify(filters)).not.toContain(KEY.slice(9, -4));
  });
  it('a masked key as the list shows it finds the key by its start and last four', async () => {
    expect(await searchFilters('bdoc_Ab12…StUv')).toEqual({ q: 'bdoc_Ab12', hash: null, last4: 'StUv' });
    expect(parseKeySearch('bdoc_Ab12...StUv')).toEqual({ kind: 'masked', start: 'bdoc_Ab12', last4: 'StUv' });
  });
  it('"…wxYZ" is the last four characters', async () => {
    expect(await searchFilters('…StUv')).toEqual({ q: '', hash: null, last4: 'StUv' });
  });
  it('anything else is a text search (name, team, start, last four)', async () => {
    expect(await searchFilters(' invoice ')).toEqual({ q: 'invoice', hash: null, last4: null });
    expect(parseKeySearch('bdoc_Ab12')).toEqual({ kind: 'text', q: 'bdoc_Ab12' });
    // One character short of a key is not a key: no hash is made of a typo.
    expect(parseKeySearch(KEY.slice(0, -1)).kind).toBe('text');
  });
});
