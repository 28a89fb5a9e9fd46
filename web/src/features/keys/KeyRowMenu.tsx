import { ActionIcon, Menu, Text } from '@mantine/core';
import { IconDots, IconExternalLink, IconPencil, IconPlayerPause, IconPlayerPlay, IconRotateClockwise, IconBan, IconTrash } from '@tabler/icons-react';
import { navigate } from '../../lib/router';
import type { ApiKey } from '../../lib/types';
import { ACTION_LABEL, isDestructive, type KeyAction, type keyActionsFor } from './key-rules';

const ICONS: Record<KeyAction, typeof IconPencil> = {
  rename: IconPencil,
  suspend: IconPlayerPause,
  resume: IconPlayerPlay,
  rotate: IconRotateClockwise,
  revoke: IconBan,
  delete: IconTrash,
};

/** The actions of one key: those its state allows; disabled with the reason when the role may not. */
export function KeyRowMenu({
  apiKey,
  rules,
  onAction,
}: {
  apiKey: ApiKey;
  rules: ReturnType<typeof keyActionsFor>;
  onAction: (action: KeyAction, key: ApiKey) => void;
}) {
  return (
    <Menu position="bottom-end" withinPortal shadow="md" width={260}>
      <Menu.Target>
        <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${apiKey.name}`}>
          <IconDots size={18} />
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item leftSection={<IconExternalLink size={16} />} onClick={() => navigate(`/keys/${encodeURIComponent(apiKey.id)}`)}>
          View details
        </Menu.Item>
        <Menu.Divider />
        {rules.reason && (
          <Text size="xs" c="dimmed" px="sm" py={6} role="note">
            {rules.reason}
          </Text>
        )}
        {rules.actions.map((action) => {
          const Icon = ICONS[action];
          const danger = isDestructive(action);
          return (
            <Menu.Item
              key={action}
              leftSection={<Icon size={16} />}
              // red.9: Mantine's red (red.6) on white is 3.3:1, under WCAG's 4.5:1 for text.
              color={danger ? 'red.9' : undefined}
              disabled={!rules.enabled}
              onClick={() => onAction(action, apiKey)}
            >
              {ACTION_LABEL[action]}
            </Menu.Item>
          );
        })}
      </Menu.Dropdown>
    </Menu>
  );
}
