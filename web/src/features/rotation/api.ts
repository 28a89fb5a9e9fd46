import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, patch, post } from '../../lib/api';
import type { ApiKey, IssuedKey, Rotation } from '../../lib/types';

/** How often the checklist refreshes while the page is open: flows move in the background. */
export const ROTATION_REFRESH_MS = 3000;

const rotationKey = (keyId: string) => ['rotation', keyId] as const;

export function useRotation(keyId: string) {
  return useQuery({
    queryKey: rotationKey(keyId),
    queryFn: () => get<Rotation>(`/api/keys/${keyId}/rotation`),
    refetchInterval: ROTATION_REFRESH_MS,
  });
}

/** Revoking the old key or letting it revoke itself changes the rotation and both keys' pages and lists. */
export function useRotationMutations(keyId: string) {
  const client = useQueryClient();
  const refresh = () => {
    void client.invalidateQueries({ queryKey: rotationKey(keyId) });
    void client.invalidateQueries({ queryKey: ['keys'] });
    void client.invalidateQueries({ queryKey: ['key'] });
  };
  return {
    revokeOld: useMutation({ mutationFn: (oldId: string) => post<ApiKey>(`/api/keys/${oldId}/revoke`), onSuccess: refresh }),
    setRevokeWhenDrained: useMutation({
      mutationFn: (on: boolean) => patch<Rotation>(`/api/keys/${keyId}/rotation`, { revokeWhenDrained: on }),
      onSuccess: refresh,
    }),
  };
}

/**
 * The new key's secret, handed from the rotate dialog to the rotation page in memory only (never
 * in the address or storage): the page shows it once, and a reload no longer has it.
 */
let handedOver: { oldKeyId: string; issued: IssuedKey } | null = null;

export function openRotation(oldKeyId: string, issued: IssuedKey, go: (href: string) => void): void {
  handedOver = { oldKeyId, issued };
  go(`/keys/${oldKeyId}/rotation`);
}

/** The secret handed over for this rotation, until it is dismissed (a page drawn twice still has it). */
export function handedOverSecret(oldKeyId: string): IssuedKey | null {
  return handedOver?.oldKeyId === oldKeyId ? handedOver.issued : null;
}

export function forgetHandedOverSecret(): void {
  handedOver = null;
}
