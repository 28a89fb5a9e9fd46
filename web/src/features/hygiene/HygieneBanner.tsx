import { Alert, Anchor, Badge, Button, Checkbox, Chip, Group, Modal, Paper, Stack, Table, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconShieldExclamation } from '@tabler/icons-react';
import { useState } from 'react';
import { errorMessage } from '../../lib/api';
import { plural } from '../../lib/format';
import { Link } from '../../lib/router';
import { useSession } from '../../lib/session';
import type { HygieneFinding } from '../../lib/types';
import { ACTION_LABEL, useBulkChange, useHygiene } from './api';

/** A finding's title is long: on a phone its chip wraps instead of running off the screen. */
const CHIP_STYLES = { label: { whiteSpace: 'normal', height: 'auto', minHeight: 'var(--chip-size)', lineHeight: 1.3, paddingBlock: 4 } } as const;

/** The key list's hygiene findings: a banner, a filter per finding, and bulk revoke or suspend. */
export function HygieneBanner() {
  const me = useSession();
  const hygiene = useHygiene();
  const bulk = useBulkChange();
  const [kind, setKind] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [action, setAction] = useState<'revoke' | 'suspend' | null>(null);
  const findings = hygiene.data?.findings ?? [];
  if (findings.length === 0) return null;
  const canManage = me.user.role !== 'viewer';
  const shown: HygieneFinding | undefined = findings.find((f) => f.kind === kind);
  // The keys of a `replace` finding are revoked or expired already: nothing to revoke or suspend.
  const canChange = canManage && shown?.action !== 'replace';
  const toggle = (id: string) =>
    setSelected((now) => {
      const next = new Set(now);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const keyCount = new Set(findings.flatMap((f) => f.keys.map((k) => k.id))).size;
  const color = findings.some((f) => f.severity === 'error') ? 'red' : findings.some((f) => f.severity === 'warning') ? 'orange' : 'blue';
  return (
    <Alert
      color={color}
      variant="light"
      // The body may shrink to the screen: the key list wraps inside it.
      styles={{ body: { minWidth: 0 } }}
      icon={<IconShieldExclamation size={18} />}
      title={`${plural(keyCount, 'key')} ${keyCount === 1 ? 'needs' : 'need'} attention`}
      mb="md"
    >
      <Stack gap="sm">
        <Chip.Group
          value={kind}
          onChange={(value) => {
            setKind(value === kind ? null : (value as string));
            setSelected(new Set());
          }}
        >
          <Group gap="xs">
            {findings.map((f) => (
              <Chip key={f.kind} value={f.kind} size="sm" styles={CHIP_STYLES}>
                {f.title} ({f.keys.length})
              </Chip>
            ))}
          </Group>
        </Chip.Group>
        {shown && (
          <>
            <Text size="sm">Fix: {ACTION_LABEL[shown.action]}.</Text>
            {/* On the page's own background: links on the alert's tint are too faint to read. */}
            <Paper withBorder>
              {/* Two columns at most, the status and owner under the name: the list fits a 375 px screen without scrolling. */}
              <Table aria-label="Keys of this finding" verticalSpacing={6}>
                <Table.Tbody>
                  {shown.keys.map((k) => (
                    <Table.Tr key={k.id}>
                      {canChange && (
                        <Table.Td w={40}>
                          <Checkbox aria-label={`Select ${k.name}`} checked={selected.has(k.id)} onChange={() => toggle(k.id)} />
                        </Table.Td>
                      )}
                      <Table.Td style={{ overflowWrap: 'anywhere' }}>
                        <Anchor component={Link} href={`/keys/${k.id}`}>
                          {k.name}
                        </Anchor>
                        <Group gap={6} mt={2}>
                          <Badge size="sm" variant="light" color={k.status === 'active' ? 'green' : 'gray'}>
                            {k.status}
                          </Badge>
                          {k.createdBy && <Text size="xs">{k.createdBy.name}</Text>}
                        </Group>
                        {k.flows.length > 0 && <Text size="xs">Still called by {k.flows.map((f) => f.label ?? f.workflowName).join(', ')}</Text>}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Paper>
            {canChange && (
              <Group>
                <Button size="xs" color="red" disabled={selected.size === 0} onClick={() => setAction('revoke')}>
                  Revoke selected
                </Button>
                <Button size="xs" variant="default" disabled={selected.size === 0} onClick={() => setAction('suspend')}>
                  Suspend selected
                </Button>
              </Group>
            )}
          </>
        )}
      </Stack>
      <Modal
        opened={action !== null}
        onClose={() => setAction(null)}
        title={`${action === 'revoke' ? 'Revoke' : 'Suspend'} ${plural(selected.size, 'key')}?`}
        centered
      >
        <Stack>
          <Text size="sm">
            {action === 'revoke' ? 'Revoked keys stop working at once and for good.' : 'Suspended keys stop working until someone resumes them.'} All of them
            change, or none does.
          </Text>
          <Group justify="end">
            <Button variant="default" onClick={() => setAction(null)}>
              Cancel
            </Button>
            <Button
              color="red"
              loading={bulk.isPending}
              onClick={() =>
                action &&
                bulk.mutate(
                  { action, keyIds: [...selected] },
                  {
                    onSuccess: () => {
                      setAction(null);
                      setSelected(new Set());
                      notifications.show({ color: 'green', title: 'Done', message: `${plural(selected.size, 'key')} changed.` });
                    },
                    onError: (error) => notifications.show({ color: 'red', title: 'Nothing was changed', message: errorMessage(error) }),
                  },
                )
              }
            >
              {action === 'revoke' ? 'Revoke' : 'Suspend'} {plural(selected.size, 'key')}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Alert>
  );
}
