import { Alert, Anchor, Button, Group, Modal, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { IconAlertTriangle, IconBulb } from '@tabler/icons-react';
import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../../lib/api';
import { ENVIRONMENT_LABEL, labelOptions } from '../../lib/format';
import type { Environment, IssuedKey } from '../../lib/types';
import { useCreateKey } from './api';
import { NAME_HINT, parseKeyName, vagueNameWarning } from './names';

const EXPIRY = [
  { value: '30', label: '30 days' },
  { value: '60', label: '60 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: 'never', label: 'Never' },
];

const ENVIRONMENTS = labelOptions(ENVIRONMENT_LABEL);

export function CreateKeyModal({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: (issued: IssuedKey) => void }) {
  const [name, setName] = useState('');
  const [environment, setEnvironment] = useState<string | null>('production');
  const [team, setTeam] = useState('');
  const [expiry, setExpiry] = useState('90');
  // A conventional name already says the environment and team: used, not asked again, unless the person chooses otherwise.
  const [askAnyway, setAskAnyway] = useState(false);
  const parsed = askAnyway ? null : parseKeyName(name);
  // Five choices do not fit side by side on a phone.
  const narrow = useMediaQuery('(max-width: 30em)', false);
  const mutation = useCreateKey();
  const reset = () => {
    setName('');
    setTeam('');
    setEnvironment('production');
    setExpiry('90');
    setAskAnyway(false);
    mutation.reset();
  };
  const close = () => {
    reset();
    onClose();
  };
  const warning = vagueNameWarning(name);
  const nameError = mutation.error instanceof ApiError ? mutation.error.problem.errors?.find((e) => e.path === '/name')?.message : undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    mutation.mutate(
      {
        name: name.trim(),
        environment: parsed ? parsed.environment : ((environment as Environment | null) ?? null),
        team: parsed ? parsed.team : team.trim() || null,
        expiresInDays: expiry === 'never' ? null : Number(expiry),
      },
      {
        onSuccess: (issued) => {
          reset();
          onCreated(issued);
        },
      },
    );
  };

  return (
    <Modal opened={opened} onClose={close} title="Create New Key" size="lg" centered>
      <form onSubmit={submit}>
        <Stack gap="md">
          {mutation.error && !nameError && (
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert" title="The key was not created">
              {errorMessage(mutation.error)}
            </Alert>
          )}
          <TextInput
            label="Name"
            required
            maxLength={100}
            placeholder="prod-invoice-flow-finance"
            description={NAME_HINT}
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            error={nameError}
            data-autofocus
            autoComplete="off"
          />
          {warning && (
            <Alert color="yellow" variant="light" icon={<IconBulb size={18} />} role="status" title="Choose a name that says where the key is used">
              {warning}
            </Alert>
          )}
          {parsed ? (
            <Text size="sm" role="status" data-testid="parsed-name">
              From the name: environment <b>{ENVIRONMENT_LABEL[parsed.environment]}</b>, team <b>{parsed.team}</b>.{' '}
              <Anchor
                component="button"
                type="button"
                size="sm"
                onClick={() => {
                  setEnvironment(parsed.environment);
                  setTeam(parsed.team);
                  setAskAnyway(true);
                }}
              >
                Set them differently
              </Anchor>
            </Text>
          ) : (
            <Group grow align="flex-start" wrap="wrap">
              <Select label="Environment" data={ENVIRONMENTS} value={environment} onChange={setEnvironment} clearable allowDeselect miw={180} />
              <TextInput label="Team" placeholder="finance" maxLength={100} value={team} onChange={(event) => setTeam(event.currentTarget.value)} miw={180} />
            </Group>
          )}
          <Stack gap={4}>
            <Text size="sm" fw={500} id="expiry-label">
              Expiration
            </Text>
            <SegmentedControl
              aria-labelledby="expiry-label"
              data={EXPIRY}
              value={expiry}
              onChange={setExpiry}
              fullWidth
              orientation={narrow ? 'vertical' : 'horizontal'}
            />
            <Text size="xs" c="dimmed">
              {expiry === 'never'
                ? 'The key works until someone revokes it. Keys that never expire are a risk if they leak.'
                : 'The key stops working on its own after this time; rotate it before then.'}
            </Text>
          </Stack>
          <Group justify="flex-end" mt="sm">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={mutation.isPending} disabled={!name.trim()}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
