import { Alert, Anchor, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { Link } from '../../lib/router';
import type { keyAllowance } from './key-rules';

/** The key limit, before anyone fills the create form: "2 of 2 keys used", and at the limit what to do. */
export function KeyAllowance({ allowance }: { allowance: ReturnType<typeof keyAllowance> }) {
  if (!allowance.full) {
    return (
      <Text size="sm" c="dimmed" mb="sm" data-testid="key-allowance">
        {allowance.used}
      </Text>
    );
  }
  return (
    <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title={allowance.used} mb="md" data-testid="key-allowance">
      {allowance.advice}{' '}
      {allowance.seePlan && (
        <Anchor component={Link} href="/subscription" fw={600} c="inherit" underline="always">
          See the plans
        </Anchor>
      )}
    </Alert>
  );
}
