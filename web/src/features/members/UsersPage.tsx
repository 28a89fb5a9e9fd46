import { Alert, Anchor, Badge, Button, Group, Modal, Pagination, Paper, Select, Stack, Table, Text, TextInput, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { IconUserPlus, IconUsers } from '@tabler/icons-react';
import { useState, type FormEvent } from 'react';
import { CardTable } from '../../components/CardTable';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { PageHeader } from '../../components/PageHeader';
import { ExactDate } from '../../components/RelativeTime';
import { Empty, ErrorState } from '../../components/states';
import { errorMessage } from '../../lib/api';
import { ROLE_COLOR, ROLE_LABEL, date, labelOptions, plural } from '../../lib/format';
import { Link } from '../../lib/router';
import { permissions, useSession } from '../../lib/session';
import type { Member, Role } from '../../lib/types';
import { InvitationLink } from './InvitationLink';
import { PendingInvitations } from './PendingInvitations';
import { MEMBERS_PAGE_SIZE as PAGE_SIZE, membersQuery, useChangeRole, useDeactivateMember, useInvite } from './api';

const ROLES = labelOptions(ROLE_LABEL);
const ROLE_HELP = 'Admins manage everything; Members create keys and manage their own; Viewers only look.';

export default function UsersPage() {
  const me = useSession();
  const manage = permissions.manageTeam(me);
  const [page, setPage] = useState(1);
  const [inviting, setInviting] = useState(false);
  const [deactivating, setDeactivating] = useState<Member | null>(null);
  const members = useQuery(membersQuery(page));
  const changeRoleMutation = useChangeRole();
  const changeRole = (id: string, role: Role) =>
    changeRoleMutation.mutate(
      { id, role },
      {
        onSuccess: () => notifications.show({ color: 'green', message: `Role changed to ${ROLE_LABEL[role]}.` }),
        onError: (error) => notifications.show({ color: 'red', title: 'The role was not changed', message: errorMessage(error) }),
      },
    );
  const total = members.data?.total ?? 0;

  return (
    <>
      <PageHeader
        title="Users"
        description={`The people of ${me.organisation.name}. ${ROLE_HELP}`}
        actions={
          <Stack gap={4} align="flex-end">
            <Button leftSection={<IconUserPlus size={16} />} onClick={() => setInviting(true)} disabled={!manage.ok}>
              Invite user
            </Button>
          </Stack>
        }
      />
      {!manage.ok && (
        <Alert color="gray" variant="light" mb="md">
          {manage.reason}
        </Alert>
      )}
      {members.isError && <ErrorState error={members.error} onRetry={() => void members.refetch()} />}
      <Paper withBorder radius="md" p={{ base: 'sm', sm: 'md' }}>
        {members.data?.items.length === 0 ? (
          <Empty icon={<IconUsers size={28} />} title="Nobody here yet" description="Invite your colleagues so each of them has their own keys." />
        ) : (
          <CardTable
            aria-label="Users"
            columns={['Name', 'Role', 'Status', 'Live keys', 'Joined', { label: 'Actions', hidden: true }]}
            loadingRows={members.isPending ? 3 : 0}
          >
            {members.data?.items.map((member) => {
              const self = member.id === me.user.id;
              const editable = manage.ok && !self && member.status === 'active';
              return (
                <Table.Tr key={member.id}>
                  <Table.Td className="card-table-title">
                    <Text size="sm" fw={600}>
                      {member.name}{' '}
                      {self && (
                        <Badge component="span" size="xs" variant="outline" style={{ minWidth: 'max-content' }}>
                          You
                        </Badge>
                      )}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {member.email}
                    </Text>
                  </Table.Td>
                  <Table.Td data-label="Role">
                    {editable ? (
                      <Select
                        aria-label={`Role of ${member.name}`}
                        data={ROLES}
                        value={member.role}
                        allowDeselect={false}
                        onChange={(role) => role && role !== member.role && changeRole(member.id, role as Role)}
                        w={130}
                        maw="100%"
                        size="xs"
                      />
                    ) : (
                      <Badge variant="light" color={ROLE_COLOR[member.role]} style={{ minWidth: 'max-content' }}>
                        {ROLE_LABEL[member.role]}
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td data-label="Status">
                    {member.status === 'active' ? (
                      <Badge color="green" variant="light" style={{ minWidth: 'max-content' }}>
                        Active
                      </Badge>
                    ) : (
                      <Tooltip label={member.deactivatedAt ? `Deactivated on ${date(member.deactivatedAt)}` : 'Deactivated'}>
                        <Badge color="gray" variant="light" tabIndex={0} style={{ minWidth: 'max-content' }}>
                          Deactivated
                        </Badge>
                      </Tooltip>
                    )}
                  </Table.Td>
                  <Table.Td data-label="Live keys">
                    {member.activeKeyCount > 0 ? (
                      <Anchor component={Link} href={`/keys?ownerId=${member.id}`} size="sm">
                        {plural(member.activeKeyCount, 'key')}
                      </Anchor>
                    ) : (
                      <Text size="sm" c="dimmed">
                        None
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td data-label="Joined">
                    <ExactDate iso={member.createdAt} />
                  </Table.Td>
                  <Table.Td className="card-table-actions">
                    {editable && (
                      <div className="card-table-buttons">
                        <Button size="xs" variant="subtle" color="red" onClick={() => setDeactivating(member)} aria-label={`Deactivate ${member.name}`}>
                          Deactivate
                        </Button>
                      </div>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </CardTable>
        )}
        {total > PAGE_SIZE && (
          <Group justify="flex-end" mt="md">
            <Pagination total={Math.ceil(total / PAGE_SIZE)} value={page} onChange={setPage} size="sm" />
          </Group>
        )}
      </Paper>
      {manage.ok && <PendingInvitations />}
      <InviteModal opened={inviting} onClose={() => setInviting(false)} />
      <DeactivateModal member={deactivating} onClose={() => setDeactivating(null)} />
    </>
  );
}

function InviteModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string | null>('member');
  const mutation = useInvite();
  const close = () => {
    setEmail('');
    setRole('member');
    mutation.reset();
    onClose();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate({ email: email.trim(), role: (role ?? 'member') as Role });
  };
  const result = mutation.data;
  return (
    <Modal opened={opened} onClose={close} title={result ? 'Invitation created' : 'Invite user'} size="lg" centered>
      {!result ? (
        <form onSubmit={submit}>
          <Stack>
            {mutation.error && (
              <Alert color="red" role="alert">
                {errorMessage(mutation.error)}
              </Alert>
            )}
            <TextInput label="Email" type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} data-autofocus autoComplete="off" />
            <Select label="Role" data={ROLES} value={role} onChange={setRole} allowDeselect={false} description={ROLE_HELP} />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={mutation.isPending} disabled={!email.trim()}>
                Create invitation
              </Button>
            </Group>
          </Stack>
        </form>
      ) : (
        <Stack>
          <InvitationLink invitation={result.invitation} url={result.url} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Done
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function DeactivateModal({ member, onClose }: { member: Member | null; onClose: () => void }) {
  const mutation = useDeactivateMember();
  const deactivate = () =>
    mutation.mutate(member!.id, {
      onSuccess: () => {
        notifications.show({ color: 'green', message: `${member!.name} was deactivated and signed out.` });
        mutation.reset();
        onClose();
      },
    });
  const dismiss = () => {
    mutation.reset();
    onClose();
  };
  return (
    <ConfirmDialog
      opened={member !== null}
      title="Deactivate user"
      error={mutation.error}
      confirmLabel="Deactivate"
      color="red"
      loading={mutation.isPending}
      onConfirm={deactivate}
      onClose={dismiss}
    >
      {member && (
        <>
          <Text size="sm">
            <b>{member.name}</b> ({member.email}) will be signed out and cannot sign in again.
          </Text>
          <Alert color="orange" variant="light" title="Their keys stay active">
            {member.activeKeyCount > 0
              ? `${plural(member.activeKeyCount, 'live key')} created by ${member.name} keep working, so their flows do not break. `
              : 'They have no live keys. '}
            <Anchor component={Link} href={`/keys?ownerId=${member.id}`} size="sm" onClick={onClose} c="inherit" underline="always" fw={600}>
              Review their keys
            </Anchor>{' '}
            and rotate or revoke any that should stop.
          </Alert>
        </>
      )}
    </ConfirmDialog>
  );
}
