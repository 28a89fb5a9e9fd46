import { Button, Group, Stack, Text } from '@mantine/core';
import { ExposedBadge } from '../../components/ExposedBadge';
import { KeyStatusBadge } from '../../components/KeyStatusBadge';
import { PageHeader } from '../../components/PageHeader';
import { Empty, ErrorState, PageLoader } from '../../components/states';
import { ApiError } from '../../lib/api';
import { maskKey } from '../../lib/format';
import { Link, navigate } from '../../lib/router';
import { HistorySection, UsageSection } from './KeyActivity';
import { KeyActionDialogs } from './KeyDialogs';
import { BackLink, KeyAlerts, KeyFacts } from './KeyFacts';
import { FlowsSection } from './KeyFlows';
import { ACTION_LABEL, isDestructive } from './key-rules';
import { useKeyDetail } from './use-key-detail';

/** One key: its facts, usage, flows and history, with the actions the person may take. */
export default function KeyDetailPage({ id }: { id: string }) {
  const { key, usage, periodStart, flows, history, historyAllowed, ownActionsOnly, rules, actions } = useKeyDetail(id);

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
  const { actions: buttons, enabled, reason } = rules!;

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
                disabled={!enabled}
                onClick={() => actions.open(action, k)}
              >
                {ACTION_LABEL[action]}
              </Button>
            ))}
          </Group>
        }
      />
      {reason && (
        <Text size="sm" c="dimmed" mb="md" role="note">
          {reason}
        </Text>
      )}
      <Stack gap="lg">
        <KeyAlerts apiKey={k} />
        <KeyFacts apiKey={k} />
        <UsageSection usage={usage} periodStart={periodStart} />
        <FlowsSection apiKey={k} flows={flows} canLabel={enabled} />
        <HistorySection history={history} allowed={historyAllowed} ownActionsOnly={ownActionsOnly} />
      </Stack>
      <KeyActionDialogs {...actions.dialogs} onDeleted={() => navigate('/keys')} />
    </>
  );
}
