import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { get } from '../../lib/api';
import type { AuditEntry, Paged } from '../../lib/types';

/**
 * The audit log. Every mutation of the portal writes to it, so the query client refreshes
 * `['audit']` after any successful mutation (lib/query.ts); nothing here needs invalidating.
 */
export const AUDIT_PAGE_SIZE = 50;

export interface AuditFilters {
  from?: string;
  to?: string;
  userId?: string;
  eventType?: string;
}

export function auditQuery(filters: AuditFilters, page: number) {
  return queryOptions({
    queryKey: ['audit', filters, page],
    queryFn: () => get<Paged<AuditEntry>>('/api/audit', { ...filters, limit: AUDIT_PAGE_SIZE, offset: (page - 1) * AUDIT_PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
}

/** The latest events about one resource (a key's history). */
export function resourceHistoryQuery(resourceId: string) {
  return queryOptions({
    queryKey: ['audit', { resourceId }],
    queryFn: () => get<Paged<AuditEntry>>('/api/audit', { resourceId, limit: 50 }),
  });
}
