import type { Role } from './vocabulary.js';

/** Who did something: a signed-in person, or the operator's CLI (no user). */
export interface Actor {
  orgId: string;
  userId: string | null;
  email: string | null;
  role: Role | 'operator';
  ip: string | null;
}
