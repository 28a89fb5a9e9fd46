import { Alert, Anchor, Button, Center, Group, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconAlertTriangle, IconFileText } from '@tabler/icons-react';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, errorMessage } from '../../lib/api';
import { Link, navigate, useLocation } from '../../lib/router';
import type { InvitationPreview } from '../../lib/types';
import { invitationPreviewQuery, useAcceptInvitation, useSignIn, useSignUp } from './api';

function AuthFrame({ title, subtitle, children }: { title: string; subtitle?: ReactNode; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Build a Doc portal`;
  }, [title]);
  return (
    <Center mih="100dvh" p="md" component="main" bg="var(--mantine-color-default-hover)">
      <Stack w="100%" maw={420} gap="lg">
        <Group gap={8} justify="center">
          <IconFileText size={30} color="var(--mantine-color-blue-filled)" aria-hidden />
          <Text fw={700} size="xl">
            Build a Doc
          </Text>
        </Group>
        <Paper withBorder shadow="sm" p={{ base: 'lg', sm: 'xl' }} radius="lg">
          <Title order={1} size="h3" mb={4}>
            {title}
          </Title>
          {subtitle && (
            <Text c="dimmed" size="sm" mb="lg">
              {subtitle}
            </Text>
          )}
          {children}
        </Paper>
      </Stack>
    </Center>
  );
}

/** Field errors of a 400 answer, by field name (`/password` → password). */
function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError) || !error.problem.errors) return {};
  return Object.fromEntries(error.problem.errors.map((e) => [e.path.replace(/^\//, ''), e.message]));
}

function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
      {errorMessage(error)}
    </Alert>
  );
}

/** After signing in: go where the person was going. */
function useSignedIn() {
  const { search } = useLocation();
  return () => {
    const next = search.get('next');
    navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/keys', { replace: true });
  };
}

export function SignInPage() {
  const signedIn = useSignedIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const mutation = useSignIn();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate({ email: email.trim(), password }, { onSuccess: signedIn });
  };
  return (
    <AuthFrame title="Sign in" subtitle="Manage the API keys your Power Automate flows use to call Build a Doc.">
      <form onSubmit={submit} noValidate={false}>
        <Stack gap="md">
          <FormError error={mutation.error} />
          <TextInput label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} autoFocus />
          <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
          <Button type="submit" loading={mutation.isPending} fullWidth>
            Sign in
          </Button>
          <Text size="sm" ta="center">
            New to Build a Doc?{' '}
            <Anchor component={Link} href="/signup">
              Create an organisation
            </Anchor>
          </Text>
          <Text size="xs" c="dimmed" ta="center">
            Forgot your password? Ask an Admin of your organisation to invite you again.
          </Text>
        </Stack>
      </form>
    </AuthFrame>
  );
}

export function SignUpPage() {
  const signedIn = useSignedIn();
  const [form, setForm] = useState({ name: '', email: '', organisation: '', password: '' });
  const set = (field: keyof typeof form) => (event: { currentTarget: { value: string } }) => setForm({ ...form, [field]: event.currentTarget.value });
  const mutation = useSignUp();
  const errors = fieldErrors(mutation.error);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate({ ...form, email: form.email.trim(), name: form.name.trim(), organisation: form.organisation.trim() }, { onSuccess: signedIn });
  };
  return (
    <AuthFrame title="Create your organisation" subtitle="You start on the Free plan as its Admin; invite your team afterwards.">
      <form onSubmit={submit}>
        <Stack gap="md">
          <FormError error={mutation.error} />
          <TextInput label="Your name" autoComplete="name" required value={form.name} onChange={set('name')} error={errors.name} autoFocus />
          <TextInput label="Work email" type="email" autoComplete="email" required value={form.email} onChange={set('email')} error={errors.email} />
          <TextInput
            label="Organisation"
            autoComplete="organization"
            required
            value={form.organisation}
            onChange={set('organisation')}
            error={errors.organisation}
            description="Your company or team, as your colleagues will see it"
          />
          <PasswordInput
            label="Password"
            autoComplete="new-password"
            required
            minLength={10}
            value={form.password}
            onChange={set('password')}
            error={errors.password}
            description="At least 10 characters"
          />
          <Button type="submit" loading={mutation.isPending} fullWidth>
            Create organisation
          </Button>
          <Text size="sm" ta="center">
            Already have an account?{' '}
            <Anchor component={Link} href="/signin">
              Sign in
            </Anchor>
          </Text>
        </Stack>
      </form>
    </AuthFrame>
  );
}

const ROLE_PHRASE: Record<InvitationPreview['role'], string> = { admin: 'an Admin', member: 'a Member', viewer: 'a Viewer' };

/** The invitation link is `/accept-invitation#token=…`: the token stays out of server logs. */
function tokenFromFragment(): string | null {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  return params.get('token');
}

export function AcceptInvitationPage() {
  const signedIn = useSignedIn();
  const [token] = useState(tokenFromFragment);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const mutation = useAcceptInvitation();
  const preview = useQuery(invitationPreviewQuery(token));
  const errors = fieldErrors(mutation.error);
  if (!token) {
    return (
      <AuthFrame title="Accept your invitation">
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title="This invitation link is incomplete" role="alert">
          The link should end with <code>#token=…</code>. Open the whole link from the invitation, or ask your Admin to send a new one.
        </Alert>
      </AuthFrame>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate({ token, name: name.trim(), password }, { onSuccess: signedIn });
  };
  if (preview.error) {
    return (
      <AuthFrame title="Accept your invitation">
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title="This invitation cannot be used" role="alert">
          {/* A token of the wrong shape is refused as input (400): for the reader, the link is broken, not "invalid params". */}
          {preview.error instanceof ApiError && preview.error.problem.status === 400
            ? 'This invitation link is not complete or was changed. Open the whole link from the invitation, or ask your Admin to send a new one.'
            : errorMessage(preview.error)}
        </Alert>
      </AuthFrame>
    );
  }
  const offer = preview.data;
  const subtitle = offer ? (
    <>
      {offer.inviterName ?? 'An Admin'} invites you to join <strong>{offer.organisation}</strong> as {ROLE_PHRASE[offer.role]} ({offer.email}). Choose your name
      and a password.
    </>
  ) : (
    'Choose your name and a password to join your organisation on Build a Doc.'
  );
  return (
    <AuthFrame title="Accept your invitation" subtitle={subtitle}>
      <form onSubmit={submit}>
        <Stack gap="md">
          <FormError error={mutation.error} />
          <TextInput
            label="Your name"
            autoComplete="name"
            required
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.name}
            autoFocus
          />
          <PasswordInput
            label="Password"
            autoComplete="new-password"
            required
            minLength={10}
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={errors.password}
            description="At least 10 characters"
          />
          <Button type="submit" loading={mutation.isPending} fullWidth>
            Join organisation
          </Button>
        </Stack>
      </form>
    </AuthFrame>
  );
}
