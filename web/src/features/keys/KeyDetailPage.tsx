import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Timeline,
  Title,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { IconAlertTriangle, IconArrowLeft, IconChartBar, IconHistory, IconPencil, IconRoute } from '@tabler/icons-react';
import dayjs from 'dayjs';
import { Suspense, lazy, useState, type FormEvent, type ReactNode } from 'react';
import { KeyStatusBadge } from '../../components/KeyStatusBadge';
import { ExposedBadge, ExposedWhere } from '../../components/ExposedBadge';
import { PageHeader } from '../../components/PageHeader';
import { ExactDate, RelativeTime } from '../../components/RelativeTime';
import { Empty, ErrorState, NotAllowed, PageLoader, TableSkeleton } from '../../components/states';
import { ApiError, errorMessage } from '../../lib/api';
import { ENVIRONMENT_LABEL, displayStatus, maskKey, number, utcTime } from '../../lib/format';
import { Link, navigate } from '../../lib/router';
import { permissions, useSession } from '../../lib/session';
import type { ApiKey, Flow } from '../../lib/types';
import { ACTION_LABEL, isDestructive, keyActions, useKeyActions } from './KeyActions';
import { SEVERITY_COLOR, eventLabel } from '../audit/audit-events';
import { resourceHistoryQuery } from '../audit/api';
import { keyFlowsQuery, keyQuery, keyUsageQuery, useLabelFlow } from './api';

const KeyUsageChart = lazy(() => import('./KeyUsageChart'));

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <div>{children}</div>
    </Stack>
  );
}

function KeyLink({ id }: { id: string }) {
  return (
    <Anchor component={Link} href={`/keys/${id}`} size="sm" className="mono">
      {id}
    </Anchor>
  );
}

const OUTCOME_COLOR: Record<string, string> = { success: 'teal', client_error: 'yellow', server_error: 'red', rejected: 'gray' };
const OUTCOME_LABEL: Record<string, string> = { success: 'Success', client_error: 'Client error', server_error: 'Server error', rejected: 'Rejected' };

