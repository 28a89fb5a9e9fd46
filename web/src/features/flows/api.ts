import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, patch } from '../../lib/api';
import type { ApiKey, InventoryFlow, Paged } from '../../lib/types';

export const FLOWS_PAGE = 25;

export interface FlowFilter {
  environment?: string;
  onRevokedOrExpiring?: boolean;
  keyId?: string;
  page: number;
}

const flowKeys = {
  all: ['flows'] as const,
  list: (filter: FlowFilter) => [...flowKeys.all, 'list', filter] as const,
};

/** The organisation's flows, a page at a time; calls land in the background, so it refreshes. */
export function useFlows(filter: FlowFilter) {
  return useQuery({
    queryKey: flowKeys.list(filter),
    queryFn: () =>
      get<Paged<InventoryFlow>>('/api/flows', {
        limit: FLOWS_PAGE,
        offset: (filter.page - 1) * FLOWS_PAGE,
        environment: filter.environment,
        keyId: filter.keyId,
        onRevokedOrExpiring: filter.onRevokedOrExpiring ? 'true' : undefined,
      }),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
}

/** The organisation's keys to filter the flows by, by name (the largest page the API gives). */
export function useKeyChoices() {
  return useQuery({
    queryKey: ['keys', 'choices'],
    queryFn: () => get<Paged<ApiKey>>('/api/keys', { sort: 'name', order: 'asc', limit: 200 }),
    select: (page) => page.items.map((k) => ({ value: k.id, label: `${k.name} (…${k.last4}${k.status === 'active' ? '' : `, ${k.status}`})` })),
  });
}

/** A label changes every list that shows the flow: the inventory, each key's flows, a rotation's checklist, usage by flow, hygiene findings. */
export function useLabelFlow() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, label }: { id: string; label: string | null }) => patch<InventoryFlow>(`/api/flows/${id}`, { label }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: flowKeys.all });
      void client.invalidateQueries({ queryKey: ['key'] });
      void client.invalidateQueries({ queryKey: ['rotation'] });
      void client.invalidateQueries({ queryKey: ['usage'] });
      void client.invalidateQueries({ queryKey: ['hygiene'] });
    },
  });
}

/** What a person calls a flow: its label, else its id in Power Automate. */
export function flowTitle(flow: { label: string | null; workflowName: string }): string {
  return flow.label ?? flow.workflowName;
}
