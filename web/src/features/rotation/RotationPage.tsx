import { Alert, Anchor, Badge, Button, Group, Modal, Paper, Stack, Switch, Table, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconCircleCheck, IconExternalLink, IconRotateClockwise } from '@tabler/icons-react';
import { useState } from 'react';
import { CardTable } from '../../components/CardTable';
import { KeyName } from '../../components/KeyName';
import { PageHeader } from '../../components/PageHeader';
import { ExactDate, RelativeTime } from '../../components/RelativeTime';
import { ErrorState, PageLoader } from '../../components/states';
import { errorMessage } from '../../lib/api';
import { Link } from '../../lib/router';
import { useSession } from '../../lib/session';
import type { IssuedKey, Rotation } from '../../lib/types';
import { KeyStateBadge } from '../flows/FlowKeyLink';
import { SecretModal } from '../keys/SecretModal';
import { returnFocus } from '../../lib/focus';
import { forgetHandedOverSecret, handedOverSecret, useRotation, useRotationMutations } from './api';

type FlowState = 'moved' | 'still_on_old' | 'quiet';

/** Moved: it called the new key. Still on the old key: it called the old one since the rotation. Quiet: it has not run since. */
function stateOf(flow: Rotation['flows'][number], rotatedAt: string): FlowState {
  if (flow.moved) return 'moved';
  return flow.lastSeenOnOld && flow.lastSeenOnOld >= rotatedAt ? 'still_on_old' : 'quiet';
}

const STATE_BADGE: Record<FlowState, { color: string; label: string }> = {
  moved: { color: 'green', label: 'Moved' },
  still_on_old: { color: 'red', label: 'Still on old key' },
  quiet: { color: 'gray', label: 'Quiet since the rotation' },
};

/** The rotation assistant: the new key once, the flows moving over live, and the old key's end. */
export default function RotationPage({ keyId }: { keyId: string }) {
  const [issued, setIssued] = useState<IssuedKey | null>(() => handedOverSecret(keyId));
  const rotation = useRotation(keyId);
  if (rotation.isPending) return <PageLoader />;
  if (rotation.isError) return <ErrorState error={rotation.error} onRetry={() => void rotation.refetch()} />;
  return (
    <>
      <RotationView keyId={keyId} rotation={rotation.data} />
      <SecretModal
        issued={issued}
        title="Your rotated key"
        onClose={() => {
          forgetHandedOverSecret();
          setIssued(null);
          // What opened the Rotate dialog was on the page before this one: focus goes to this page's heading.
          returnFocus(null);
        }}
      />
    </>
  );
}