export default function KeyDetailPage({ id }: { id: string }) {
  const me = useSession();
  const key = useQuery(keyQuery(id));
  const actions = useKeyActions({ afterDelete: () => navigate('/keys') });

  if (key.isPending) return <PageLoader label="Loading the key…" />;
  if (key.isError) {
    const missing = key.error instanceof ApiError && key.error.status === 404;
    return (
      <>
        <BackLink />
        <PageHeader title={missing ? 'Key not found' : 'API key'} />
        {missing ? (
          <Empty
            title="There is no such key"
            description="It may have been deleted, or it belongs to another organisation."
            action={
              <Button component={Link} href="/keys">
                Back to API keys
              </Button>
            }
          />
        ) : (
          <ErrorState error={key.error} onRetry={() => void key.refetch()} />
        )}
      </>
    );
  }
  const k = key.data;
  const permission = permissions.manageKey(me, k);
  const buttons = keyActions(k);

  return (
    <>
      <BackLink />
      <PageHeader
        title={k.name}
        description={
          <Group gap="sm" component="span">
            <KeyStatusBadge apiKey={k} size="md" />
            <ExposedBadge apiKey={k} size="md" />
            <span className="mono">{maskKey(k)}</span>
          </Group>
        }
        actions={
          <Group gap="xs">
            {buttons.map((action) => (
              <Button
                key={action}
                size="xs"
                variant={isDestructive(action) ? 'light' : 'default'}
                color={isDestructive(action) ? 'red' : undefined}
                disabled={!permission.ok}
                onClick={() => actions.open(action, k)}
              >
                {ACTION_LABEL[action]}
              </Button>
            ))}
          </Group>
        }
      />
      {!permission.ok && (
        <Text size="sm" c="dimmed" mb="md" role="note">
          {permission.reason}
        </Text>
      )}
      <Stack gap="lg">
        {k.exposedAt && (
          <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title="This key was found in public">
            A secret scanner found it on {utcTime(k.exposedAt)} at <ExposedWhere url={k.exposedUrl} />.{' '}
            {k.status === 'revoked'
              ? 'It was revoked at once. Remove it from there too, and give the flows that used it a new key.'
              : 'Your organisation chose to be told only, so it still works: rotate or revoke it now, and remove it from there.'}
          </Alert>
        )}
        <StatusAlert apiKey={k} />
        <Card withBorder radius="md" padding="lg">
          <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="lg">
            <Fact label="Owner">
              <Text size="sm">{k.createdBy ? `${k.createdBy.name} (${k.createdBy.email})` : 'Operator'}</Text>
              {k.createdBy?.deactivated && (
                <Badge size="xs" color="orange" variant="light">
                  Owner deactivated
                </Badge>
              )}
            </Fact>
            <Fact label="Created">
              <ExactDate iso={k.createdAt} />
            </Fact>
            <Fact label="Expires">
              <ExactDate iso={k.expiresAt} empty="Never" />
            </Fact>
            <Fact label="Last used">
              <RelativeTime iso={k.lastUsedAt} />
            </Fact>
            <Fact label="Environment">
              <Text size="sm">{k.environment ? ENVIRONMENT_LABEL[k.environment] : '—'}</Text>
            </Fact>
            <Fact label="Team">
              <Text size="sm">{k.team ?? '—'}</Text>
            </Fact>
            <Fact label="Replaces">{k.replacesKeyId ? <KeyLink id={k.replacesKeyId} /> : <Text size="sm">—</Text>}</Fact>
            <Fact label="Replaced by">{k.replacedByKeyId ? <KeyLink id={k.replacedByKeyId} /> : <Text size="sm">—</Text>}</Fact>
            {k.suspendedAt && (
              <Fact label="Suspended">
                <ExactDate iso={k.suspendedAt} />
              </Fact>
            )}
            {k.revokedAt && (
              <Fact label="Revoked">
                <ExactDate iso={k.revokedAt} />
                {k.revokedBy && (
                  <Text size="xs" c="dimmed">
                    by {k.revokedBy.name}
                  </Text>
                )}
              </Fact>
            )}
            {k.graceEndsAt && (
              <Fact label="Old key stops working">
                <ExactDate iso={k.graceEndsAt} />
              </Fact>
            )}
            <Fact label="Key id">
              <Text size="sm" className="mono">
                {k.id}
              </Text>
            </Fact>
          </SimpleGrid>
        </Card>
        <UsageSection id={k.id} />
        <FlowsSection apiKey={k} canLabel={permission.ok} />
        <HistorySection id={k.id} />
      </Stack>
      {actions.modals}
    </>
  );
}

function BackLink() {
  return (
    <Anchor component={Link} href="/keys" size="sm" mb="xs" display="inline-flex" style={{ alignItems: 'center', gap: 4 }}>
      <IconArrowLeft size={14} aria-hidden /> All API keys
    </Anchor>
  );
}

function StatusAlert({ apiKey: k }: { apiKey: ApiKey }) {
  if (k.status === 'revoked')
    return (
      <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title="This key is revoked">
        It was revoked {k.revokedAt ? `on ${utcTime(k.revokedAt)}` : ''}. Every request with it is refused with 401 api_key_revoked. Give the flows below a new
        key.
      </Alert>
    );
  if (k.status === 'suspended')
    return (
      <Alert color="yellow" variant="light" icon={<IconAlertTriangle size={18} />} title="This key is suspended">
        Requests with it are refused with 401 api_key_suspended until someone resumes it.
      </Alert>
    );
  if (k.status === 'expired')
    return (
      <Alert color="gray" variant="light" icon={<IconAlertTriangle size={18} />} title="This key has expired">
        It expired {k.expiresAt ? `on ${utcTime(k.expiresAt)}` : ''}; requests are refused with 401 api_key_expired. Create a new key for the flows below.
      </Alert>
    );
  if (k.expiresAt && displayStatus(k) === 'expiring')
    return (
      <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="This key expires soon">
        It stops working {dayjs(k.expiresAt).fromNow()}. Rotate it and update the flows before then.
      </Alert>
    );
  return null;
}

