import { withQuery } from '../../lib/api';

export const PAGE_SIZE = 25;
export type SortField = 'createdAt' | 'name' | 'lastUsedAt' | 'expiresAt';

/** The key list's state, as kept in the address (`/keys?status=active&page=2`). */
export function keysListState(search: URLSearchParams) {
  return {
    q: search.get('q') ?? '',
    status: search.get('status'),
    environment: search.get('environment'),
    ownerId: search.get('ownerId'),
    sort: (search.get('sort') as SortField | null) ?? 'createdAt',
    order: (search.get('order') as 'asc' | 'desc' | null) ?? 'desc',
    page: Math.max(1, Number(search.get('page')) || 1),
  };
}

export type KeysListState = ReturnType<typeof keysListState>;

/** The address of the list in that state; defaults are left out. */
export function keysListHref(state: KeysListState): string {
  return withQuery('/keys', {
    q: state.q,
    status: state.status,
    environment: state.environment,
    ownerId: state.ownerId,
    sort: state.sort === 'createdAt' ? undefined : state.sort,
    order: state.order === 'desc' ? undefined : state.order,
    page: state.page > 1 ? state.page : undefined,
  });
}
