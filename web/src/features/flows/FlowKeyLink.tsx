import { Anchor, Badge, Group } from '@mantine/core';
import { KeyName } from '../../components/KeyName';
import { STATUS_COLOR, STATUS_LABEL } from '../../lib/format';
import { Link } from '../../lib/router';
import type { InventoryFlow } from '../../lib/types';

type FlowKey = InventoryFlow['keys'][number];

/** What sets a key a flow used apart from a working one: its state, or that it was rotated (and still works during its grace). */
export function flowKeyState(key: Pick<FlowKey, 'status' | 'replacedByKeyId' | 'graceEndsAt'>): { label: string; color: string } | null {
  if (key.status !== 'active') return { label: STATUS_LABEL[key.status], color: STATUS_COLOR[key.status] };
  if (key.replacedByKeyId) return key.graceEndsAt ? { label: 'In grace', color: 'orange' } : { label: 'Replaced', color: 'yellow' };
  return null;
}

/** The badge of an old or dead key (`flowKeyState`); nothing for a working key. */
export function KeyStateBadge({ flowKey }: { flowKey: Parameters<typeof flowKeyState>[0] }) {
  const state = flowKeyState(flowKey);
  if (!state) return null;
  return (
    <Badge component="span" size="xs" color={state.color} variant="light" style={{ minWidth: 'max-content' }}>
      {state.label}
    </Badge>
  );
}

/** A key a flow used: a link named by the key's name and last four characters, and a badge on an old or dead key. */
export function FlowKeyLink({ flowKey }: { flowKey: FlowKey }) {
  return (
    <Group gap={6}>
      <Anchor component={Link} href={`/keys/${flowKey.keyId}`} size="sm">
        <KeyName name={flowKey.name} last4={flowKey.last4} />
      </Anchor>
      <KeyStateBadge flowKey={flowKey} />
    </Group>
  );
}
