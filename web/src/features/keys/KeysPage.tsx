import { Anchor, Button, Group, Pagination, Paper, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { IconAlertTriangle, IconKey, IconPlus, IconSearch } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';
import { Empty, ErrorState } from '../../components/states';
import { PageHeader } from '../../components/PageHeader';
import { allMembersQuery } from '../members/api';
import { ENVIRONMENT_LABEL, STATUS_LABEL, labelOptions, number, plural } from '../../lib/format';
import { focusTrigger, returnFocus, type FocusTrigger } from '../../lib/focus';
import { Link, navigate, useLocation } from '../../lib/router';
import { permissions, useSession } from '../../lib/session';
import type { IssuedKey } from '../../lib/types';
import { HygieneBanner } from '../hygiene/HygieneBanner';
import { CreateKeyModal } from './CreateKeyModal';
import { keysQuery, liveKeyCountQuery } from './api';
import { PAGE_SIZES, keysListHref, keysListState, type KeysListState, type RevokedFilter, type SortField } from './list-state';
import { KeyAllowance } from './KeyAllowance';
import { keyAllowance } from './key-rules';
import { searchFilters } from './key-search';
import { subscriptionQuery } from '../subscription/api';
import { KeyActionDialogs } from './KeyDialogs';
import { useKeyActions } from './use-key-actions';
import { KeyTable } from './KeyTable';
import { SecretModal } from './SecretModal';

const STATUS_FILTER = labelOptions(STATUS_LABEL);
const ENVIRONMENT_FILTER = labelOptions(ENVIRONMENT_LABEL);
const REVOKED_FILTER: Array<{ value: RevokedFilter; label: string }> = [
  { value: 'hide', label: 'Hidden' },
  { value: 'show', label: 'Shown' },
  { value: 'only', label: 'Only revoked' },
];
const SIZE_OPTIONS = PAGE_SIZES.map((size) => ({ value: String(size), label: `${size} per page` }));

/** The list's state lives in the address, so a filtered list can be linked to and survives reloads. */
function useListState() {
  const { search } = useLocation();
  const state = keysListState(search);
  const update = (patch: Partial<KeysListState>) => {
    navigate(keysListHref({ ...state, ...('page' in patch ? {} : { page: 1 }), ...patch }), { replace: true });
  };
  return [state, update] as const;
}

export function KeysPage() {
  const me = useSession();
  const [state, update] = useListState();
  const [search, setSearch] = useState(state.q);
  // The box follows the address when it changes from elsewhere (the menu's "API Keys", Back). A
  // search by a whole key keeps only its hash in the address, so the box keeps what was pasted.
  const searchKey = `${state.q}|${state.hash ?? ''}|${state.last4 ?? ''}`;
  const [shownSearch, setShownSearch] = useState(searchKey);
  if (searchKey !== shownSearch) {
    setShownSearch(searchKey);
    if (!state.hash && !state.last4) setSearch(state.q);
  }
  const [debounced] = useDebouncedValue(search, 250);
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  // The new key's dialog replaces the form's, so neither Modal knows what opened the form: when the key is put away, focus goes back there.
  const createdFrom = useRef<FocusTrigger | null>(null);
  const startCreating = () => {
    createdFrom.current = focusTrigger();
    setCreating(true);
  };
  const actions = useKeyActions();
  const canCreate = permissions.createKey(me);

  // Only a new debounced search text updates the URL (state and update change on every render).
  // biome-ignore lint/correctness/useExhaustiveDependencies: deliberate, see above
  useEffect(() => {
    let current = true;
    void searchFilters(debounced).then((filters) => {
      const changed = filters.q !== state.q || filters.hash !== state.hash || filters.last4 !== state.last4;
      if (current && changed) {
        setShownSearch(`${filters.q}|${filters.hash ?? ''}|${filters.last4 ?? ''}`);
        update(filters);
      }
    });
    return () => {
      current = false;
    };
  }, [debounced]);

  const keys = useQuery({ ...keysQuery(state), placeholderData: keepPreviousData, refetchInterval: 30_000 });
  const members = useQuery(allMembersQuery);
  const subscription = useQuery(subscriptionQuery);
  const liveKeys = useQuery(liveKeyCountQuery);
  const allowance = subscription.data && liveKeys.data !== undefined ? keyAllowance(me.user.role, liveKeys.data, subscription.data.limits.maxKeys) : null;
  const owners = (members.data?.items ?? []).map((m) => ({ value: m.id, label: m.status === 'deactivated' ? `${m.name} (deactivated)` : m.name }));
  if (state.ownerId && !owners.some((o) => o.value === state.ownerId)) owners.push({ value: state.ownerId, label: 'Selected person' });

  const onSort = (field: SortField) => {
    if (state.sort === field) update({ order: state.order === 'asc' ? 'desc' : 'asc' });
    else update({ sort: field, order: field === 'name' ? 'asc' : 'desc' });
  };
  const filtered = Boolean(state.q || state.hash || state.last4 || state.status || state.environment || state.ownerId || state.revoked === 'only');
  const total = keys.data?.total ?? 0;
  const size = state.size;
  const pages = Math.max(1, Math.ceil(total / size));
  const ownerName = state.ownerId ? owners.find((o) => o.value === state.ownerId)?.label : null;

  return (
    <>
      <PageHeader
        title="API Keys"
        description="Keys your Power Automate flows and Power Apps use to call Build a Doc. A key is shown only once, when it is created."
        actions={
          <Stack gap={4} align="flex-end">
            <Button leftSection={<IconPlus size={16} />} onClick={startCreating} disabled={!canCreate.ok || allowance?.full}>
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
      <HygieneBanner />
      {canCreate.ok && allowance && <KeyAllowance allowance={allowance} />}
      <Paper withBorder radius="md" p={{ base: 'sm', sm: 'md' }}>
        <Group gap="sm" mb="md" align="flex-end" wrap="wrap">
          <TextInput
            label="Search"
            placeholder="Name, team, or paste a key"
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            style={{ flex: '2 1 220px' }}
            description={state.hash ? 'Searching by the whole key: only its SHA-256 is sent.' : undefined}
          />
          <Select
            label="Status"
            placeholder="Any status"
            data={STATUS_FILTER}
            value={state.status}
            onChange={(v) => update({ status: v })}
            clearable
            style={{ flex: '1 1 140px' }}
          />
          <Select
            label="Environment"
            placeholder="Any"
            data={ENVIRONMENT_FILTER}
            value={state.environment}
            onChange={(v) => update({ environment: v })}
            clearable
            style={{ flex: '1 1 140px' }}
          />
          <Select
            label="Owner"
            placeholder="Anyone"
            data={owners}
            value={state.ownerId}
            onChange={(v) => update({ ownerId: v })}
            clearable
            searchable
            style={{ flex: '1 1 160px' }}
          />
          <Select
            label="Revoked keys"
            data={REVOKED_FILTER}
            value={state.status === 'revoked' ? 'only' : state.revoked}
            onChange={(v) => update({ revoked: (v as RevokedFilter | null) ?? 'hide' })}
            allowDeselect={false}
            disabled={state.status === 'revoked'}
            style={{ flex: '1 1 140px' }}
          />
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
          <KeyTable
            keys={keys.data?.items}
            loading={keys.isPending}
            busy={keys.isFetching}
            dimmed={keys.isPlaceholderData}
            sort={state}
            onSort={onSort}
            onAction={actions.open}
          />
        ) : null}
        {keys.data &&
          keys.data.items.length === 0 &&
          (filtered ? (
            <Empty
              icon={<IconSearch size={28} />}
              title="No keys match these filters"
              description="Change the search or clear the filters."
              action={
                <Button
                  variant="default"
                  onClick={() => {
                    setSearch('');
                    update({ q: '', hash: null, last4: null, status: null, environment: null, ownerId: null, revoked: 'hide' });
                  }}
                >
                  Clear filters
                </Button>
              }
            />
          ) : (
            <Empty
              icon={<IconKey size={28} />}
              title="No API keys yet"
              description="Create a key for each flow or team, named environment–purpose–team, and paste it into the Build a Doc connection in Power Automate."
              action={
                canCreate.ok ? (
                  <Button leftSection={<IconPlus size={16} />} onClick={startCreating}>
                    Create your first key
                  </Button>
                ) : undefined
              }
            />
          ))}
        {keys.data && total > 0 && (
          <Group justify="space-between" mt="md" wrap="wrap" gap="sm">
            <Text size="sm" c="dimmed" aria-live="polite">
              {total > size
                ? `${number.format((state.page - 1) * size + 1)}–${number.format(Math.min(state.page * size, total))} of ${plural(total, 'key')}`
                : plural(total, 'key')}
              {state.revoked === 'hide' && state.status !== 'revoked' ? ' (revoked keys hidden)' : ''}
            </Text>
            <Select
              aria-label="Keys per page"
              data={SIZE_OPTIONS}
              value={String(size)}
              onChange={(v) => v && update({ size: Number(v) })}
              allowDeselect={false}
              size="xs"
              w={140}
            />
            {pages > 1 && (
              <Pagination
                total={pages}
                value={state.page}
                onChange={(page) => update({ page })}
                size="sm"
                getControlProps={(control) => ({ 'aria-label': `${control} page` })}
              />
            )}
          </Group>
        )}
      </Paper>
      <DeadKeyHint />
      <CreateKeyModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(result) => {
          setCreating(false);
          setIssued(result);
        }}
      />
      <SecretModal
        issued={issued}
        title="Your new API key"
        onClose={() => {
          setIssued(null);
          returnFocus(createdFrom.current);
        }}
      />
      <KeyActionDialogs {...actions.dialogs} />
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