function RotationView({ keyId, rotation: r }: { keyId: string; rotation: Rotation }) {
  const me = useSession();
  const canManage = me.user.role !== 'viewer';
  const { revokeOld, setRevokeWhenDrained } = useRotationMutations(keyId);
  const [confirming, setConfirming] = useState(false);
  const oldGone = r.predecessorStatus === 'revoked';
  const moved = r.flows.filter((f) => f.moved).length;
  const failed = (title: string) => (error: unknown) => notifications.show({ color: 'red', title, message: errorMessage(error) });
  return (
    <>
      <PageHeader
        title="Rotation"
        description={
          <>
            From{' '}
            <Anchor component={Link} href={`/keys/${r.predecessorId}`}>
              <KeyName name={r.predecessorName} last4={r.predecessorLast4} />
            </Anchor>{' '}
            <KeyStateBadge flowKey={{ status: r.predecessorStatus, replacedByKeyId: r.successorId, graceEndsAt: r.graceEndsAt }} /> (old key) to{' '}
            <Anchor component={Link} href={`/keys/${r.successorId}`}>
              <KeyName name={r.successorName} last4={r.successorLast4} />
            </Anchor>{' '}
            (new key), rotated <ExactDate iso={r.rotatedAt} />. Paste the new key into each flow's connection; this page follows them as they move.
          </>
        }
      />
      <Stack>
        {oldGone ? (
          <Alert color="gray" icon={<IconCircleCheck size={18} />} title="The old key is revoked">
            Every request with it is refused now.
          </Alert>
        ) : r.safeToRevoke ? (
          <Alert color="green" icon={<IconCircleCheck size={18} />} title="Safe to revoke">
            Every flow that used the old key in the last 30 days has moved, and the old key has had no call for 15 minutes.
          </Alert>
        ) : (
          <Alert color="yellow" icon={<IconRotateClockwise size={18} />} title="Not yet safe to revoke">
            {moved} of {r.flows.length} {r.flows.length === 1 ? 'flow has' : 'flows have'} moved.
            {r.oldKeyLastUsedAt && (
              <>
                {' '}
                The old key was last called <RelativeTime iso={r.oldKeyLastUsedAt} />.
              </>
            )}
            {r.graceEndsAt && (
              <>
                {' '}
                It stops working <ExactDate iso={r.graceEndsAt} />.
              </>
            )}
          </Alert>
        )}
        {canManage && !oldGone && (
          <Paper withBorder p="md">
            <Group justify="space-between" wrap="wrap">
              <Switch
                label="Revoke the old key by itself once every flow has moved"
                description={r.graceEndsAt ? 'Or when its grace period ends, whichever comes first.' : undefined}
                checked={r.revokeWhenDrained}
                disabled={setRevokeWhenDrained.isPending}
                onChange={(e) => setRevokeWhenDrained.mutate(e.currentTarget.checked, { onError: failed('The setting was not saved') })}
              />
              <Button color="red" variant={r.safeToRevoke ? 'filled' : 'outline'} onClick={() => setConfirming(true)}>
                Revoke old key
              </Button>
            </Group>
          </Paper>
        )}
        <Paper withBorder p={{ base: 'sm', sm: 0 }}>
          <CardTable
            columns={['Flow', 'State', 'Last call on old key', 'First call on new key']}
            caption="Flows that used the old key in the last 30 days (refreshes every few seconds)"
          >
            {r.flows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={4}>
                  <Text c="dimmed" size="sm">
                    No flow called the old key in the last 30 days.
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
            {r.flows.map((flow) => {
              const state = STATE_BADGE[stateOf(flow, r.rotatedAt)];
              return (
                <Table.Tr key={flow.flowId}>
                  <Table.Td className="card-table-title">
                    <Text fw={600}>{flow.label ?? flow.workflowName}</Text>
                    {flow.detailsUrl && (
                      <Anchor href={flow.detailsUrl} target="_blank" rel="noreferrer" size="xs">
                        Open in Power Automate <IconExternalLink size={12} aria-hidden />
                      </Anchor>
                    )}
                  </Table.Td>
                  <Table.Td data-label="State" className="card-table-wide">
                    <Badge color={state.color} variant="light" style={{ minWidth: 'max-content' }}>
                      {state.label}
                    </Badge>
                  </Table.Td>
                  <Table.Td data-label="Last call on old key">
                    <RelativeTime iso={flow.lastSeenOnOld} />
                  </Table.Td>
                  <Table.Td data-label="First call on new key">
                    <RelativeTime iso={flow.lastSeenOnNew} empty="Not yet" />
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </CardTable>
        </Paper>
      </Stack>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title="Revoke the old key?" centered>
        <Stack>
          <Text size="sm">
            <b>{r.predecessorName}</b> stops working at once and for good.
            {!r.safeToRevoke && ' Some flows have not moved yet: their runs will fail until they use the new key.'}
          </Text>
          <Group justify="end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button
              color="red"
              loading={revokeOld.isPending}
              onClick={() =>
                revokeOld.mutate(r.predecessorId, {
                  onSuccess: () => setConfirming(false),
                  onError: failed('The old key was not revoked'),
                })
              }
            >
              Revoke {r.predecessorName}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
