import { describe, expect, it } from 'vitest';
import { parseKeyName, vagueNameWarning } from './names';

describe('a conventional key name says where the key is used', () => {
  it('prod-invoice-flow-finance is a production key of the finance team', () => {
    expect(parseKeyName('prod-invoice-flow-finance')).toEqual({ environment: 'production', team: 'finance' });
  });
  it('reads test and development words, in any case, with - or _ between parts', () => {
    expect(parseKeyName('UAT_quotes_sales')).toEqual({ environment: 'test', team: 'sales' });
    expect(parseKeyName('dev-reports-app-ops')).toEqual({ environment: 'development', team: 'ops' });
  });
  it('a name without an environment first, or too short to name a team, says nothing', () => {
    expect(parseKeyName('invoice-flow-finance')).toBeNull();
    expect(parseKeyName('prod-finance')).toBeNull();
    expect(parseKeyName('')).toBeNull();
  });
  it('vague names are warned about, conventional ones are not', () => {
    expect(vagueNameWarning('test')).toMatch(/does not say where the key is used/);
    expect(vagueNameWarning('prod-invoice-flow-finance')).toBeNull();
  });
});
