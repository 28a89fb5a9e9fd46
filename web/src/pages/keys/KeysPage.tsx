import { Anchor, Badge, Button, Group, Pagination, Paper, Select, Stack, Table, Text, TextInput, UnstyledButton, VisuallyHidden } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { IconAlertTriangle, IconChevronDown, IconChevronUp, IconKey, IconPlus, IconSearch, IconSelector } from '@tabler/icons-react';
import { useEffect, useState, type ReactNode } from 'react';
import { Empty, ErrorState, TableSkeleton } from '../../components/states';
import { KeyStatusBadge } from '../../components/KeyStatusBadge';
import { PageHeader } from '../../components/PageHeader';
import { ExactDate, RelativeTime } from '../../components/RelativeTime';
import { get } from '../../lib/api';
import { ENVIRONMENT_LABEL, maskKey, number, plural } from '../../lib/format';
import { Link, navigate, useLocation } from '../../lib/router';
import { permissions, useSession } from '../../lib/session';
import type { ApiKey, Environment, IssuedKey, Member, Paged } from '../../lib/types';
import { CreateKeyModal } from './CreateKeyModal';
import { PAGE_SIZE, keysListQuery, keysListState, type SortField } from './keys-query';
import { useKeyActions } from './KeyActions';
import { KeyRowMenu } from './KeyRowMenu';
import { SecretModal } from './SecretModal';


const STATUS_FILTER = [
  { value: 'active', label: 'Active' },
  { value: 'expiring', label: 'Expiring soon' },
  { value: 'suspended', label: 'Suspended' },
  { value: 'expired', label: 'Expired' },
  { value: 'revoked', label: 'Revoked' },
];
const ENVIRONMENT_FILTER = (Object.keys(ENVIRONMENT_LABEL) as Environment[]).map((value) => ({ value, label: ENVIRONMENT_LABEL[value] }));

/** The list's state lives in the address, so a filtered list can be linked to and survives reloads. */
function useListState() {
  const { search } = useLocation();
  const state = keysListState(search);
  const update = (patch: Partial<typeof state>) => {
    const next = { ...state, ...('page' in patch ? {} : { page: 1 }), ...patch };
    const params = new URLSearchParams();
    if (next.q) params.set('q', next.q);
    if (next.status) params.set('status', next.status);
    if (next.environment) params.set('environment', next.environment);
    if (next.ownerId) params.set('ownerId', next.ownerId);
    if (next.sort !== 'createdAt') params.set('sort', next.sort);
    if (next.order !== 'desc') params.set('order', next.order);
    if (next.page > 1) params.set('page', String(next.page));
    const text = params.toString();
    navigate(`/keys${text ? `?${text}` : ''}`, { replace: true });
  };
  return [state, update] as const;
}

