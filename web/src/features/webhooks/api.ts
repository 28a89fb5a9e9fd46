import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { del, get, patch, post } from '../../lib/api';
import type { Paged, WebhookDelivery, WebhookEndpoint, WebhookEventType, WebhookWithSecret } from '../../lib/types';

/** Every event type an endpoint can ask for (CONTRACT §11), with what it means. */
export const EVENT_TYPES: Array<{ value: WebhookEventType; label: string }> = [
  { value: 'api_key.created', label: 'Key created' },
  { value: 'api_key.updated', label: 'Key changed' },
  { value: 'api_key.suspended', label: 'Key suspended' },
  { value: 'api_key.resumed', label: 'Key resumed' },
  { value: 'api_key.rotated', label: 'Key rotated' },
  { value: 'api_key.revoked', label: 'Key revoked' },
  { value: 'api_key.deleted', label: 'Key deleted' },
  { value: 'api_key.expiring', label: 'Key about to expire (14, 7, 1 days)' },
  { value: 'api_key.expired', label: 'Key expired' },
  { value: 'api_key.exposed', label: 'Key found exposed' },
  { value: 'api_key.revoked_key_used', label: 'Revoked key still called' },
  { value: 'quota.threshold', label: 'Quota 80 % or 100 % used' },
  { value: 'member.invited', label: 'Person invited' },
  { value: 'member.joined', label: 'Person joined' },
  { value: 'member.deactivated', label: 'Person deactivated' },
  { value: 'subscription.changed', label: 'Subscription changed' },
];

const keys = {
  all: ['webhooks'] as const,
  list: (page: number) => [...keys.all, 'list', page] as const,
  deliveries: (id: string, page: number) => [...keys.all, id, 'deliveries', page] as const,
};

export const WEBHOOKS_PAGE = 10;

/** The organisation's endpoints, newest first, a page at a time. */
export function webhooksQuery(page: number) {
  return queryOptions({
    queryKey: keys.list(page),
    queryFn: () => get<Paged<WebhookEndpoint>>('/api/webhooks', { limit: WEBHOOKS_PAGE, offset: (page - 1) * WEBHOOKS_PAGE }),
    placeholderData: keepPreviousData,
  });
}

export const DELIVERIES_PAGE = 20;

export function useDeliveries(id: string | null, page: number) {
  return useQuery({
    queryKey: keys.deliveries(id ?? '', page),
    queryFn: () => get<Paged<WebhookDelivery>>(`/api/webhooks/${id}/deliveries`, { limit: DELIVERIES_PAGE, offset: (page - 1) * DELIVERIES_PAGE }),
    enabled: id !== null,
    placeholderData: keepPreviousData,
    // Attempts land in the background: keep the log fresh while it is open.
    refetchInterval: 5000,
  });
}

/** Each change refreshes the list; tests and rotations refresh that endpoint's deliveries too. */
export function useWebhookMutations() {
  const client = useQueryClient();
  const refresh = () => client.invalidateQueries({ queryKey: keys.all });
  return {
    create: useMutation({
      mutationFn: (input: { url: string; eventTypes: WebhookEventType[]; description?: string }) => post<WebhookWithSecret>('/api/webhooks', input),
      onSuccess: refresh,
    }),
    update: useMutation({
      mutationFn: ({ id, ...changes }: { id: string; enabled?: boolean; url?: string; eventTypes?: WebhookEventType[]; description?: string | null }) =>
        patch<WebhookEndpoint>(`/api/webhooks/${id}`, changes),
      onSuccess: refresh,
    }),
    remove: useMutation({ mutationFn: (id: string) => del<void>(`/api/webhooks/${id}`), onSuccess: refresh }),
    rotate: useMutation({ mutationFn: (id: string) => post<WebhookWithSecret>(`/api/webhooks/${id}/rotate-secret`), onSuccess: refresh }),
    test: useMutation({ mutationFn: (id: string) => post<WebhookDelivery>(`/api/webhooks/${id}/test`), onSuccess: refresh }),
  };
}
