import { Alert, Button, Code, Group, List, Modal, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconCheck, IconCopy, IconLock } from '@tabler/icons-react';
import { useState } from 'react';
import { copyText } from '../../lib/clipboard';
import type { IssuedKey } from '../../lib/types';

/** Mantine's teal.9 (#087f5b): white text on it, and on its darker hover, stays above 4.5:1 (teal.8 is 3.9:1). */
const COPIED_GREEN = '#087f5b';

/**
 * A key's secret, shown exactly once (after create or rotate). Closing before copying asks
 * first, because nobody can show the key again.
 */
export function SecretModal({ issued, title, onClose }: { issued: IssuedKey | null; title: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState(false);

  const close = () => {
    setCopied(false);
    setConfirming(false);
    onClose();
  };
  const requestClose = () => (copied ? close() : setConfirming(true));
  const copy = async () => {
    if (!issued) return;
    try {
      await copyText(issued.secret);
      setCopied(true);
      notifications.show({
        color: 'green',
        icon: <IconCheck size={16} />,
        title: 'Copied',
        message: 'The API key is on your clipboard. Paste it into your password manager or key vault now.',
      });
    } catch (error) {
      notifications.show({ color: 'red', title: 'Could not copy', message: error instanceof Error ? error.message : 'Select the key and copy it yourself.' });
    }
  };

  return (
    <Modal opened={issued !== null} onClose={requestClose} title={title} size="lg" closeOnClickOutside={false} centered>
      {issued && !confirming && (
        <Stack gap="md">
          <Text size="sm">
            Your new API key <b>{issued.key.name}</b>:
          </Text>
          {/* Wrapped, not scrolled: on a phone the whole key shows, and there is nothing to scroll to with the keyboard. */}
          <Code block className="secret" fz="md" p="md" style={{ whiteSpace: 'pre-wrap' }} aria-label="The new API key" data-testid="new-api-key">
            {issued.secret}
          </Code>
          <Group>
            <Button
              leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              color={copied ? COPIED_GREEN : undefined}
              onClick={() => void copy()}
            >
              {copied ? 'Copied' : 'Copy key'}
            </Button>
            {copied && (
              <Text size="sm" fw={500} role="status">
                Copied to the clipboard.
              </Text>
            )}
          </Group>
          <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="This key won't be shown again">
            Copy it now. Build a Doc keeps only a fingerprint of the key, so nobody can show it to you again; if you lose it, rotate or create a new one.
          </Alert>
          <Alert color="blue" variant="light" icon={<IconLock size={18} />} title="Store it safely">
            <List size="sm" spacing={2}>
              <List.Item>Keep it in a password manager or in Azure Key Vault.</List.Item>
              <List.Item>Never keep it in plain text: not in email, chat, a document, a spreadsheet or source code.</List.Item>
              <List.Item>Paste it into the Power Automate connection as the API key.</List.Item>
            </List>
          </Alert>
          {issued.warnings.length > 0 && (
            <Alert color="yellow" variant="light" title="About the name">
              <List size="sm">
                {issued.warnings.map((warning) => (
                  <List.Item key={warning}>{warning}</List.Item>
                ))}
              </List>
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant={copied ? 'filled' : 'default'} onClick={requestClose}>
              {copied ? 'Done' : 'Close'}
            </Button>
          </Group>
        </Stack>
      )}
      {issued && confirming && (
        <Stack gap="md">
          <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title="You have not copied the key">
            If you close this window now, the key <b>{issued.key.name}</b> can never be shown again. Flows will need a new key.
          </Alert>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Go back to the key
            </Button>
            <Button color="red" onClick={close}>
              Close without copying
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
