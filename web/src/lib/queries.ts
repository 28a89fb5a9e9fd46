import { queryOptions } from '@tanstack/react-query';
import { get } from './api';
import type { Member, Paged } from './types';

/** Everyone in the organisation (owner and user filters): one query key and fetch for every page. */
export const allMembersQuery = queryOptions({
  queryKey: ['members', 'all'],
  queryFn: () => get<Paged<Member>>('/api/members', { limit: 200 }),
  staleTime: 60_000,
});
