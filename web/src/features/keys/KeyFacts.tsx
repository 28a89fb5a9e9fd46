import { Alert, Anchor, Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconAlertTriangle, IconArrowLeft } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { ExposedWhere } from '../../components/ExposedBadge';
import { ExactDate, RelativeTime } from '../../components/RelativeTime';
import { ENVIRONMENT_LABEL, relative, utcTime } from '../../lib/format';
import { Link } from '../../lib/router';
import type { ApiKey } from '../../lib/types';
import { statusNotice } from './key-rules';
import { RotationLink } from '../rotation/RotationLink';

/** What the key page shows about a key itself: its facts, and the warnings its state calls for. */

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <div>{children}</div>
    </Stack>
  );
}

function KeyLink({ id }: { id: string }) {
  return (
    <Anchor component={Link} href={`/keys/${id}`} size="sm" className="mono">
      {id}
    </Anchor>
  );
}

export function BackLink() {
  return (
    <Anchor component={Link} href="/keys" size="sm" mb="xs" display="inline-flex" style={{ alignItems: 'center', gap: 4 }}>
      <IconArrowLeft size={14} aria-hidden /> All API keys
    </Anchor>
  );
}

export function Section({ title, icon, children, extra }: { title: string; icon: ReactNode; children: ReactNode; extra?: ReactNode }) {
  return (
    <Card withBorder radius="md" padding="lg" component="section" aria-label={title}>
      <Group justify="space-between" mb="md">
        <Group gap="xs">
          {icon}
          <Title order={2} size="h4">
            {title}
          </Title>
        </Group>
        {extra}
      </Group>
      {children}
    </Card>
  );
}

/** Found in public, revoked, suspended, expired or expiring soon: what that means for the flows. */
export function KeyAlerts({ apiKey: k }: { apiKey: ApiKey }) {
  return (
    <>
      {k.exposedAt && (
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title="This key was found in public">
          A secret scanner found it on {utcTime(k.exposedAt)} at <ExposedWhere url={k.exposedUrl} />.{' '}
          {k.status === 'revoked'
            ? 'It was revoked at once. Remove it from there too, and give the flows that used it a new key.'
            : 'Your organisation chose to be told only, so it still works: rotate or revoke it now, and remove it from there.'}
        </Alert>
      )}
      <StatusAlert apiKey={k} />
      <RotationLink apiKey={k} />
    </>
  );
}

function StatusAlert({ apiKey: k }: { apiKey: ApiKey }) {
  const notice = statusNotice(k);
  if (notice === 'revoked')
    return (
      <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title="This key is revoked">
        It was revoked {k.revokedAt ? `on ${utcTime(k.revokedAt)}` : ''}. Every request with it is refused with 401 api_key_revoked. Give the flows below a new
        key.
      </Alert>
    );
  if (notice === 'suspended')
    return (
      <Alert color="yellow" variant="light" icon={<IconAlertTriangle size={18} />} title="This key is suspended">
        Requests with it are refused with 401 api_key_suspended until someone resumes it.
      </Alert>
    );
  if (notice === 'expired')
    return (
      <Alert color="gray" variant="light" icon={<IconAlertTriangle size={18} />} title="This key has expired">
        It expired {k.expiresAt ? `on ${utcTime(k.expiresAt)}` : ''}; requests are refused with 401 api_key_expired. Create a new key for the flows below.
      </Alert>
    );
  if (notice === 'expiring')
    return (
      <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="This key expires soon">
        It stops working {relative(k.expiresAt)}. Rotate it and update the flows before then.
      </Alert>
    );
  return null;
}

export function KeyFacts({ apiKey: k }: { apiKey: ApiKey }) {
  return (
    <Card withBorder radius="md" padding="lg">
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="lg">
        <Fact label="Owner">
          <Text size="sm">{k.createdBy ? `${k.createdBy.name} (${k.createdBy.email})` : 'Operator'}</Text>
          {k.createdBy?.deactivated && (
            <Badge size="xs" color="orange" variant="light">
              Owner deactivated
            </Badge>
          )}
        </Fact>
        <Fact label="Created">
          <ExactDate iso={k.createdAt} />
        </Fact>
        <Fact label="Expires">
          <ExactDate iso={k.expiresAt} empty="Never" />
        </Fact>
        <Fact label="Last used">
          <RelativeTime iso={k.lastUsedAt} />
        </Fact>
        <Fact label="Environment">
          <Text size="sm">{k.environment ? ENVIRONMENT_LABEL[k.environment] : '—'}</Text>
        </Fact>
        <Fact label="Team">
          <Text size="sm">{k.team ?? '—'}</Text>
        </Fact>
        <Fact label="Replaces">{k.replacesKeyId ? <KeyLink id={k.replacesKeyId} /> : <Text size="sm">—</Text>}</Fact>
        <Fact label="Replaced by">{k.replacedByKeyId ? <KeyLink id={k.replacedByKeyId} /> : <Text size="sm">—</Text>}</Fact>
        {k.suspendedAt && (
          <Fact label="Suspended">
            <ExactDate iso={k.suspendedAt} />
          </Fact>
        )}
        {k.revokedAt && (
          <Fact label="Revoked">
            <ExactDate iso={k.revokedAt} />
            {k.revokedBy && (
              <Text size="xs" c="dimmed">
                by {k.revokedBy.name}
              </Text>
            )}
          </Fact>
        )}
        {k.graceEndsAt && (
          <Fact label="Old key stops working">
            <ExactDate iso={k.graceEndsAt} />
          </Fact>
        )}
        <Fact label="Key id">
          <Text size="sm" className="mono">
            {k.id}
          </Text>
        </Fact>
      </SimpleGrid>
    </Card>
  );
}
