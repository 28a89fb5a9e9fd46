import { ActionIcon, Alert, Badge, Group, Table, Text, Tooltip } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import { IconAlertTriangle, IconPencil, IconRoute } from '@tabler/icons-react';
import { useState } from 'react';
import { ExactDate, RelativeTime } from '../../components/RelativeTime';
import { Empty, ErrorState, TableSkeleton } from '../../components/states';
import { number } from '../../lib/format';
import type { ApiKey, Flow, Paged } from '../../lib/types';
import { FlowLabelModal } from '../flows/FlowLabelModal';
import { Section } from './KeyFacts';
import { deadKeyCallers, flowName } from './key-rules';

/** The flows and apps that called a key; each opens the flows' label dialog. */

const OUTCOME_COLOR: Record<string, string> = { success: 'teal', client_error: 'yellow', server_error: 'red', rejected: 'gray' };
const OUTCOME_LABEL: Record<string, string> = { success: 'Success', client_error: 'Client error', server_error: 'Server error', rejected: 'Rejected' };

export function FlowsSection({ apiKey, flows, canLabel }: { apiKey: ApiKey; flows: UseQueryResult<Paged<Flow>>; canLabel: boolean }) {
  const [editing, setEditing] = useState<Flow | null>(null);
  const dead = deadKeyCallers(flows.data?.items ?? []);
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
      <FlowLabelModal flow={editing} onClose={() => setEditing(null)} />
    </Section>
  );
}
