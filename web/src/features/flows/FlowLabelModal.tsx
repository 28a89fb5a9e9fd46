import { Alert, Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { type FormEvent, useState } from 'react';
import { errorMessage } from '../../lib/api';
import { useLabelFlow } from './api';

/** What the dialog needs of a flow, whether it comes from the Flows page or from a key's flows. */
export interface LabelledFlow {
  id: string;
  label: string | null;
  workflowName: string | null;
  workflowId?: string | null;
}

/**
 * Names a flow for everyone in the organisation; the name stays across rotations. The one dialog
 * for it, opened from the Flows page and from a key's page: every list that shows the flow
 * (the Flows page, each key's flows, a rotation's checklist) follows.
 */
export function FlowLabelModal({ flow, onClose }: { flow: LabelledFlow | null; onClose: () => void }) {
  const mutation = useLabelFlow();
  const [text, setText] = useState('');
  const [shownFor, setShownFor] = useState<LabelledFlow | null>(null);
  if (flow !== shownFor) {
    setShownFor(flow);
    if (flow) setText(flow.label ?? '');
  }
  const close = () => {
    mutation.reset();
    onClose();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!flow) return;
    const label = text.trim() || null;
    mutation.mutate(
      { id: flow.id, label },
      {
        onSuccess: () => {
          notifications.show({ color: 'green', message: label ? `Flow labelled "${label}".` : 'Label removed.' });
          close();
        },
      },
    );
  };
  return (
    <Modal opened={flow !== null} onClose={close} title="Label flow" centered>
      <form onSubmit={submit}>
        <Stack>
          {mutation.error && (
            <Alert color="red" role="alert" title="The label was not saved">
              {errorMessage(mutation.error)}
            </Alert>
          )}
          <Text size="sm">
            Power Automate only sends the flow's id (
            <Text span ff="monospace" size="sm" style={{ overflowWrap: 'anywhere' }}>
              {flow ? (flow.workflowName ?? flow.workflowId ?? flow.id) : ''}
            </Text>
            ). Give it a name your team recognises; it stays when the key is rotated.
          </Text>
          <TextInput
            label="Label"
            description="Leave empty to remove the label."
            value={text}
            maxLength={100}
            onChange={(e) => setText(e.currentTarget.value)}
            data-autofocus
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={mutation.isPending}>
              Save label
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
