import { Badge } from '@mantine/core';
import { STATUS_COLOR, STATUS_LABEL, displayStatus } from '../lib/format';
import type { ApiKey } from '../lib/types';

export function KeyStatusBadge({ apiKey, size = 'sm' }: { apiKey: Pick<ApiKey, 'status' | 'expiresAt'>; size?: 'xs' | 'sm' | 'md' | 'lg' }) {
  const status = displayStatus(apiKey);
  return (
    <Badge color={STATUS_COLOR[status]} variant="light" size={size} style={{ whiteSpace: 'nowrap', minWidth: 'max-content' }}>
      {STATUS_LABEL[status]}
    </Badge>
  );
}