function SortHeader({ field, label, state, onSort }: { field: SortField; label: string; state: { sort: SortField; order: 'asc' | 'desc' }; onSort: (field: SortField) => void }) {
  const active = state.sort === field;
  const Icon = active ? (state.order === 'asc' ? IconChevronUp : IconChevronDown) : IconSelector;
  return (
    <Table.Th aria-sort={active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <UnstyledButton className="sort-button" onClick={() => onSort(field)}>
        {label}
        <Icon size={14} aria-hidden />
      </UnstyledButton>
    </Table.Th>
  );
}

export function KeysPage() {
  const me = useSession();
  const [state, update] = useListState();
  const [search, setSearch] = useState(state.q);
  const [debounced] = useDebouncedValue(search, 250);
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const actions = useKeyActions();
  const canCreate = permissions.createKey(me);

  useEffect(() => {
    if (debounced !== state.q) update({ q: debounced });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);

  const { search: params } = useLocation();
  const query = keysListQuery(params);
  const keys = useQuery({
    queryKey: ['keys', query],
    queryFn: () => get<Paged<ApiKey>>('/api/keys', query),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
  const members = useQuery({ queryKey: ['members', 'all'], queryFn: () => get<Paged<Member>>('/api/members', { limit: 200 }), staleTime: 60_000 });
  const owners = (members.data?.items ?? []).map((m) => ({ value: m.id, label: m.status === 'deactivated' ? `${m.name} (deactivated)` : m.name }));
  if (state.ownerId && !owners.some((o) => o.value === state.ownerId)) owners.push({ value: state.ownerId, label: 'Selected person' });

  const onSort = (field: SortField) => {
    if (state.sort === field) update({ order: state.order === 'asc' ? 'desc' : 'asc' });
    else update({ sort: field, order: field === 'name' ? 'asc' : 'desc' });
  };
  const filtered = Boolean(state.q || state.status || state.environment || state.ownerId);
  const total = keys.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const ownerName = state.ownerId ? owners.find((o) => o.value === state.ownerId)?.label : null;

  let body: ReactNode;
  if (keys.isPending) body = <TableSkeleton columns={11} />;
  else if (keys.isError && !keys.data) body = null;
  else if (keys.data && keys.data.items.length === 0) body = null;
  else
    body = keys.data!.items.map((key) => (
      <Table.Tr key={key.id}>
        <Table.Td miw={200} maw={320} style={{ whiteSpace: 'normal' }}>
          <Anchor component={Link} href={`/keys/${key.id}`} fw={600} size="sm" underline="hover">
            {key.name}
          </Anchor>
          {key.replacesKeyId && (
            <Text size="xs" c="dimmed">
              Rotated successor
            </Text>
          )}
        </Table.Td>
        <Table.Td>
          <span className="mono">{maskKey(key)}</span>
        </Table.Td>
        <Table.Td>
          <KeyStatusBadge apiKey={key} />
        </Table.Td>
        <Table.Td>{key.environment ? ENVIRONMENT_LABEL[key.environment] : <Text span size="sm" c="dimmed">—</Text>}</Table.Td>
        <Table.Td>{key.team ?? <Text span size="sm" c="dimmed">—</Text>}</Table.Td>
        <Table.Td>
          <Text size="sm">
            {key.createdBy?.name ?? 'Operator'}
          </Text>
          {key.createdBy?.deactivated && (
            <Badge size="xs" color="orange" variant="light">
              Owner deactivated
            </Badge>
          )}
        </Table.Td>
        <Table.Td>
          <ExactDate iso={key.createdAt} short />
        </Table.Td>
        <Table.Td>
          <RelativeTime iso={key.lastUsedAt} />
        </Table.Td>
        <Table.Td>
          <ExactDate iso={key.expiresAt} empty="Never" short />
        </Table.Td>
        <Table.Td ta="right">{number.format(key.flowCount)}</Table.Td>
        <Table.Td>
          <KeyRowMenu apiKey={key} permission={permissions.manageKey(me, key)} onAction={actions.open} />
        </Table.Td>
      </Table.Tr>
    ));

  return (
    <>
      <PageHeader
        title="API Keys"
        description="Keys your Power Automate flows and Power Apps use to call Build a Doc. A key is shown only once, when it is created."
        actions={
          <Stack gap={4} align="flex-end">
            <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)} disabled={!canCreate.ok}>
              Create New Key
            </Button>
            {!canCreate.ok && (
              <Text size="xs" c="dimmed" maw={280} ta="right">
                {canCreate.reason}
              </Text>
            )}
          </Stack>
        }
      />
      <Paper withBorder radius="md" p={{ base: 'sm', sm: 'md' }}>
        <Group gap="sm" mb="md" align="flex-end" wrap="wrap">
          <TextInput
            label="Search"
            placeholder="Name, team, bdoc_… or last 4"
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            style={{ flex: '2 1 220px' }}
          />
          <Select label="Status" placeholder="Any status" data={STATUS_FILTER} value={state.status} onChange={(v) => update({ status: v })} clearable style={{ flex: '1 1 140px' }} />
          <Select label="Environment" placeholder="Any environment" data={ENVIRONMENT_FILTER} value={state.environment} onChange={(v) => update({ environment: v })} clearable style={{ flex: '1 1 140px' }} />
          <Select label="Owner" placeholder="Anyone" data={owners} value={state.ownerId} onChange={(v) => update({ ownerId: v })} clearable searchable style={{ flex: '1 1 160px' }} />
        </Group>
        {ownerName && (
          <Text size="sm" mb="sm">
            Showing keys created by <b>{ownerName}</b>.{' '}
            <Anchor component="button" size="sm" onClick={() => update({ ownerId: null })}>
              Show everyone's
            </Anchor>
          </Text>
        )}
        {keys.isError && <ErrorState error={keys.error} onRetry={() => void keys.refetch()} title="The keys could not be loaded" />}
        {!keys.isError || keys.data ? (
          <Table.ScrollContainer minWidth={1000} type="native">
            <Table verticalSpacing="sm" highlightOnHover aria-label="API keys" aria-busy={keys.isFetching} style={{ opacity: keys.isPlaceholderData ? 0.6 : 1, whiteSpace: 'nowrap' }}>
              <Table.Thead>
                <Table.Tr>
                  <SortHeader field="name" label="Name" state={state} onSort={onSort} />
                  <Table.Th>Key</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Environment</Table.Th>
                  <Table.Th>Team</Table.Th>
                  <Table.Th>Owner</Table.Th>
                  <SortHeader field="createdAt" label="Created" state={state} onSort={onSort} />
                  <SortHeader field="lastUsedAt" label="Last used" state={state} onSort={onSort} />
                  <SortHeader field="expiresAt" label="Expires" state={state} onSort={onSort} />
                  <Table.Th ta="right">Flows</Table.Th>
                  <Table.Th pos="relative">
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>{body}</Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ) : null}
        {keys.data && keys.data.items.length === 0 && (
          filtered ? (
            <Empty icon={<IconSearch size={28} />} title="No keys match these filters" description="Change the search or clear the filters." action={<Button variant="default" onClick={() => { setSearch(''); update({ q: '', status: null, environment: null, ownerId: null }); }}>Clear filters</Button>} />
          ) : (
            <Empty
              icon={<IconKey size={28} />}
              title="No API keys yet"
              description="Create a key for each flow or team, named environment–purpose–team, and paste it into the Build a Doc connection in Power Automate."
              action={canCreate.ok ? <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>Create your first key</Button> : undefined}
            />
          )
        )}
        {keys.data && total > 0 && (
          <Group justify="space-between" mt="md" wrap="wrap" gap="sm">
            <Text size="sm" c="dimmed" aria-live="polite">
              {total > PAGE_SIZE
                ? `${number.format((state.page - 1) * PAGE_SIZE + 1)}–${number.format(Math.min(state.page * PAGE_SIZE, total))} of ${plural(total, 'key')}`
                : plural(total, 'key')}
            </Text>
            {pages > 1 && <Pagination total={pages} value={state.page} onChange={(page) => update({ page })} size="sm" getControlProps={(control) => ({ 'aria-label': `${control} page` })} />}
          </Group>
        )}
      </Paper>
      <DeadKeyHint />
      <CreateKeyModal opened={creating} onClose={() => setCreating(false)} onCreated={(result) => { setCreating(false); setIssued(result); }} />
      <SecretModal issued={issued} title="Your new API key" onClose={() => setIssued(null)} />
      {actions.modals}
    </>
  );
}

/** A quiet pointer to the page that explains failing keys. */
function DeadKeyHint() {
  return (
    <Group gap={6} mt="md" c="dimmed">
      <IconAlertTriangle size={16} aria-hidden />
      <Text size="sm">
        A flow fails with 401 or 403?{' '}
        <Anchor component={Link} href="/troubleshooting" size="sm">
          Test its key in Troubleshooting
        </Anchor>
        .
      </Text>
    </Group>
  );
}

