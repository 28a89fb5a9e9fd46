import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { del, get, patch, post } from '../../lib/api';
import type { ApiKey, Environment, Flow, IssuedKey, KeyUsage, Paged } from '../../lib/types';
import type { KeysListState } from './list-state';

/**
 * The key queries and mutations. Query keys: `['keys', …]` the lists, `['key', id]` one key and,
 * below it, its usage and flows. Every mutation says here which of them it makes stale.
 */
const keyKeys = {
  lists: ['keys'] as const,
  list: (query: Record<string, unknown>) => ['keys', query] as const,
  one: (id: string) => ['key', id] as const,
  usage: (id: string, from: string) => ['key', id, 'usage', from] as const,
  flows: (id: string) => ['key', id, 'flows'] as const,
};

/** GET /api/keys for that state: one query key and fetch for the page and its early request. */
export function keysQuery(state: KeysListState) {
  const query = {
    q: state.q || undefined,
    hash: state.hash ?? undefined,
    last4: state.last4 ?? undefined,
    status: state.status ?? undefined,
    environment: state.environment ?? undefined,
    ownerId: state.ownerId ?? undefined,
    // Asking for revoked keys by status shows them whatever the revoked filter says.
    revoked: state.status === 'revoked' ? undefined : state.revoked,
    sort: state.sort,
    order: state.order,
    limit: state.size,
    offset: (state.page - 1) * state.size,
  };
  return queryOptions({ queryKey: keyKeys.list(query), queryFn: () => get<Paged<ApiKey>>('/api/keys', query) });
}

/**
 * How many live keys the organisation has: the key limit counts these. The two status filters
 * together are exactly the server's `liveKey` (active or suspended, not deleted, not expired, not
 * past a rotation's grace period); an old key still in its grace period counts.
 */
export const liveKeyCountQuery = queryOptions({
  queryKey: ['keys', 'live-count'],
  queryFn: async () => {
    const count = (status: string) => get<Paged<ApiKey>>('/api/keys', { status, limit: 1 }).then((page) => page.total);
    const [active, suspended] = await Promise.all([count('active'), count('suspended')]);
    return active + suspended;
  },
});

/**
 * The key page says a call shows there within a few seconds: its key (last used), usage and flows
 * are asked again this often while the page is in view (react-query pauses in a hidden tab). The
 * server counts calls within a second of them (USAGE_FLUSH_MS).
 */
export const KEY_PAGE_REFRESH_MS = 5_000;

export function keyQuery(id: string) {
  return queryOptions({
    queryKey: keyKeys.one(id),
    queryFn: () => get<ApiKey>(`/api/keys/${encodeURIComponent(id)}`),
    refetchInterval: KEY_PAGE_REFRESH_MS,
  });
}

/** Requests per day from `periodStart` (the billing period, as the Usage and Subscription pages count it) to today. */
export function keyUsageQuery(id: string, periodStart: string | undefined) {
  const from = dayjs(periodStart).format('YYYY-MM-DD');
  const to = dayjs().format('YYYY-MM-DD');
  return queryOptions({
    queryKey: keyKeys.usage(id, from),
    queryFn: () => get<KeyUsage>(`/api/keys/${id}/usage`, { from, to }),
    refetchInterval: KEY_PAGE_REFRESH_MS,
  });
}

export function keyFlowsQuery(id: string) {
  return queryOptions({
    queryKey: keyKeys.flows(id),
    queryFn: () => get<Paged<Flow>>(`/api/keys/${id}/flows`, { limit: 200 }),
    refetchInterval: KEY_PAGE_REFRESH_MS,
  });
}

/**
 * After a key changed: the lists, the people's key counts and, unless it was deleted, the key's
 * own page. A deleted key's queries are dropped, not asked for again (they could only 404).
 * The mutations wait for it, so their dialogs close on the page as it now is: focus goes back
 * to a row or button that is still there, not to one about to disappear (lib/focus.ts).
 */
export function useInvalidateKeys() {
  const queryClient = useQueryClient();
  return async (id?: string, change?: 'deleted'): Promise<void> => {
    const refreshed = [queryClient.invalidateQueries({ queryKey: keyKeys.lists }), queryClient.invalidateQueries({ queryKey: ['members'] })];
    if (id && change === 'deleted') queryClient.removeQueries({ queryKey: keyKeys.one(id) });
    else if (id) refreshed.push(queryClient.invalidateQueries({ queryKey: keyKeys.one(id) }));
    await Promise.all(refreshed);
  };
}

export interface NewKey {
  name: string;
  environment: Environment | null;
  team: string | null;
  expiresInDays: number | null;
}

/** Creating a key: the lists and key counts. */
export function useCreateKey() {
  const invalidate = useInvalidateKeys();
  return useMutation({ mutationFn: (input: NewKey) => post<IssuedKey>('/api/keys', input), onSuccess: () => invalidate() });
}

/** Renaming: the lists and the key (the answer carries the server's naming warnings). */
export function useRenameKey() {
  const invalidate = useInvalidateKeys();
  return useMutation({
    mutationFn: ({ id, name }: { id: string; name: string }) => patch<{ key: ApiKey; warnings: string[] }>(`/api/keys/${id}`, { name }),
    onSuccess: ({ key }) => invalidate(key.id),
  });
}

/** Suspending or resuming: the lists and the key. */
export function useSuspendKey() {
  const invalidate = useInvalidateKeys();
  return useMutation({ mutationFn: (id: string) => post<ApiKey>(`/api/keys/${id}/suspend`), onSuccess: (key) => invalidate(key.id) });
}

export function useResumeKey() {
  const invalidate = useInvalidateKeys();
  return useMutation({ mutationFn: (id: string) => post<ApiKey>(`/api/keys/${id}/resume`), onSuccess: (key) => invalidate(key.id) });
}

/** Rotating: the lists and the old key (now replaced). */
export function useRotateKey() {
  const invalidate = useInvalidateKeys();
  return useMutation({
    mutationFn: ({ id, graceHours }: { id: string; graceHours?: number }) =>
      post<IssuedKey>(`/api/keys/${id}/rotate`, graceHours === undefined ? {} : { graceHours }),
    onSuccess: (issued) => invalidate(issued.key.replacesKeyId ?? undefined),
  });
}

/** Revoking refreshes the key; deleting drops its queries. */
export function useEndKey() {
  const invalidate = useInvalidateKeys();
  return useMutation({
    mutationFn: async ({ id, action }: { id: string; action: 'revoke' | 'delete' }) => {
      if (action === 'delete') await del(`/api/keys/${id}`);
      else await post(`/api/keys/${id}/revoke`);
    },
    onSuccess: (_done, { id, action }) => invalidate(id, action === 'delete' ? 'deleted' : undefined),
  });
}
