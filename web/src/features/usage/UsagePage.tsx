import { LineChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { Anchor, Badge, Button, Card, Group, Progress, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconChartBar, IconDownload } from '@tabler/icons-react';
import dayjs from 'dayjs';
import { CardTable, NumberCell } from '../../components/CardTable';
import { KeyName } from '../../components/KeyName';
import { KeyStatusBadge } from '../../components/KeyStatusBadge';
import { PageHeader } from '../../components/PageHeader';
import { RelativeTime } from '../../components/RelativeTime';
import { Empty, ErrorState } from '../../components/states';
import { date, number } from '../../lib/format';
import { Link } from '../../lib/router';
import type { OrgUsage, Quota } from '../../lib/types';
import { usageQuery } from './api';
import { dailyTrend } from './daily-trend';

/** How many keys and flows the API lists (the busiest). */
const TOP = 20;

const ACTION_TYPE_LABEL: Record<string, string> = { document: 'Document actions', utility: 'Utility actions', none: 'Not billed' };

function QuotaCard({ quota }: { quota: Quota }) {
  const percent = quota.percent ?? 0;
  const color = percent >= 100 ? 'red' : percent >= 80 ? 'orange' : 'blue';
  return (
    <Card withBorder radius="md" padding="lg">
      <Text size="sm" c="dimmed" fw={600}>
        {ACTION_TYPE_LABEL[quota.actionType]}
      </Text>
      <Group align="baseline" gap={6} mt={4}>
        <Text fz={28} fw={700}>
          {number.format(quota.used)}
        </Text>
        <Text size="sm" c="dimmed">
          of {quota.limit === null ? 'unlimited' : number.format(quota.limit)} used
        </Text>
      </Group>
      {quota.limit !== null && (
        <Progress
          value={Math.min(100, percent)}
          color={color}
          mt="sm"
          size="lg"
          aria-label={`${ACTION_TYPE_LABEL[quota.actionType]}: ${Math.round(percent)}% of the monthly quota used`}
        />
      )}
      <Group justify="space-between" mt="xs">
        <Text size="sm">{quota.remaining === null ? 'No limit' : `${number.format(quota.remaining)} remaining`}</Text>
        {quota.percent !== null && (
          <Text size="sm" fw={600} c={percent >= 80 ? `${color}.8` : undefined}>
            {Math.round(percent)}%
          </Text>
        )}
      </Group>
    </Card>
  );
}

/** The keys with the most requests this period: each key's requests and how many were refused. A deleted key is named, not linked. */
function ByKey({ keys }: { keys: OrgUsage['byKey'] }) {
  if (keys.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No key was used this period.
      </Text>
    );
  return (
    <CardTable aria-label="Requests by key" verticalSpacing="xs" columns={['Key', { label: 'Calls', align: 'right' }, { label: 'Refused', align: 'right' }]}>
      {keys.map((k) => (
        <Table.Tr key={k.keyId}>
          <Table.Td className="card-table-title">
            <Group gap="xs">
              {k.deleted ? (
                // A deleted key has no page to link to; its calls still count.
                <>
                  <Text size="sm">
                    <KeyName name={k.name} last4={k.last4} />
                  </Text>
                  <Badge color="gray" variant="light" size="xs" style={{ minWidth: 'max-content' }}>
                    Deleted
                  </Badge>
                </>
              ) : (
                <>
                  <Anchor component={Link} href={`/keys/${k.keyId}`} size="sm">
                    <KeyName name={k.name} last4={k.last4} />
                  </Anchor>
                  {k.status !== 'active' && <KeyStatusBadge apiKey={{ status: k.status, expiresAt: null }} size="xs" />}
                </>
              )}
            </Group>
          </Table.Td>
          <NumberCell label="Calls" value={k.calls} />
          <NumberCell label="Refused" value={k.refused} />
        </Table.Tr>
      ))}
    </CardTable>
  );
}

/** The flows that called this period, with their calls since first seen (flows are not counted per period). */
function ByFlow({ flows }: { flows: OrgUsage['byFlow'] }) {
  if (flows.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No flow called this period.
      </Text>
    );
  return (
    <CardTable
      aria-label="Flows seen this period"
      verticalSpacing="xs"
      columns={['Flow', 'Last call', { label: 'Calls since first seen', align: 'right', className: 'card-table-wrap' }]}
    >
      {flows.map((flow) => (
        <Table.Tr key={flow.flowId}>
          <Table.Td className="card-table-title">
            <Anchor component={Link} href="/flows" size="sm">
              {flow.label ?? flow.name}
            </Anchor>
            {flow.label && (
              <Text size="xs" c="dimmed">
                {flow.name}
              </Text>
            )}
          </Table.Td>
          <Table.Td data-label="Last call">
            <RelativeTime iso={flow.lastSeenAt} />
          </Table.Td>
          <NumberCell label="Calls since first seen" value={flow.calls} />
        </Table.Tr>
      ))}
    </CardTable>
  );
}

export default function UsagePage() {
  const usage = useQuery(usageQuery);
  const data = usage.data;
  const anyRequests = data?.daily.some((d) => d.document + d.utility + d.none + d.failed > 0) ?? false;
  return (
    <>
      <PageHeader
        title="Usage"
        description={
          data
            ? `This billing period: ${date(data.periodStart)} – ${date(data.periodEnd)}. Quotas reset at the start of each period.`
            : 'Requests made with your keys this billing period.'
        }
        actions={
          <Button component="a" href="/api/usage/export.csv" download variant="default" leftSection={<IconDownload size={16} />}>
            Export CSV
          </Button>
        }
      />
      {usage.isError && <ErrorState error={usage.error} onRetry={() => void usage.refetch()} />}
      <Stack gap="lg">
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {usage.isPending && [0, 1].map((i) => <Skeleton key={i} h={140} radius="md" />)}
          {data?.quotas.map((quota) => (
            <QuotaCard key={quota.actionType} quota={quota} />
          ))}
        </SimpleGrid>
        <Card withBorder radius="md" padding="lg" component="section" aria-label="Daily trend">
          <Title order={2} size="h4" mb="md">
            Daily trend
          </Title>
          {usage.isPending && <Skeleton h={260} />}
          {data && !anyRequests && (
            <Empty
              icon={<IconChartBar size={28} />}
              title="No requests this period yet"
              description="Once your flows call Build a Doc, their daily requests appear here."
            />
          )}
          {data && anyRequests && (
            // One line per kind of request, each from zero: stacked areas would read as totals.
            <LineChart
              h={260}
              data={dailyTrend(data.daily, data.periodStart, data.periodEnd).map((d) => ({ ...d, day: dayjs(d.day).format('D MMM') }))}
              dataKey="day"
              curveType="linear"
              withLegend
              legendProps={{ verticalAlign: 'bottom' }}
              series={[
                { name: 'document', label: 'Document actions', color: 'blue.6' },
                { name: 'utility', label: 'Utility actions', color: 'teal.6' },
                { name: 'none', label: 'Not billed (connection checks)', color: 'gray.5' },
                { name: 'failed', label: 'Failed', color: 'red.6' },
              ]}
              yAxisProps={{ allowDecimals: false, width: 40 }}
              aria-label="Requests per day this period"
            />
          )}
        </Card>
        <Card withBorder radius="md" padding="lg" component="section" aria-label="By action">
          <Title order={2} size="h4" mb="md">
            By action
          </Title>
          {usage.isPending && <Skeleton h={120} />}
          {data && data.operations.length === 0 && (
            <Text size="sm" c="dimmed">
              No actions were called this period.
            </Text>
          )}
          {data && data.operations.length > 0 && (
            <CardTable
              aria-label="Requests by action"
              striped
              columns={[
                'Action',
                'Type',
                { label: 'Succeeded', align: 'right' },
                { label: 'Client errors', align: 'right' },
                { label: 'Server errors', align: 'right' },
                { label: 'Rejected', align: 'right' },
              ]}
            >
              {data.operations.map((op) => (
                <Table.Tr key={op.operation}>
                  <Table.Td className="mono card-table-title">{op.operation}</Table.Td>
                  <Table.Td data-label="Type">{ACTION_TYPE_LABEL[op.actionType] ?? op.actionType}</Table.Td>
                  <NumberCell label="Succeeded" value={op.success} />
                  <NumberCell label="Client errors" value={op.clientError} />
                  <NumberCell label="Server errors" value={op.serverError} />
                  <NumberCell label="Rejected" value={op.rejected} />
                </Table.Tr>
              ))}
            </CardTable>
          )}
        </Card>
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <Card withBorder radius="md" padding="lg" component="section" aria-label="By key">
            <Title order={2} size="h4">
              By key
            </Title>
            <Text size="sm" c="dimmed" mb="md">
              The {TOP} keys with the most requests this period.
            </Text>
            {usage.isPending && <Skeleton h={120} />}
            {data && <ByKey keys={data.byKey} />}
          </Card>
          <Card withBorder radius="md" padding="lg" component="section" aria-label="By flow">
            <Title order={2} size="h4">
              By flow
            </Title>
            <Text size="sm" c="dimmed" mb="md">
              Flows that called this period. Flows are counted since they were first seen, not per period.
            </Text>
            {usage.isPending && <Skeleton h={120} />}
            {data && <ByFlow flows={data.byFlow} />}
          </Card>
        </SimpleGrid>
      </Stack>
    </>
  );
}