function Section({ title, icon, children, extra }: { title: string; icon: ReactNode; children: ReactNode; extra?: ReactNode }) {
  return (
    <Card withBorder radius="md" padding="lg" component="section" aria-label={title}>
      <Group justify="space-between" mb="md">
        <Group gap="xs">
          {icon}
          <Title order={2} size="h4">
            {title}
          </Title>
        </Group>
        {extra}
      </Group>
      {children}
    </Card>
  );
}

function UsageSection({ id }: { id: string }) {
  const usage = useQuery(keyUsageQuery(id));
  const total = usage.data ? Object.values(usage.data.totals).reduce((a, b) => a + b, 0) : 0;
  return (
    <Section
      title="Requests per day, last 30 days"
      icon={<IconChartBar size={20} aria-hidden />}
      extra={
        usage.data && (
          <Text size="sm" c="dimmed">
            {number.format(total)} requests · {number.format(usage.data.totals.success)} succeeded
          </Text>
        )
      }
    >
      {usage.isPending && <Skeleton h={240} />}
      {usage.isError && <ErrorState error={usage.error} onRetry={() => void usage.refetch()} />}
      {usage.data && total === 0 && <Empty title="No requests in the last 30 days" description="Calls made with this key appear here within a few seconds." />}
      {usage.data && total > 0 && (
        <Suspense fallback={<Skeleton h={240} />}>
          <KeyUsageChart usage={usage.data} />
        </Suspense>
      )}
    </Section>
  );
}

function flowName(flow: Flow): string {
  return flow.label ?? flow.workflowName ?? flow.workflowId ?? flow.clientEnvironmentId ?? flow.userAgent ?? 'Unknown caller';
}

