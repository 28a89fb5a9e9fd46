import { createContext, useContext } from 'react';
import type { Me } from './types';
import { ROLE_LABEL } from './format';

/**
 * Whether this browser has signed in (the session cookie itself is HttpOnly, so the page cannot
 * see it). Only a hint, for asking for the key list early: the server's answer to /api/session decides.
 */
export const sessionHint = {
  get(): boolean {
    try {
      return localStorage.getItem('bdoc-signed-in') === '1';
    } catch {
      return true;
    }
  },
  set(signedIn: boolean): void {
    try {
      if (signedIn) localStorage.setItem('bdoc-signed-in', '1');
      else localStorage.removeItem('bdoc-signed-in');
    } catch {
      // storage unavailable (private mode): every load asks the server
    }
  },
};

/** The signed-in person and organisation, available to every page inside the shell. */
export const SessionContext = createContext<Me | null>(null);

export function useSession(): Me {
  const me = useContext(SessionContext);
  if (!me) throw new Error('useSession outside a signed-in page');
  return me;
}

/** A permission answer: allowed, or the reason it is not, in words for the person. */
export type Permission = { ok: true } | { ok: false; reason: string };

const allowed: Permission = { ok: true };
const denied = (reason: string): Permission => ({ ok: false, reason });

/** The role matrix of the contract, as the portal applies it to buttons and menus (for keys: features/keys/key-rules.ts). */
export const permissions = {
  createKey(me: Me): Permission {
    return me.user.role === 'viewer' ? denied('Viewers can look at keys but not create them; ask an Admin or a Member.') : allowed;
  },
  manageTeam(me: Me): Permission {
    return me.user.role === 'admin'
      ? allowed
      : denied(`Only Admins can invite people, change roles and deactivate people; you are a ${ROLE_LABEL[me.user.role]}.`);
  },
  viewAudit(me: Me): Permission {
    return me.user.role === 'viewer' ? denied('Viewers cannot see the audit log; ask an Admin of your organisation.') : allowed;
  },
  changePlan(me: Me, selfService: boolean | undefined): Permission {
    if (me.user.role !== 'admin') return denied('Only Admins can change the plan.');
    if (!selfService) return denied('Plan changes are made by the Build a Doc team for this service; contact them to change your plan.');
    return allowed;
  },
};
