import { Alert, Button, Group, Modal, Stack } from '@mantine/core';
import type { ReactNode } from 'react';
import { errorMessage } from '../lib/api';

/**
 * A dialog that asks before a change: what will happen, why it failed if it did, Cancel and the
 * change itself. Closing it any way forgets a failed attempt (`onClose` should reset the mutation).
 */
export function ConfirmDialog({
  opened,
  title,
  children,
  error,
  confirmLabel,
  color,
  loading,
  onConfirm,
  onClose,
}: {
  opened: boolean;
  title: string;
  children: ReactNode;
  error: unknown;
  confirmLabel: string;
  color?: string;
  loading: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={title} centered>
      {opened && (
        <Stack>
          {Boolean(error) && (
            <Alert color="red" role="alert">
              {errorMessage(error)}
            </Alert>
          )}
          {children}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button color={color} loading={loading} onClick={onConfirm}>
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
