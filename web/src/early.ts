import { keysListQuery } from './pages/keys/keys-query';
import { get } from './lib/api';
import { queryClient } from './lib/query';
import { sessionHint } from './lib/session';
import type { Member, Paged } from './lib/types';

/**
 * The API Keys page is where most visits land: when this browser is signed in, ask for the
 * list while React is still starting, instead of after /api/me has answered.
 */
export function startEarlyRequests(): void {
  if (!sessionHint.get()) return;
  const { pathname, search } = window.location;
  if (pathname !== '/' && pathname !== '/keys') return;
  const query = keysListQuery(new URLSearchParams(search));
  void queryClient.prefetchQuery({ queryKey: ['keys', query], queryFn: () => get('/api/keys', query) });
  void queryClient.prefetchQuery({ queryKey: ['members', 'all'], queryFn: () => get<Paged<Member>>('/api/members', { limit: 200 }) });
}
