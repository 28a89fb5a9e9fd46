import { Alert, Button, Group, List, Modal, Radio, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconCheck } from '@tabler/icons-react';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../../lib/api';
import { plural } from '../../lib/format';
import type { ApiKey, IssuedKey } from '../../lib/types';
import { useEndKey, useRenameKey, useRotateKey, useSuspendKey } from './api';
import { isDestructive, type KeyAction } from './key-rules';
import { SecretModal } from './SecretModal';
import { NAME_HINT, vagueNameWarning } from './names';

export function done(message: string) {
  notifications.show({ color: 'green', icon: <IconCheck size={16} />, message });
}

export function failed(title: string, error: unknown) {
  notifications.show({ color: 'red', title, message: errorMessage(error), autoClose: 8000 });
}

/** What the key dialogs show: the action asked for (null: none), and a rotated key's secret. */
export interface KeyDialogState {
  current: { action: KeyAction; key: ApiKey } | null;
  issued: IssuedKey | null;
}

/**
 * The dialogs behind a key's actions, shared by the key list and the key page; `useKeyActions`
 * holds which one is open.
 */
export function KeyActionDialogs({
  state,
  onClose,
  onRotated,
  onDeleted,
}: {
  state: KeyDialogState;
  onClose: () => void;
  onRotated: (issued: IssuedKey) => void;
  onDeleted?: () => void;
}) {
  const { current, issued } = state;
  return (
    <>
      <RenameModal target={current?.action === 'rename' ? current.key : null} onClose={onClose} />
      <SuspendModal target={current?.action === 'suspend' ? current.key : null} onClose={onClose} />
      <RotateModal target={current?.action === 'rotate' ? current.key : null} onClose={onClose} onDone={onRotated} />
      <DangerModal
        target={current && isDestructive(current.action) ? current.key : null}
        action={current?.action === 'delete' ? 'delete' : 'revoke'}
        onClose={onClose}
        onDone={(action) => {
          if (action === 'delete') onDeleted?.();
        }}
      />
      <SecretModal issued={issued} title="Your rotated key" onClose={onClose} />
    </>
  );
}

