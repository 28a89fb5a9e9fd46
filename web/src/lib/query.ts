import { QueryCache, QueryClient, MutationCache } from '@tanstack/react-query';
import { ApiError } from './api';

/** A 401 anywhere means the session ended: refresh who is signed in, which shows the sign-in page. */
function onError(error: unknown) {
  if (error instanceof ApiError && error.status === 401) void queryClient.invalidateQueries({ queryKey: ['me'] });
}

export const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({
    onError,
    // Every change the portal makes is written to the audit log: an open log refreshes.
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['audit'] }),
  }),
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      refetchOnWindowFocus: true,
      // A 4xx answer will not change by asking again; network and 5xx errors might.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
});
