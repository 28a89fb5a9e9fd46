import { Badge, Button, Group, Modal, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { ExactDate, RelativeTime } from '../../components/RelativeTime';
import { CardTable } from '../../components/CardTable';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorState } from '../../components/states';
import { errorMessage } from '../../lib/api';
import { focusTrigger, returnFocus, type FocusTrigger } from '../../lib/focus';
import { ROLE_COLOR, ROLE_LABEL } from '../../lib/format';
import type { Invitation } from '../../lib/types';
import { invitationsQuery, useResendInvitation, useWithdrawInvitation } from './api';
import { InvitationLink } from './InvitationLink';

/** The invitations nobody has accepted yet, each with Resend (a new link) and Withdraw (after confirmation). Admins only. */
export function PendingInvitations() {
  const invitations = useQuery(invitationsQuery);
  const resend = useResendInvitation();
  const [withdrawing, setWithdrawing] = useState<Invitation | null>(null);
  const [resent, setResent] = useState<{ invitation: Invitation; url: string } | null>(null);
  const trigger = useRef<FocusTrigger | null>(null);
  const items = invitations.data?.items ?? [];

  const remember = () => {
    trigger.current = focusTrigger();
  };
  const closed = () => returnFocus(trigger.current);
  const resendOne = (invitation: Invitation) => {
    remember();
    resend.mutate(invitation.id, {
      onSuccess: (result) => setResent(result),
      onError: (error) => notifications.show({ color: 'red', title: 'The invitation was not sent again', message: errorMessage(error) }),
    });
  };

  if (invitations.isSuccess && items.length === 0) return null;
  return (
    <Paper withBorder radius="md" p={{ base: 'sm', sm: 'md' }} mt="lg" component="section" aria-labelledby="pending-invitations">
      <Title order={2} size="h4" mb="sm" id="pending-invitations">
        Pending invitations
      </Title>
      {invitations.isError && <ErrorState error={invitations.error} onRetry={() => void invitations.refetch()} />}
      <CardTable
        aria-label="Pending invitations"
        columns={['Email', 'Role', 'Invited by', 'Sent', 'Expires', { label: 'Actions', hidden: true }]}
        loadingRows={invitations.isPending ? 2 : 0}
      >
        {items.map((invitation) => (
          <Table.Tr key={invitation.id}>
            <Table.Td className="card-table-title">
              <Text size="sm" fw={600}>
                {invitation.email}
              </Text>
            </Table.Td>
            <Table.Td data-label="Role">
              <Badge variant="light" color={ROLE_COLOR[invitation.role]} style={{ minWidth: 'max-content' }}>
                {ROLE_LABEL[invitation.role]}
              </Badge>
            </Table.Td>
            <Table.Td data-label="Invited by" className="card-table-wrap">
              {invitation.invitedBy?.name ?? 'An Admin'}
            </Table.Td>
            <Table.Td data-label="Sent">
              <RelativeTime iso={invitation.createdAt} />
            </Table.Td>
            <Table.Td data-label="Expires">
              <ExactDate iso={invitation.expiresAt} />
            </Table.Td>
            <Table.Td className="card-table-actions">
              <div className="card-table-buttons">
                <Button
                  size="xs"
                  variant="default"
                  loading={resend.isPending && resend.variables === invitation.id}
                  onClick={() => resendOne(invitation)}
                  aria-label={`Resend the invitation to ${invitation.email}`}
                >
                  Resend
                </Button>
                <Button
                  size="xs"
                  variant="subtle"
                  color="red"
                  onClick={() => {
                    remember();
                    setWithdrawing(invitation);
                  }}
                  aria-label={`Withdraw the invitation to ${invitation.email}`}
                >
                  Withdraw
                </Button>
              </div>
            </Table.Td>
          </Table.Tr>
        ))}
      </CardTable>
      <Modal
        opened={resent !== null}
        onClose={() => {
          setResent(null);
          closed();
        }}
        title="Invitation sent again"
        size="lg"
        centered
      >
        {resent && (
          <Stack>
            <Text size="sm" c="dimmed">
              The earlier link no longer works.
            </Text>
            <InvitationLink invitation={resent.invitation} url={resent.url} />
            <Group justify="flex-end">
              <Button
                variant="default"
                onClick={() => {
                  setResent(null);
                  closed();
                }}
              >
                Done
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
      <WithdrawModal
        invitation={withdrawing}
        onClose={() => {
          setWithdrawing(null);
          closed();
        }}
      />
    </Paper>
  );
}

function WithdrawModal({ invitation, onClose }: { invitation: Invitation | null; onClose: () => void }) {
  const mutation = useWithdrawInvitation();
  const dismiss = () => {
    mutation.reset();
    onClose();
  };
  const withdraw = () =>
    mutation.mutate(invitation!.id, {
      onSuccess: () => {
        notifications.show({ color: 'green', message: `The invitation to ${invitation!.email} was withdrawn; its link no longer works.` });
        dismiss();
      },
    });
  return (
    <ConfirmDialog
      opened={invitation !== null}
      title="Withdraw invitation"
      error={mutation.error}
      confirmLabel="Withdraw invitation"
      color="red"
      loading={mutation.isPending}
      onConfirm={withdraw}
      onClose={dismiss}
    >
      <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
        Withdraw the invitation to <b>{invitation?.email}</b> ({invitation && ROLE_LABEL[invitation.role]})? Its link stops working at once. You can invite them
        again later.
      </Text>
    </ConfirmDialog>
  );
}
