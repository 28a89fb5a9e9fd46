import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { get, put } from '../../lib/api';
import type { Subscription } from '../../lib/types';
import { usageQuery } from '../usage/api';

export const subscriptionQuery = queryOptions({ queryKey: ['subscription'], queryFn: () => get<Subscription>('/api/subscription') });

/** A plan change: the subscription (from the answer), who is signed in (the plan in the sidebar) and the quotas. */
export function useChangePlan() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (plan: string) => put<Subscription>('/api/subscription', { plan }),
    onSuccess: (next) => {
      queryClient.setQueryData(subscriptionQuery.queryKey, next);
      void queryClient.invalidateQueries({ queryKey: ['me'] });
      void queryClient.invalidateQueries({ queryKey: usageQuery.queryKey });
    },
  });
}
