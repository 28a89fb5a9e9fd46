import { hash } from 'node:crypto';

/** Hex SHA-256: how API keys, session tokens and invitation tokens are stored. */
export function sha256Hex(value: string): string {
  // One-shot `crypto.hash` is ~3x faster than createHash() for short strings (gateway hot path).
  return hash('sha256', value, 'hex');
}
