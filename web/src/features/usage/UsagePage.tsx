import { LineChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { Button, Card, Group, Progress, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconChartBar, IconDownload } from '@tabler/icons-react';
import dayjs from 'dayjs';
import { PageHeader } from '../../components/PageHeader';
import { ScrollTable } from '../../components/ScrollTable';
import { Empty, ErrorState } from '../../components/states';
import { date, number } from '../../lib/format';
import type { Quota } from '../../lib/types';
import { usageQuery } from './api';

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
              data={data.daily.map((d) => ({ ...d, day: dayjs(d.day).format('D MMM') }))}
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
            <ScrollTable minWidth={640} label="Requests by action, scrolls sideways">
              <Table aria-label="Requests by action" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Action</Table.Th>
                    <Table.Th>Type</Table.Th>
                    <Table.Th ta="right">Succeeded</Table.Th>
                    <Table.Th ta="right">Client errors</Table.Th>
                    <Table.Th ta="right">Server errors</Table.Th>
                    <Table.Th ta="right">Rejected</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.operations.map((op) => (
                    <Table.Tr key={op.operation}>
                      <Table.Td className="mono">{op.operation}</Table.Td>
                      <Table.Td>{ACTION_TYPE_LABEL[op.actionType] ?? op.actionType}</Table.Td>
                      <Table.Td ta="right">{number.format(op.success)}</Table.Td>
                      <Table.Td ta="right">{number.format(op.clientError)}</Table.Td>
                      <Table.Td ta="right">{number.format(op.serverError)}</Table.Td>
                      <Table.Td ta="right">{number.format(op.rejected)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollTable>
          )}
        </Card>
      </Stack>
    </>
  );
}
