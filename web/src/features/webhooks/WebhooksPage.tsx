import { Alert, Badge, Button, Code, Group, Menu, Modal, MultiSelect, Pagination, Paper, Stack, Table, Text, TextInput, ActionIcon } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { IconCheck, IconCopy, IconDots, IconPlus, IconWebhook } from '@tabler/icons-react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { CardTable } from '../../components/CardTable';
import { PageHeader } from '../../components/PageHeader';
import { ExactDate } from '../../components/RelativeTime';
import { Empty, ErrorState, NotAllowed, TableSkeleton } from '../../components/states';
import { errorMessage } from '../../lib/api';
import { plural } from '../../lib/format';
import { copyText } from '../../lib/clipboard';
import { focusTrigger, returnFocus, type FocusTrigger } from '../../lib/focus';
import { useSession } from '../../lib/session';
import type { WebhookEndpoint, WebhookEventType, WebhookWithSecret } from '../../lib/types';
import { DELIVERIES_PAGE, EVENT_TYPES, WEBHOOKS_PAGE, useDeliveries, useWebhookMutations, webhooksQuery } from './api';

const STATUS_COLOR = { pending: 'yellow', succeeded: 'green', failed: 'red' } as const;

export default function WebhooksPage() {
  const me = useSession();
  if (me.user.role !== 'admin') return <NotAllowed reason="Only Admins manage webhooks; ask an Admin of your organisation." />;
  return <Webhooks />;
}