function FlowsSection({ apiKey, canLabel }: { apiKey: ApiKey; canLabel: boolean }) {
  const flows = useQuery(keyFlowsQuery(apiKey.id));
  const [editing, setEditing] = useState<Flow | null>(null);
  const dead = flows.data?.items.filter((f) => f.callingDeadKey) ?? [];
  return (
    <Section title="Flows and apps using this key" icon={<IconRoute size={20} aria-hidden />}>
      {dead.length > 0 && (
        <Alert
          color="red"
          variant="light"
          icon={<IconAlertTriangle size={18} />}
          title={`${dead.length === 1 ? 'A flow is' : `${dead.length} flows are`} still calling this ${apiKey.status} key`}
          mb="md"
          role="alert"
        >
          Their requests are refused. Open each flow in Power Automate, edit its Build a Doc connection and paste a working key (create or rotate one), then
          check it shows up on the new key.
        </Alert>
      )}
      {flows.isError && <ErrorState error={flows.error} onRetry={() => void flows.refetch()} />}
      {flows.data?.items.length === 0 && (
        <Empty
          title="No flow has called this key yet"
          description="When a Power Automate flow calls Build a Doc with this key, it appears here with its flow id and region."
        />
      )}
      {(flows.isPending || (flows.data && flows.data.items.length > 0)) && (
        <Table.ScrollContainer minWidth={860} type="native">
          <Table verticalSpacing="sm" aria-label="Flows using this key">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Label</Table.Th>
                <Table.Th>Flow id</Table.Th>
                <Table.Th>Location</Table.Th>
                <Table.Th>First seen</Table.Th>
                <Table.Th>Last seen</Table.Th>
                <Table.Th ta="right">Calls</Table.Th>
                <Table.Th>Last outcome</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {flows.isPending && <TableSkeleton columns={7} rows={2} />}
              {flows.data?.items.map((flow) => (
                <Table.Tr key={flow.id}>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Text size="sm" fw={flow.label ? 600 : 400} fs={flow.label ? undefined : 'italic'}>
                        {flow.label ?? 'No label'}
                      </Text>
                      {canLabel && (
                        <Tooltip label="Edit label">
                          <ActionIcon variant="subtle" size="sm" color="gray" aria-label={`Edit label of ${flowName(flow)}`} onClick={() => setEditing(flow)}>
                            <IconPencil size={14} />
                          </ActionIcon>
                        </Tooltip>
                      )}
                    </Group>
                    {flow.callingDeadKey && (
                      <Badge color="red" size="xs" variant="filled">
                        Calling a dead key
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" className="mono" title={flow.userAgent ?? undefined}>
                      {flow.workflowName ?? flow.workflowId ?? flow.clientEnvironmentId ?? '—'}
                    </Text>
                    {!flow.workflowName && !flow.workflowId && flow.userAgent && (
                      <Text size="xs" c="dimmed" lineClamp={1} maw={240}>
                        {flow.userAgent}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{flow.location ?? '—'}</Table.Td>
                  <Table.Td>
                    <ExactDate iso={flow.firstSeenAt} />
                  </Table.Td>
                  <Table.Td>
                    <RelativeTime iso={flow.lastSeenAt} />
                  </Table.Td>
                  <Table.Td ta="right">{number.format(flow.calls)}</Table.Td>
                  <Table.Td>
                    <Badge color={OUTCOME_COLOR[flow.lastOutcome] ?? 'gray'} variant="light" size="sm">
                      {OUTCOME_LABEL[flow.lastOutcome] ?? flow.lastOutcome}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <LabelModal keyId={apiKey.id} flow={editing} onClose={() => setEditing(null)} />
    </Section>
  );
}

function LabelModal({ keyId, flow, onClose }: { keyId: string; flow: Flow | null; onClose: () => void }) {
  const [label, setLabel] = useState('');
  const [last, setLast] = useState<Flow | null>(null);
  if (flow !== last) {
    setLast(flow);
    if (flow) setLabel(flow.label ?? '');
  }
  const mutation = useLabelFlow(keyId);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate(
      { flowId: flow!.id, label: label.trim() || null },
      {
        onSuccess: () => {
          notifications.show({ color: 'green', message: label.trim() ? `Flow labelled "${label.trim()}".` : 'Label removed.' });
          mutation.reset();
          onClose();
        },
      },
    );
  };
  return (
    <Modal opened={flow !== null} onClose={onClose} title="Label this flow" centered>
      <form onSubmit={submit}>
        <Stack>
          {mutation.error && (
            <Alert color="red" role="alert">
              {errorMessage(mutation.error)}
            </Alert>
          )}
          <Text size="sm" c="dimmed">
            Flow id: <span className="mono">{flow ? (flow.workflowName ?? flow.workflowId ?? flow.id) : ''}</span>
          </Text>
          <TextInput
            label="Label"
            description="A friendly name, e.g. the flow's name in Power Automate. Leave empty to remove."
            maxLength={100}
            value={label}
            onChange={(e) => setLabel(e.currentTarget.value)}
            data-autofocus
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={mutation.isPending}>
              Save label
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function HistorySection({ id }: { id: string }) {
  const me = useSession();
  const allowed = permissions.viewAudit(me);
  const history = useQuery({ ...resourceHistoryQuery(id), enabled: allowed.ok });
  return (
    <Section title="History" icon={<IconHistory size={20} aria-hidden />}>
      {!allowed.ok && <NotAllowed reason={allowed.reason} />}
      {allowed.ok && me.user.role === 'member' && (
        <Text size="sm" c="dimmed" mb="sm">
          As a Member you see your own actions on this key.
        </Text>
      )}
      {history.isLoading && <Skeleton h={80} />}
      {history.isError && <ErrorState error={history.error} onRetry={() => void history.refetch()} />}
      {history.data?.items.length === 0 && (
        <Text size="sm" c="dimmed">
          No recorded events.
        </Text>
      )}
      {history.data && history.data.items.length > 0 && (
        <Timeline bulletSize={14} lineWidth={2}>
          {history.data.items.map((entry) => (
            <Timeline.Item key={entry.id} title={eventLabel(entry.eventType)} color={SEVERITY_COLOR[entry.severity]}>
              <Text size="sm" c="dimmed">
                {entry.userEmail ?? 'Operator'} · <ExactDate iso={entry.timestamp} />
              </Text>
            </Timeline.Item>
          ))}
        </Timeline>
      )}
    </Section>
  );
}
