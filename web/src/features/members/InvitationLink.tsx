import { Alert, Button, Code, CopyButton, Group, Stack, Text } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import { ROLE_LABEL, date } from '../../lib/format';
import type { Invitation } from '../../lib/types';

/** A one-time invitation link, shown once (after inviting, and after resending), with a copy button. */
export function InvitationLink({ invitation, url }: { invitation: Invitation; url: string }) {
  return (
    <Stack>
      <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
        Send this link to <b>{invitation.email}</b> ({ROLE_LABEL[invitation.role]}). It works once and expires on {date(invitation.expiresAt)}.
      </Text>
      {/* Focusable: a long link scrolls sideways, and the keyboard must reach it too. */}
      <Code block className="secret" aria-label="Invitation link" data-testid="invitation-link" tabIndex={0}>
        {url}
      </Code>
      <Group>
        <CopyButton value={url}>
          {({ copied, copy }) => (
            <Button leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />} color={copied ? 'teal' : undefined} onClick={copy}>
              {copied ? 'Link copied' : 'Copy link'}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Alert color="blue" variant="light">
        The link is shown only now. Anyone with it can join as this person, so send it only to them.
      </Alert>
    </Stack>
  );
}