function Webhooks() {
  const [page, setPage] = useState(1);
  const list = useQuery(webhooksQuery(page));
  const { update, remove, rotate, test } = useWebhookMutations();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ shown: WebhookWithSecret; title: string } | null>(null);
  const [logOf, setLogOf] = useState<WebhookEndpoint | null>(null);
  const [deleting, setDeleting] = useState<WebhookEndpoint | null>(null);
  const failed = (title: string) => (error: unknown) => notifications.show({ color: 'red', title, message: errorMessage(error) });
  // The dialogs open from menu items (gone once the menu closes) or replace one another (the form, then the secret): focus goes back to what opened them.
  const openedFrom = useRef<FocusTrigger | null>(null);
  const remember = () => {
    openedFrom.current = focusTrigger();
  };
  const closed = () => returnFocus(openedFrom.current);

  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / WEBHOOKS_PAGE));
  // Deleting the last endpoint of the last page: show the page before it.
  useEffect(() => {
    if (list.data && page > pages) setPage(pages);
  }, [list.data, page, pages]);
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Your endpoints receive key, quota and team events as signed POST requests (Standard Webhooks), retried for about a day when they fail."
        actions={
          <Button
            leftSection={<IconPlus size={16} />}
            onClick={() => {
              remember();
              setCreating(true);
            }}
          >
            Add endpoint
          </Button>
        }
      />
      {list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.isPending ? (
        <Table aria-hidden>
          <Table.Tbody>
            <TableSkeleton columns={4} rows={3} />
          </Table.Tbody>
        </Table>
      ) : total === 0 ? (
        <Empty
          icon={<IconWebhook size={28} />}
          title="No webhook endpoints yet"
          description="Add an https URL to hear of expiring, revoked and exposed keys and quota thresholds."
        />
      ) : (
        <Paper withBorder radius="md" p={{ base: 'sm', sm: 'md' }}>
          <CardTable aria-label="Webhook endpoints" columns={['Endpoint', 'Events', 'Status', { label: 'Actions', hidden: true }]}>
            {items.map((endpoint) => (
              <Table.Tr key={endpoint.id}>
                <Table.Td className="card-table-title">
                  <Text size="sm" fw={500} style={{ wordBreak: 'break-all' }}>
                    {endpoint.url}
                  </Text>
                  {endpoint.description && (
                    <Text size="xs" c="dimmed">
                      {endpoint.description}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td data-label="Events">
                  <Text size="sm">{endpoint.eventTypes.length === 1 ? endpoint.eventTypes[0] : `${endpoint.eventTypes.length} event types`}</Text>
                </Table.Td>
                <Table.Td data-label="Status">
                  {endpoint.enabled ? (
                    <Badge color="green" variant="light" style={{ minWidth: 'max-content' }}>
                      Enabled
                    </Badge>
                  ) : (
                    <Badge color="gray" variant="light" style={{ minWidth: 'max-content' }}>
                      {endpoint.disabledReason === 'gone' ? 'Disabled (410 Gone)' : 'Paused'}
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td className="card-table-menu">
                  <Menu position="bottom-end" withinPortal>
                    <Menu.Target>
                      <ActionIcon variant="subtle" aria-label={`Actions for ${endpoint.url}`}>
                        <IconDots size={18} />
                      </ActionIcon>
                    </Menu.Target>
                    <Menu.Dropdown>
                      <Menu.Item
                        onClick={() => {
                          remember();
                          setLogOf(endpoint);
                        }}
                      >
                        Deliveries
                      </Menu.Item>
                      <Menu.Item
                        onClick={() =>
                          test.mutate(endpoint.id, {
                            onSuccess: () => notifications.show({ color: 'green', message: 'A webhook.test event is on its way.' }),
                            onError: failed('The test was not sent'),
                          })
                        }
                      >
                        Send test event
                      </Menu.Item>
                      <Menu.Item
                        onClick={() => {
                          remember();
                          rotate.mutate(endpoint.id, {
                            onSuccess: (shown) => setSecret({ shown, title: 'New signing secret' }),
                            onError: failed('The secret was not rotated'),
                          });
                        }}
                      >
                        Rotate secret
                      </Menu.Item>
                      <Menu.Item
                        onClick={() => update.mutate({ id: endpoint.id, enabled: !endpoint.enabled }, { onError: failed('The endpoint was not changed') })}
                      >
                        {endpoint.enabled ? 'Pause' : 'Enable'}
                      </Menu.Item>
                      <Menu.Item
                        color="red"
                        onClick={() => {
                          remember();
                          setDeleting(endpoint);
                        }}
                      >
                        Delete
                      </Menu.Item>
                    </Menu.Dropdown>
                  </Menu>
                </Table.Td>
              </Table.Tr>
            ))}
          </CardTable>
          <Group justify="space-between" mt="md" wrap="wrap" gap="sm">
            <Text size="sm" c="dimmed" aria-live="polite">
              {total > WEBHOOKS_PAGE
                ? `${(page - 1) * WEBHOOKS_PAGE + 1}–${Math.min(page * WEBHOOKS_PAGE, total)} of ${plural(total, 'endpoint')}`
                : plural(total, 'endpoint')}
            </Text>
            {pages > 1 && (
              <Pagination
                total={pages}
                value={page}
                onChange={setPage}
                size="sm"
                aria-label="Endpoint pages"
                getControlProps={(control) => ({ 'aria-label': `${control} page` })}
              />
            )}
          </Group>
        </Paper>
      )}

      <CreateModal opened={creating} onClose={() => setCreating(false)} onCreated={(shown) => setSecret({ shown, title: 'Webhook endpoint added' })} />
      <SecretModal
        secret={secret}
        onClose={() => {
          setSecret(null);
          closed();
        }}
      />
      <DeliveriesModal
        endpoint={logOf}
        onClose={() => {
          setLogOf(null);
          closed();
        }}
      />
      <Modal
        opened={deleting !== null}
        onClose={() => {
          setDeleting(null);
          closed();
        }}
        title="Delete this endpoint?"
        centered
      >
        <Stack>
          <Text size="sm">{deleting?.url} stops receiving events and its delivery log is deleted. This cannot be undone.</Text>
          <Group justify="flex-end">
            <Button
              variant="default"
              onClick={() => {
                setDeleting(null);
                closed();
              }}
            >
              Cancel
            </Button>
            <Button
              color="red"
              loading={remove.isPending}
              onClick={() =>
                deleting &&
                remove.mutate(deleting.id, {
                  onSuccess: () => {
                    setDeleting(null);
                    closed();
                    notifications.show({ color: 'green', message: 'Endpoint deleted.' });
                  },
                  onError: failed('The endpoint was not deleted'),
                })
              }
            >
              Delete endpoint
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

function CreateModal({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: (shown: WebhookWithSecret) => void }) {
  const { create } = useWebhookMutations();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [eventTypes, setEventTypes] = useState<WebhookEventType[]>(['api_key.expiring', 'api_key.revoked', 'api_key.exposed', 'quota.threshold']);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { url: url.trim(), eventTypes, ...(description.trim() ? { description: description.trim() } : {}) },
      {
        onSuccess: (shown) => {
          onClose();
          setUrl('');
          setDescription('');
          onCreated(shown);
        },
      },
    );
  };
  return (
    <Modal opened={opened} onClose={onClose} title="Add a webhook endpoint" centered size="lg">
      <form onSubmit={submit}>
        <Stack>
          <TextInput
            label="URL"
            description="https, reachable from the internet"
            placeholder="https://example.com/hooks/build-a-doc"
            required
            value={url}
            onChange={(e) => setUrl(e.currentTarget.value)}
          />
          <MultiSelect label="Events" data={EVENT_TYPES} value={eventTypes} onChange={(v) => setEventTypes(v as WebhookEventType[])} required searchable />
          <TextInput label="Description" placeholder="Optional" value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          {create.isError && (
            <Alert color="red" title="The endpoint was not added">
              {errorMessage(create.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={eventTypes.length === 0}>
              Add endpoint
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** The signing secret, shown once (after adding an endpoint or rotating its secret). */
function SecretModal({ secret, onClose }: { secret: { shown: WebhookWithSecret; title: string } | null; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const close = () => {
    setCopied(false);
    onClose();
  };
  return (
    <Modal opened={secret !== null} onClose={close} title={secret?.title} centered size="lg" closeOnClickOutside={false}>
      {secret && (
        <Stack>
          <Text size="sm">
            The signing secret of <b style={{ wordBreak: 'break-all' }}>{secret.shown.endpoint.url}</b>. Verify each delivery's <Code>webhook-signature</Code>{' '}
            with it. It is shown only now.
          </Text>
          <Code block className="secret" p="md" data-testid="webhook-secret" style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
            {secret.shown.secret}
          </Code>
          {secret.shown.endpoint.secretRotatedUntil && (
            <Alert color="blue">
              The previous secret also signs deliveries until <ExactDate iso={secret.shown.endpoint.secretRotatedUntil} />, so your receiver can switch without
              losing one.
            </Alert>
          )}
          <Group justify="space-between">
            <Button
              leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              onClick={() =>
                void copyText(secret.shown.secret).then(
                  () => setCopied(true),
                  () => notifications.show({ color: 'red', message: 'Select the secret and copy it yourself.' }),
                )
              }
            >
              {copied ? 'Copied' : 'Copy secret'}
            </Button>
            <Button variant="default" onClick={close}>
              Done
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function DeliveriesModal({ endpoint, onClose }: { endpoint: WebhookEndpoint | null; onClose: () => void }) {
  const [page, setPage] = useState(1);
  const deliveries = useDeliveries(endpoint?.id ?? null, page);
  const total = deliveries.data?.total ?? 0;
  return (
    <Modal
      opened={endpoint !== null}
      onClose={() => {
        setPage(1);
        onClose();
      }}
      title="Deliveries"
      size="xl"
      centered
    >
      {deliveries.isError ? (
        <ErrorState error={deliveries.error} />
      ) : !deliveries.data ? (
        <Table aria-hidden>
          <Table.Tbody>
            <TableSkeleton columns={4} rows={3} />
          </Table.Tbody>
        </Table>
      ) : deliveries.data.items.length === 0 ? (
        <Text size="sm" c="dimmed">
          Nothing delivered yet. Send a test event to try the endpoint.
        </Text>
      ) : (
        <Stack>
          <CardTable aria-label="Deliveries" verticalSpacing="xs" columns={['Event', 'Status', 'Attempts', 'Next retry']}>
            {deliveries.data.items.map((d) => (
              <Table.Tr key={d.id}>
                <Table.Td className="card-table-title">
                  <Text size="sm">{d.eventType}</Text>
                  <Text size="xs" c="dimmed">
                    <ExactDate iso={d.createdAt} />
                  </Text>
                </Table.Td>
                <Table.Td data-label="Status" className="card-table-wrap">
                  <Badge color={STATUS_COLOR[d.status]} variant="light" style={{ minWidth: 'max-content' }}>
                    {d.status}
                    {d.lastStatusCode !== null ? ` · ${d.lastStatusCode}` : ''}
                  </Badge>
                  {d.attemptLog.at(-1)?.error && (
                    <Text size="xs" c="dimmed">
                      {d.attemptLog.at(-1)?.error}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td data-label="Attempts">{d.attempts}</Table.Td>
                <Table.Td data-label="Next retry">{d.nextAttemptAt ? <ExactDate iso={d.nextAttemptAt} /> : '—'}</Table.Td>
              </Table.Tr>
            ))}
          </CardTable>
          {total > DELIVERIES_PAGE && <Pagination total={Math.ceil(total / DELIVERIES_PAGE)} value={page} onChange={setPage} aria-label="Delivery pages" />}
        </Stack>
      )}
    </Modal>
  );
}
