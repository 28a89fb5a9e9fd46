import { Skeleton, Text, Timeline } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import { IconChartBar, IconHistory } from '@tabler/icons-react';
import { Suspense, lazy } from 'react';
import { ExactDate } from '../../components/RelativeTime';
import { Empty, ErrorState, NotAllowed } from '../../components/states';
import { date, number } from '../../lib/format';
import type { Permission } from '../../lib/session';
import type { AuditEntry, KeyUsage, Paged } from '../../lib/types';
import { SEVERITY_COLOR, eventLabel } from '../audit/audit-events';
import { Section } from './KeyFacts';

const KeyUsageChart = lazy(() => import('./KeyUsageChart'));

/** What happened with a key: its requests per day and its audit history. */

export function UsageSection({ usage, periodStart }: { usage: UseQueryResult<KeyUsage>; periodStart: string | undefined }) {
  const total = usage.data ? Object.values(usage.data.totals).reduce((a, b) => a + b, 0) : 0;
  return (
    <Section
      title={periodStart ? `Requests per day since ${date(periodStart)} (this billing period)` : 'Requests per day, this billing period'}
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
      {usage.data && total === 0 && <Empty title="No requests this billing period" description="Calls made with this key appear here within a few seconds." />}
      {usage.data && total > 0 && (
        <Suspense fallback={<Skeleton h={240} />}>
          <KeyUsageChart usage={usage.data} />
        </Suspense>
      )}
    </Section>
  );
}

export function HistorySection({
  history,
  allowed,
  ownActionsOnly,
}: {
  history: UseQueryResult<Paged<AuditEntry>>;
  allowed: Permission;
  ownActionsOnly: boolean;
}) {
  return (
    <Section title="History" icon={<IconHistory size={20} aria-hidden />}>
      {!allowed.ok && <NotAllowed reason={allowed.reason} />}
      {allowed.ok && ownActionsOnly && (
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
