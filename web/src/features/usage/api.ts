import { queryOptions } from '@tanstack/react-query';
import { get } from '../../lib/api';
import type { OrgUsage } from '../../lib/types';

/** This period's usage. Changing the plan makes it stale (subscription/api.ts). */
export const usageQuery = queryOptions({ queryKey: ['usage'], queryFn: () => get<OrgUsage>('/api/usage'), refetchInterval: 30_000 });
