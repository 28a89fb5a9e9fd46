import { Anchor, Badge, Button, Group, Pagination, Paper, Select, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { IconExternalLink, IconRoute } from '@tabler/icons-react';
import { useState } from 'react';
import { CardTable, NumberCell } from '../../components/CardTable';
import { PageHeader } from '../../components/PageHeader';
import { RelativeTime } from '../../components/RelativeTime';
import { Empty, ErrorState } from '../../components/states';
import { useSession } from '../../lib/session';
import type { InventoryFlow } from '../../lib/types';
import { FLOWS_PAGE, flowTitle, useFlows, useKeyChoices } from './api';
import { FlowKeyLink } from './FlowKeyLink';
import { FlowLabelModal } from './FlowLabelModal';

/** The organisation's flows across every key they used (CONTRACT §10). */
export default function FlowsPage() {
  const me = useSession();
  const canLabel = me.user.role !== 'viewer';
  const [stranded, setStranded] = useState(false);
  const [environment, setEnvironment] = useState('');
  const [keyId, setKeyId] = useState<string | null>(null);
  const [page, setPage] = useState(1);
  const keyChoices = useKeyChoices();
  const flows = useFlows({ onRevokedOrExpiring: stranded, environment: environment.trim() || undefined, keyId: keyId ?? undefined, page });
  const [editing, setEditing] = useState<InventoryFlow | null>(null);
  const total = flows.data?.total ?? 0;
  return (
    <>
      <PageHeader
        title="Flows"
        description="Every Power Automate flow that called Build a Doc, across all your keys. A flow keeps its label when its key is rotated."
      />
      <Paper withBorder p="md" mb="md">
        <Group align="end" wrap="wrap">
          <Switch
            label="Only flows still on a revoked or expiring key"
            checked={stranded}
            onChange={(e) => {
              setStranded(e.currentTarget.checked);
              setPage(1);
            }}
          />
          <Select
            label="Key"
            placeholder="Any key"
            data={keyChoices.data ?? []}
            value={keyId}
            onChange={(value) => {
              setKeyId(value);
              setPage(1);
            }}
            searchable
            clearable
            nothingFoundMessage="No key by that name"
          />
          <TextInput
            label="Environment"
            placeholder="Default-…"
            value={environment}
            onChange={(e) => {
              setEnvironment(e.currentTarget.value);
              setPage(1);
            }}
          />
        </Group>
      </Paper>
      {flows.isError && <ErrorState error={flows.error} onRetry={() => void flows.refetch()} />}
      {flows.data && total === 0 && (
        <Empty
          icon={<IconRoute size={32} />}
          title={stranded ? 'No flow is stuck on a revoked or expiring key' : keyId || environment.trim() ? 'No flow matches these filters' : 'No flows yet'}
          description="A flow appears here after its first call with a key (Power Automate sends its name with every call)."
        />
      )}
      {(flows.isPending || total > 0) && (
        <Paper withBorder p={{ base: 'sm', sm: 0 }}>
          <CardTable
            aria-label="Flows"
            columns={['Flow', 'Keys', 'Last call', { label: 'Calls', align: 'right' }, { label: 'Actions', hidden: true }]}
            loadingRows={flows.isPending ? 3 : 0}
          >
            {flows.data?.items.map((flow) => (
              <Table.Tr key={flow.id}>
                <Table.Td className="card-table-title">
                  <Text fw={600} span>
                    {flowTitle(flow)}
                  </Text>
                  {flow.onRevokedOrExpiring && (
                    <Badge color="red" variant="light" ml="xs" style={{ minWidth: 'max-content' }}>
                      Needs a new key
                    </Badge>
                  )}
                  {flow.label && (
                    <Text size="xs" c="dimmed">
                      {flow.workflowName}
                    </Text>
                  )}
                  {flow.detailsUrl && (
                    <Anchor href={flow.detailsUrl} target="_blank" rel="noreferrer" size="xs" display="block">
                      Open in Power Automate <IconExternalLink size={12} aria-hidden />
                    </Anchor>
                  )}
                </Table.Td>
                <Table.Td data-label="Keys" className="card-table-wide card-table-wrap">
                  <Stack gap={2}>
                    {flow.keys.map((k) => (
                      <FlowKeyLink key={k.keyId} flowKey={k} />
                    ))}
                  </Stack>
                </Table.Td>
                <Table.Td data-label="Last call">
                  <RelativeTime iso={flow.lastSeenAt} />
                </Table.Td>
                <NumberCell label="Calls" value={flow.calls} />
                <Table.Td className="card-table-actions">
                  {canLabel && (
                    <div className="card-table-buttons">
                      <Button variant="subtle" size="xs" onClick={() => setEditing(flow)} aria-label={`Label ${flowTitle(flow)}`}>
                        Label
                      </Button>
                    </div>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </CardTable>
        </Paper>
      )}
      {total > FLOWS_PAGE && (
        <Group justify="center" mt="md">
          <Pagination total={Math.ceil(total / FLOWS_PAGE)} value={page} onChange={setPage} />
        </Group>
      )}
      <FlowLabelModal flow={editing} onClose={() => setEditing(null)} />
    </>
  );
}
