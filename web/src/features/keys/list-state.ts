import { withQuery } from '../../lib/api';

export const PAGE_SIZES = [10, 25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 25;
export type SortField = 'createdAt' | 'name' | 'lastUsedAt' | 'expiresAt';
export type RevokedFilter = 'hide' | 'show' | 'only';

function pageSize(raw: string | null): number {
  const size = Number(raw);
  return (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_PAGE_SIZE;
}

function revokedFilter(raw: string | null): RevokedFilter {
  return raw === 'show' || raw === 'only' ? raw : 'hide';
}

/**
 * The key list's state, as kept in the address (`/keys?status=active&page=2`). A pasted whole
 * key is kept only as its SHA-256 (`hash`), never as itself, so it stays out of the history.
 */
export function keysListState(search: URLSearchParams) {
  return {
    q: search.get('q') ?? '',
    hash: search.get('hash'),
    last4: search.get('last4'),
    status: search.get('status'),
    environment: search.get('environment'),
    ownerId: search.get('ownerId'),
    revoked: revokedFilter(search.get('revoked')),
    sort: (search.get('sort') as SortField | null) ?? 'createdAt',
    order: (search.get('order') as 'asc' | 'desc' | null) ?? 'desc',
    page: Math.max(1, Number(search.get('page')) || 1),
    size: pageSize(search.get('size')),
  };
}

export type KeysListState = ReturnType<typeof keysListState>;

/** The address of the list in that state; defaults are left out. */
export function keysListHref(state: KeysListState): string {
  return withQuery('/keys', {
    q: state.q,
    hash: state.hash,
    last4: state.last4,
    status: state.status,
    environment: state.environment,
    ownerId: state.ownerId,
    revoked: state.revoked === 'hide' ? undefined : state.revoked,
    sort: state.sort === 'createdAt' ? undefined : state.sort,
    order: state.order === 'desc' ? undefined : state.order,
    page: state.page > 1 ? state.page : undefined,
    size: state.size === DEFAULT_PAGE_SIZE ? undefined : state.size,
  });
}
