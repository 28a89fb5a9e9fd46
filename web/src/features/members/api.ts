import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { del, get, patch, post } from '../../lib/api';
import type { Invitation, Member, Paged, Role } from '../../lib/types';

/**
 * The people of the organisation and their invitations. Query keys: `['members', …]` (every
 * list of people, their key counts), `['invitations']` the pending invitations.
 */
export const MEMBERS_PAGE_SIZE = 50;

/** Everyone in the organisation (owner and user filters): one query key and fetch for every page. */
export const allMembersQuery = queryOptions({
  queryKey: ['members', 'all'],
  queryFn: () => get<Paged<Member>>('/api/members', { limit: 200 }),
  staleTime: 60_000,
});

export function membersQuery(page: number) {
  return queryOptions({
    queryKey: ['members', page],
    queryFn: () => get<Paged<Member>>('/api/members', { limit: MEMBERS_PAGE_SIZE, offset: (page - 1) * MEMBERS_PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
}

/** A role change: the lists of people. */
export function useChangeRole() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) => patch(`/api/members/${id}`, { role }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['members'] }),
  });
}

/** Deactivating: the people, their keys (flagged) and the invitations they sent (revoked). */
export function useDeactivateMember() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => post(`/api/members/${id}/deactivate`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['members'] });
      void queryClient.invalidateQueries({ queryKey: ['keys'] });
      void queryClient.invalidateQueries({ queryKey: ['invitations'] });
    },
  });
}

/** Inviting: the pending invitations. */
export function useInvite() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { email: string; role: Role }) => post<{ invitation: Invitation; url: string }>('/api/invitations', input),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['invitations'] }),
  });
}

/** The invitations not yet accepted, withdrawn or expired (Admins only). */
export const invitationsQuery = queryOptions({
  queryKey: ['invitations'],
  queryFn: () => get<Paged<Invitation>>('/api/invitations', { limit: 100 }),
});

/** Resending makes a new link (the old one stops working): the pending list, whose expiry moved. */
export function useResendInvitation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => post<{ invitation: Invitation; url: string }>(`/api/invitations/${id}/resend`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: invitationsQuery.queryKey }),
  });
}

/** Withdrawing: the pending list. */
export function useWithdrawInvitation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => del<void>(`/api/invitations/${id}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: invitationsQuery.queryKey }),
  });
}
