import { keysQuery } from './features/keys/api';
import { keysListState } from './features/keys/list-state';
import { allMembersQuery } from './features/members/api';
import { queryClient } from './lib/query';
import { sessionHint } from './lib/session';

/**
 * The API Keys page is where most visits land: when this browser is signed in, ask for the
 * list while React is still starting, instead of after /api/me has answered.
 */
export function startEarlyRequests(): void {
  if (!sessionHint.get()) return;
  const { pathname, search } = window.location;
  if (pathname !== '/' && pathname !== '/keys') return;
  void queryClient.prefetchQuery(keysQuery(keysListState(new URLSearchParams(search))));
  void queryClient.prefetchQuery(allMembersQuery);
}
