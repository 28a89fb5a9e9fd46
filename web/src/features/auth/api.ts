import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, get, post } from '../../lib/api';
import { sessionHint } from '../../lib/session';
import type { InvitationPreview, Me, SessionView } from '../../lib/types';

/**
 * Who is signed in: the person and organisation, or null when nobody is. The session probe
 * answers 200 either way, so a signed-out visit logs no failed request.
 */
export const meQuery = queryOptions({
  queryKey: ['me'],
  queryFn: async (): Promise<Me | null> => {
    const session = await get<SessionView>('/api/session');
    sessionHint.set(session.signedIn);
    if (!session.signedIn) return null;
    const { signedIn: _, ...me } = session;
    return me;
  },
  staleTime: 60_000,
});

/** Who invites whom, to what: read from the link before anyone has an account. */
export function invitationPreviewQuery(token: string | null) {
  return queryOptions({
    queryKey: ['invitation-preview', token],
    queryFn: () => api<InvitationPreview>('GET', `/api/invitations/${encodeURIComponent(token ?? '')}`),
    enabled: Boolean(token),
    retry: false,
  });
}

/** Signing in as someone (sign-in, sign-up, accepting an invitation) forgets everything cached for whoever was before. */
function useSessionMutation<Input>(path: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: Input) => post<Me>(path, input),
    onSuccess: (me) => {
      queryClient.clear();
      sessionHint.set(true);
      queryClient.setQueryData(meQuery.queryKey, me);
    },
  });
}

export const useSignIn = () => useSessionMutation<{ email: string; password: string }>('/api/auth/signin');
export const useSignUp = () => useSessionMutation<{ name: string; email: string; organisation: string; password: string }>('/api/auth/signup');
export const useAcceptInvitation = () => useSessionMutation<{ token: string; name: string; password: string }>('/api/invitations/accept');

/** Signing out forgets every cached answer, then asks who is signed in (nobody). */
export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => post<void>('/api/auth/signout'),
    onSuccess: () => {
      sessionHint.set(false);
      queryClient.clear();
    },
  });
}
