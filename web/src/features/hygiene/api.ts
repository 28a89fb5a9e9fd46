import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, post } from '../../lib/api';
import type { ApiKey, Hygiene } from '../../lib/types';

export const hygieneKey = ['hygiene'] as const;

export function useHygiene() {
  return useQuery({ queryKey: hygieneKey, queryFn: () => get<Hygiene>('/api/hygiene'), refetchInterval: 60_000 });
}

/** A bulk change touches every key list and page, and the findings. */
export function useBulkChange() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { action: 'revoke' | 'suspend'; keyIds: string[] }) => post<{ items: ApiKey[] }>('/api/keys/bulk', input),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: hygieneKey });
      void client.invalidateQueries({ queryKey: ['keys'] });
      void client.invalidateQueries({ queryKey: ['key'] });
    },
  });
}

/** What each action means to a person. */
export const ACTION_LABEL = {
  rotate: 'Rotate',
  // A revoked or expired key cannot be rotated: its flows need another key.
  replace: 'Give their flows a new key (create a key, then update the connection in each flow)',
  revoke: 'Revoke',
  reassign_owner: 'Hand to someone else',
  set_expiry: 'Set an expiry',
} as const;
