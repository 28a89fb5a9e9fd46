import { Alert, Anchor } from '@mantine/core';
import { IconRotateClockwise } from '@tabler/icons-react';
import { Link } from '../../lib/router';
import type { ApiKey } from '../../lib/types';

/** On a key that was rotated (or is a rotation's new key): the way to the rotation assistant. */
export function RotationLink({ apiKey }: { apiKey: Pick<ApiKey, 'id' | 'replacedByKeyId' | 'replacesKeyId' | 'status'> }) {
  if (!apiKey.replacedByKeyId && !apiKey.replacesKeyId) return null;
  const old = apiKey.replacedByKeyId !== null;
  if (old && apiKey.status === 'revoked') return null;
  return (
    <Alert color="blue" variant="light" icon={<IconRotateClockwise size={18} />} title={old ? 'This key was rotated' : 'This key replaces a rotated key'}>
      {/* The alert's tint leaves the link colour too faint: the text's own colour, underlined and bold. */}
      <Anchor component={Link} href={`/keys/${apiKey.id}/rotation`} c="inherit" underline="always" fw={600}>
        See which flows have moved to the new key
      </Anchor>
    </Alert>
  );
}
