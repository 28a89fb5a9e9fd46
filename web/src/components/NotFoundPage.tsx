import { Button } from '@mantine/core';
import { IconCompass } from '@tabler/icons-react';
import { Empty } from './states';
import { PageHeader } from './PageHeader';
import { Link } from '../lib/router';

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Empty
        icon={<IconCompass size={28} />}
        title="There is no page at this address"
        description="The link may be old or mistyped."
        action={
          <Button component={Link} href="/keys">
            Go to API keys
          </Button>
        }
      />
    </>
  );
}
