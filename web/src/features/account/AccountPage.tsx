import { Card, Radio, Skeleton, Stack, Switch, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState } from '../../components/states';
import { errorMessage } from '../../lib/api';
import { useSession } from '../../lib/session';
import type { OrganisationSettings } from '../../lib/types';
import { mailQuery, settingsQuery, useSaveMailPreferences, useSaveOrganisationSettings } from './api';

/** The signed-in person's mail choices, and (for Admins) what a leak report does to the organisation's keys. */
export default function AccountPage() {
  const me = useSession();
  return (
    <>
      <PageHeader title="Account and mail" description={`${me.user.name} · ${me.user.email}`} />
      <Stack gap="lg" maw={720}>
        <MailCard />
        {me.user.role === 'admin' && <LeakResponseCard />}
      </Stack>
    </>
  );
}

const notSaved = (error: unknown) => notifications.show({ color: 'red', title: 'Not saved', message: errorMessage(error) });

function MailCard() {
  const prefs = useQuery(mailQuery);
  const save = useSaveMailPreferences();
  const choose = (expiryReminders: boolean) =>
    save.mutate(
      { expiryReminders },
      {
        onSuccess: (saved) => notifications.show({ color: 'green', message: saved.expiryReminders ? 'Expiry reminders are on.' : 'Expiry reminders are off.' }),
        onError: notSaved,
      },
    );
  return (
    <Card withBorder radius="md" padding="lg">
      <Title order={3} size="h4" mb="xs">
        Mail
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Mail about exposed keys and used-up quotas always reaches the key's creator and the Admins; expiry reminders are yours to choose.
      </Text>
      {prefs.isError ? (
        <ErrorState error={prefs.error} onRetry={() => void prefs.refetch()} />
      ) : prefs.data ? (
        <Switch
          label="Expiry reminders by mail"
          description="14, 7 and 1 days before a key you created (or, as an Admin, any key of the organisation) expires"
          checked={save.isPending ? (save.variables?.expiryReminders ?? prefs.data.expiryReminders) : prefs.data.expiryReminders}
          disabled={save.isPending}
          onChange={(event) => choose(event.currentTarget.checked)}
        />
      ) : (
        <Skeleton height={40} />
      )}
    </Card>
  );
}

function LeakResponseCard() {
  const settings = useQuery(settingsQuery);
  const save = useSaveOrganisationSettings();
  const choose = (leakResponse: OrganisationSettings['leakResponse']) =>
    save.mutate({ leakResponse }, { onSuccess: () => notifications.show({ color: 'green', message: 'Saved.' }), onError: notSaved });
  return (
    <Card withBorder radius="md" padding="lg">
      <Title order={3} size="h4" mb="xs">
        When a key is found in public
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        GitHub's secret scanning reports Build a Doc keys pushed to public repositories. The key's creator and the Admins are mailed either way.
      </Text>
      {settings.isError ? (
        <ErrorState error={settings.error} onRetry={() => void settings.refetch()} />
      ) : settings.data ? (
        <Radio.Group
          value={save.isPending ? save.variables?.leakResponse : settings.data.leakResponse}
          onChange={(value) => choose(value as OrganisationSettings['leakResponse'])}
          aria-label="When a key is found in public"
        >
          <Stack gap="sm">
            <Radio
              value="revoke"
              label="Revoke it at once (recommended)"
              description="Flows using it stop until they get a new key."
              disabled={save.isPending}
            />
            <Radio value="notify" label="Only tell us" description="The key keeps working until someone rotates or revokes it." disabled={save.isPending} />
          </Stack>
        </Radio.Group>
      ) : (
        <Skeleton height={60} />
      )}
    </Card>
  );
}