function RenameModal({ target, onClose }: { target: ApiKey | null; onClose: () => void }) {
  const [name, setName] = useState('');
  const [lastTarget, setLastTarget] = useState<ApiKey | null>(null);
  if (target !== lastTarget) {
    setLastTarget(target);
    if (target) setName(target.name);
  }
  const mutation = useRenameKey();
  // Every way out (Cancel, Escape, the close button, success) forgets a failed attempt.
  const dismiss = () => {
    mutation.reset();
    onClose();
  };
  const warning = vagueNameWarning(name);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    mutation.mutate(
      { id: target!.id, name: name.trim() },
      {
        onSuccess: ({ key, warnings }) => {
          done(`Renamed to "${key.name}".`);
          for (const warning of warnings) notifications.show({ color: 'yellow', title: 'About the name', message: warning, autoClose: 10_000 });
          dismiss();
        },
      },
    );
  };
  return (
    <Modal opened={target !== null} onClose={dismiss} title="Rename key" centered>
      <form onSubmit={submit}>
        <Stack>
          {mutation.error && (
            <Alert color="red" role="alert">
              {errorMessage(mutation.error)}
            </Alert>
          )}
          <TextInput
            label="Name"
            description={NAME_HINT}
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            data-autofocus
          />
          {warning && (
            <Alert color="yellow" variant="light" role="status">
              {warning}
            </Alert>
          )}
          <Text size="sm" c="dimmed">
            Renaming does not change the key itself; flows keep working.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={dismiss}>
              Cancel
            </Button>
            <Button type="submit" loading={mutation.isPending} disabled={!name.trim() || name.trim() === target?.name}>
              Save name
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function SuspendModal({ target, onClose }: { target: ApiKey | null; onClose: () => void }) {
  const mutation = useSuspendKey();
  const suspend = () =>
    mutation.mutate(target!.id, {
      onSuccess: (key) => {
        done(`"${key.name}" is suspended; resume it to let flows call again.`);
        dismiss();
      },
    });
  const dismiss = () => {
    mutation.reset();
    onClose();
  };
  return (
    <Modal opened={target !== null} onClose={dismiss} title="Suspend key" centered>
      <Stack>
        {mutation.error && (
          <Alert color="red" role="alert">
            {errorMessage(mutation.error)}
          </Alert>
        )}
        <Text size="sm">
          Suspend <b>{target?.name}</b>? From the very next request, flows using it fail with <b>401 api_key_suspended</b>
          {target && target.flowCount > 0 ? ` (${plural(target.flowCount, 'flow')} called it)` : ''}. You can resume it at any time.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={dismiss}>
            Cancel
          </Button>
          <Button color="yellow.8" autoContrast loading={mutation.isPending} onClick={suspend}>
            Suspend key
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

const GRACE = [
  { value: 'manual', label: 'Until I revoke it', description: 'Recommended: update every flow, check the old key shows no new calls, then revoke it.' },
  { value: '24', label: 'For 24 hours', description: 'The old key stops working on its own after 24 hours.' },
  { value: '168', label: 'For 7 days', description: 'The old key stops working on its own after 7 days.' },
];

function RotateModal({ target, onClose, onDone }: { target: ApiKey | null; onClose: () => void; onDone: (issued: IssuedKey) => void }) {
  const [grace, setGrace] = useState('manual');
  const mutation = useRotateKey();
  const rotate = () =>
    mutation.mutate(
      { id: target!.id, graceHours: grace === 'manual' ? undefined : Number(grace) },
      {
        onSuccess: (issued) => {
          forget();
          onDone(issued);
        },
      },
    );
  const forget = () => {
    mutation.reset();
    setGrace('manual');
  };
  const dismiss = () => {
    forget();
    onClose();
  };
  return (
    <Modal opened={target !== null} onClose={dismiss} title="Rotate key" size="lg" centered>
      <Stack>
        {mutation.error && (
          <Alert color="red" role="alert">
            {errorMessage(mutation.error)}
          </Alert>
        )}
        <Text size="sm">
          Rotating <b>{target?.name}</b> issues a successor with the same name, environment, team and lifetime. The new key is shown once.
        </Text>
        <Radio.Group label="Keep the old key working" value={grace} onChange={setGrace}>
          <Stack gap="xs" mt="xs">
            {GRACE.map((option) => (
              <Radio key={option.value} value={option.value} label={option.label} description={option.description} />
            ))}
          </Stack>
        </Radio.Group>
        <Group justify="flex-end">
          <Button variant="default" onClick={dismiss}>
            Cancel
          </Button>
          <Button loading={mutation.isPending} onClick={rotate}>
            Rotate key
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** Revoke and Delete: states the effect and asks for the key's name, because neither can be undone. */
function DangerModal({
  target,
  action,
  onClose,
  onDone,
}: {
  target: ApiKey | null;
  action: 'revoke' | 'delete';
  onClose: () => void;
  onDone: (action: 'revoke' | 'delete') => void;
}) {
  const [typed, setTyped] = useState('');
  const mutation = useEndKey();
  const dismiss = () => {
    setTyped('');
    mutation.reset();
    onClose();
  };
  const verb = action === 'delete' ? 'Delete' : 'Revoke';
  const alreadyDead = target?.status === 'revoked';
  const matches = target !== null && typed.trim() === target.name.trim();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!matches) return;
    const key = target;
    mutation.mutate(
      { id: key.id, action },
      {
        onSuccess: () => {
          onDone(action);
          done(action === 'delete' ? `"${key.name}" was deleted.` : `"${key.name}" was revoked; its next request is refused.`);
          dismiss();
        },
      },
    );
  };
  return (
    <Modal opened={target !== null} onClose={dismiss} title={`${verb} API key`} size="lg" centered>
      {target && (
        <form onSubmit={submit}>
          <Stack>
            {mutation.error && (
              <Alert color="red" role="alert">
                {errorMessage(mutation.error)}
              </Alert>
            )}
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title={`${verb} "${target.name}"?`}>
              <List size="sm" spacing={4}>
                {!alreadyDead && <List.Item>It takes effect immediately, on the very next request.</List.Item>}
                {!alreadyDead && (
                  <List.Item>
                    Every flow using this key will fail with <b>401 api_key_revoked</b>
                    {target.flowCount > 0 ? ` (${plural(target.flowCount, 'flow')} called it).` : '.'}
                  </List.Item>
                )}
                {action === 'delete' && <List.Item>The key disappears from the list; its audit history stays.</List.Item>}
                <List.Item>This cannot be undone.</List.Item>
              </List>
            </Alert>
            <TextInput
              label={`Type the key's name to confirm: ${target.name}`}
              value={typed}
              onChange={(event) => setTyped(event.currentTarget.value)}
              autoComplete="off"
              data-autofocus
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={dismiss}>
                Cancel
              </Button>
              <Button type="submit" color="red" disabled={!matches} loading={mutation.isPending}>
                {verb} key
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
