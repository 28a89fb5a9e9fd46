import { Badge, Table, UnstyledButton, VisuallyHidden } from '@mantine/core';
import { IconChevronDown, IconChevronUp, IconSelector } from '@tabler/icons-react';
import { memo, type ReactNode } from 'react';
import { CardTable } from '../../components/CardTable';
import { KeyStatusBadge } from '../../components/KeyStatusBadge';
import { ExposedBadge } from '../../components/ExposedBadge';
import { ExactDate, RelativeTime } from '../../components/RelativeTime';
import { TableSkeleton } from '../../components/states';
import { ENVIRONMENT_LABEL, maskKey, number } from '../../lib/format';
import { Link } from '../../lib/router';
import { useSession } from '../../lib/session';
import type { ApiKey } from '../../lib/types';
import { keyActionsFor, type KeyAction } from './key-rules';
import { KeyRowMenu } from './KeyRowMenu';
import type { SortField } from './list-state';

const KEY_TABLE_COLUMNS = 9;

type Sort = { sort: SortField; order: 'asc' | 'desc' };

function SortHeader({ field, label, sort, onSort }: { field: SortField; label: string; sort: Sort; onSort: (field: SortField) => void }) {
  const active = sort.sort === field;
  const Icon = active ? (sort.order === 'asc' ? IconChevronUp : IconChevronDown) : IconSelector;
  return (
    <Table.Th aria-sort={active ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <UnstyledButton className="sort-button" onClick={() => onSort(field)}>
        {label}
        <Icon size={14} aria-hidden />
      </UnstyledButton>
    </Table.Th>
  );
}

const dash = <span className="dimmed">—</span>;

/**
 * One key as a table row. A page shows 25 of them, so cells are plain elements styled by
 * `.card-table` (styles.css, see CardTable) rather than a Mantine component per cell, and rows are memoised
 * (the query keeps unchanged keys identical). Below 48em the same rows become cards, their
 * facts named by the `data-label`s.
 */
const KeyRow = memo(function KeyRow({ apiKey, onAction }: { apiKey: ApiKey; onAction: (action: KeyAction, key: ApiKey) => void }) {
  const me = useSession();
  return (
    <tr>
      <td className="card-table-title">
        <Link href={`/keys/${apiKey.id}`} className="card-table-link">
          {apiKey.name}
        </Link>
        <span className="mono dimmed card-table-note">{maskKey(apiKey)}</span>
        {apiKey.replacesKeyId && <span className="dimmed card-table-note">Rotated successor</span>}
      </td>
      <td data-label="Status">
        <KeyStatusBadge apiKey={apiKey} />
        {apiKey.exposedAt && (
          <span className="card-table-note">
            <ExposedBadge apiKey={apiKey} size="xs" />
          </span>
        )}
      </td>
      <td data-label="Environment">
        {apiKey.environment ? ENVIRONMENT_LABEL[apiKey.environment] : dash}
        {apiKey.team && <span className="dimmed card-table-note">{apiKey.team}</span>}
      </td>
      <td data-label="Owner">
        {apiKey.createdBy?.name ?? 'Operator'}
        {apiKey.createdBy?.deactivated && (
          <Badge size="xs" color="orange" variant="light" display="block" w="fit-content">
            Owner deactivated
          </Badge>
        )}
      </td>
      <td data-label="Created">
        <ExactDate iso={apiKey.createdAt} short />
      </td>
      <td data-label="Last used" className="card-table-wrap">
        <RelativeTime iso={apiKey.lastUsedAt} />
      </td>
      <td data-label="Expires">
        <ExactDate iso={apiKey.expiresAt} empty="Never" short />
      </td>
      <td data-label="Flows" className="card-table-number">
        {number.format(apiKey.flowCount)}
      </td>
      <td className="card-table-menu">
        <KeyRowMenu apiKey={apiKey} rules={keyActionsFor(me.user, apiKey)} onAction={onAction} />
      </td>
    </tr>
  );
});

/** The organisation's keys: sortable headers, one row per key (cards on narrow screens). */
export function KeyTable({
  keys,
  loading,
  busy,
  dimmed,
  sort,
  onSort,
  onAction,
}: {
  keys: ApiKey[] | undefined;
  loading: boolean;
  busy: boolean;
  dimmed: boolean;
  sort: Sort;
  onSort: (field: SortField) => void;
  onAction: (action: KeyAction, key: ApiKey) => void;
}) {
  let body: ReactNode = null;
  if (loading) body = <TableSkeleton columns={KEY_TABLE_COLUMNS} />;
  else if (keys) body = keys.map((key) => <KeyRow key={key.id} apiKey={key} onAction={onAction} />);
  return (
    <CardTable aria-label="API keys" aria-busy={busy} style={{ opacity: dimmed ? 0.6 : 1 }}>
      <Table.Thead>
        <Table.Tr>
          <SortHeader field="name" label="Name" sort={sort} onSort={onSort} />
          <Table.Th>Status</Table.Th>
          <Table.Th>Environment</Table.Th>
          <Table.Th>Owner</Table.Th>
          <SortHeader field="createdAt" label="Created" sort={sort} onSort={onSort} />
          <SortHeader field="lastUsedAt" label="Last used" sort={sort} onSort={onSort} />
          <SortHeader field="expiresAt" label="Expires" sort={sort} onSort={onSort} />
          <Table.Th ta="right">Flows</Table.Th>
          <Table.Th>
            <VisuallyHidden>Actions</VisuallyHidden>
          </Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>{body}</Table.Tbody>
    </CardTable>
  );
}
