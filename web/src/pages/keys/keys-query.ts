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

/** The GET /api/keys query for that state (also the query key). */
export function keysListQuery(search: URLSearchParams) {
  const state = keysListState(search);
  return {
    q: state.q || undefined,
    status: state.status ?? undefined,
    environment: state.environment ?? undefined,
    ownerId: state.ownerId ?? undefined,
    sort: state.sort,
    order: state.order,
    limit: PAGE_SIZE,
    offset: (state.page - 1) * PAGE_SIZE,
  };
}
