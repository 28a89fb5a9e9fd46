import { Alert, Badge, Button, Card, Group, Select, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { PageHeader } from '../../components/PageHeader';
import { CardTable } from '../../components/CardTable';
import { ErrorState } from '../../components/states';
import { errorMessage } from '../../lib/api';
import { date, number } from '../../lib/format';
import { permissions, useSession } from '../../lib/session';
import type { Limits, OrgUsage } from '../../lib/types';
import { liveKeyCountQuery } from '../keys/api';
import { usageQuery } from '../usage/api';
import { subscriptionQuery, useChangePlan } from './api';
import { type OverLimit, overLimitNote } from './over-limit';

const STATUS_COLOR: Record<string, string> = { active: 'green', trialing: 'blue', past_due: 'orange', cancelled: 'red', suspended: 'red' };
const STATUS_LABEL: Record<string, string> = { active: 'Active', trialing: 'Trial', past_due: 'Past due', cancelled: 'Cancelled', suspended: 'Suspended' };

const LIMIT_ROWS: Array<{ field: keyof Limits; label: string; unit: string }> = [
  { field: 'documentActionsPerMonth', label: 'Document actions', unit: 'this period' },
  { field: 'utilityActionsPerMonth', label: 'Utility actions', unit: 'this period' },
  { field: 'requestsPerMinute', label: 'Requests', unit: 'per minute' },
  { field: 'maxKeys', label: 'Live API keys', unit: 'active or suspended' },
];

/** How much of each limit is used now; null where nothing is counted against it (requests per minute). */
function usedOf(field: keyof Limits, usage: OrgUsage | undefined, liveKeys: number | undefined): number | null | undefined {
  if (field === 'maxKeys') return liveKeys;
  if (field === 'requestsPerMinute') return null;
  return usage?.quotas.find((q) => q.actionType === (field === 'documentActionsPerMonth' ? 'document' : 'utility'))?.used;
}

const PLANS = [
  { value: 'free', label: 'Free' },
  { value: 'standard', label: 'Standard' },
  { value: 'midsize', label: 'Midsize' },
  { value: 'large', label: 'Large' },
];

export default function SubscriptionPage() {
  const me = useSession();
  const sub = useQuery(subscriptionQuery);
  const [plan, setPlan] = useState<string | null>(null);
  const usage = useQuery(usageQuery);
  const liveKeys = useQuery(liveKeyCountQuery);
  const change = useChangePlan();
  const [confirming, setConfirming] = useState(false);
  const changePlan = () =>
    change.mutate(plan!, {
      onSuccess: (next) => {
        notifications.show({ color: 'green', message: `You are now on the ${next.planName} plan.` });
        setPlan(null);
        setConfirming(false);
      },
    });
  const planLabel = PLANS.find((p) => p.value === plan)?.label ?? plan;
  const s = sub.data;
  // Limits already passed (after a move to a smaller plan, or a rotation's grace period): each is said in words under the table.
  const rows = LIMIT_ROWS.map((row) => ({ ...row, used: usedOf(row.field, usage.data, liveKeys.data) }));
  const overLimits: OverLimit[] = [];
  if (s) {
    for (const { field, used } of rows) {
      const limit = s.limits[field];
      if (field !== 'requestsPerMinute' && typeof used === 'number' && limit !== null && used > limit) overLimits.push({ field, used, limit });
    }
  }
  const canChange = permissions.changePlan(me, s?.selfService);
  const inactive = s && s.status !== 'active' && s.status !== 'trialing';
  return (
    <>
      <PageHeader title="Subscription" description="Your plan, its limits and the current billing period." />
      {sub.isError && <ErrorState error={sub.error} onRetry={() => void sub.refetch()} />}
      {sub.isPending && <Skeleton h={260} radius="md" />}
      {s && (
        <Stack gap="lg">
          {inactive && (
            <Alert color="red" variant="light" title={`Your subscription is ${STATUS_LABEL[s.status] ?? s.status}`}>
              Every connector request is refused with 403 subscription_inactive until it is active again. Contact the Build a Doc team.
            </Alert>
          )}
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <Card withBorder radius="md" padding="lg">
              <Text size="sm" c="dimmed" fw={600}>
                Plan
              </Text>
              <Text fz={26} fw={700}>
                {s.planName}
              </Text>
            </Card>
            <Card withBorder radius="md" padding="lg">
              <Text size="sm" c="dimmed" fw={600}>
                Status
              </Text>
              <Badge mt={8} size="lg" color={STATUS_COLOR[s.status] ?? 'gray'} variant="light">
                {STATUS_LABEL[s.status] ?? s.status}
              </Badge>
            </Card>
            <Card withBorder radius="md" padding="lg">
              <Text size="sm" c="dimmed" fw={600}>
                Current period
              </Text>
              <Text fw={600} mt={6}>
                {date(s.periodStart)} – {s.periodEnd ? date(s.periodEnd) : 'open'}
              </Text>
            </Card>
          </SimpleGrid>
          <Card withBorder radius="md" padding="lg" component="section" aria-label="Limits">
            <Title order={2} size="h4" mb="md">
              Limits
            </Title>
            <CardTable aria-label="Plan limits" columns={['Limit', { label: 'Allowed', align: 'right' }, { label: 'Used', align: 'right' }, 'Per']}>
              {rows.map((row) => (
                <Table.Tr key={row.field}>
                  <Table.Td className="card-table-title">
                    {row.label}
                    {row.field in s.overrides && (
                      <Badge ml="xs" size="xs" variant="light" style={{ minWidth: 'max-content' }}>
                        Contract
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td data-label="Allowed" className="card-table-number" fw={600}>
                    {s.limits[row.field] === null ? 'Unlimited' : number.format(s.limits[row.field]!)}
                  </Table.Td>
                  <Table.Td data-label="Used" className="card-table-number">
                    <UsedCell used={row.used} limit={s.limits[row.field]} />
                  </Table.Td>
                  <Table.Td data-label="Per">{row.unit}</Table.Td>
                </Table.Tr>
              ))}
            </CardTable>
            {overLimits.length > 0 && (
              <Alert color="orange" variant="light" mt="md" title="Over a limit of this plan">
                <Stack gap={4}>
                  {overLimits.map((over) => (
                    <Text key={over.field} size="sm">
                      {overLimitNote(over, s.periodEnd)}
                    </Text>
                  ))}
                </Stack>
              </Alert>
            )}
            {s.features.length > 0 && (
              <Group gap={6} mt="md">
                <Text size="sm">Included actions:</Text>
                {s.features.map((f) => (
                  <Badge key={f} variant="outline" size="sm">
                    {f}
                  </Badge>
                ))}
              </Group>
            )}
          </Card>
          <Card withBorder radius="md" padding="lg" component="section" aria-label="Change plan">
            <Title order={2} size="h4" mb="sm">
              Change plan
            </Title>
            {!canChange.ok ? (
              <Text size="sm" c="dimmed">
                {canChange.reason}
              </Text>
            ) : (
              <Stack gap="sm" maw={420}>
                {change.error && (
                  <Alert color="red" role="alert">
                    {errorMessage(change.error)}
                  </Alert>
                )}
                <Select label="New plan" data={PLANS.filter((p) => p.value !== s.plan)} value={plan} onChange={setPlan} placeholder="Choose a plan" />
                <Text size="xs" c="dimmed">
                  The new limits apply at once. Enterprise is arranged with the Build a Doc team.
                </Text>
                <Group>
                  <Button disabled={!plan} onClick={() => setConfirming(true)}>
                    Change plan
                  </Button>
                </Group>
              </Stack>
            )}
            <ConfirmDialog
              opened={confirming}
              title="Change the plan?"
              error={change.error}
              confirmLabel={`Change to ${planLabel}`}
              loading={change.isPending}
              onConfirm={changePlan}
              onClose={() => {
                change.reset();
                setConfirming(false);
              }}
            >
              <Text size="sm">
                Change {s.organisation.name} from <b>{s.planName}</b> to <b>{planLabel}</b>? The new limits apply at once, to every key and flow of the
                organisation, and the change is written to the audit log.
              </Text>
            </ConfirmDialog>
          </Card>
        </Stack>
      )}
    </>
  );
}

/** "12 of 50 (24 %)", in orange from 80 % and red at the limit. */
function UsedCell({ used, limit }: { used: number | null | undefined; limit: number | null }) {
  if (used === null)
    return (
      <Text span c="dimmed">
        —
      </Text>
    );
  if (used === undefined)
    return (
      <Text span c="dimmed">
        …
      </Text>
    );
  if (limit === null || limit === 0) return <>{number.format(used)}</>;
  const percent = Math.round((used / limit) * 100);
  const color = percent >= 100 ? 'red.8' : percent >= 80 ? 'orange.8' : undefined;
  return (
    <Text span c={color} fw={color ? 600 : undefined}>
      {number.format(used)} ({percent} %)
    </Text>
  );
}
