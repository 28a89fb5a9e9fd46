import { Alert, Button, Card, Code, Group, List, Stack, Text, TextInput, ThemeIcon, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { IconAlertTriangle, IconCircleCheck, IconCircleX, IconStethoscope } from '@tabler/icons-react';
import { useState, type FormEvent, type ReactNode } from 'react';
import { PageHeader } from '../../components/PageHeader';
import { Link } from '../../lib/router';
import { Anchor } from '@mantine/core';
import { diagnoseLocally, explainAnswer, type Explanation, type LocalIssue } from './diagnose';

interface GatewayAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Calls the gateway the way the connector does. The browser strips outer whitespace from headers. */
async function checkConnection(key: string): Promise<GatewayAnswer> {
  const response = await fetch('/v1/connection', { headers: { 'x-api-key': key, accept: 'application/json' }, credentials: 'omit', cache: 'no-store' });
  let body: Record<string, unknown> = {};
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    // a proxy's HTML error page: explained by the status alone
  }
  return { status: response.status, body };
}

function ExplanationCard({ explanation, heading }: { explanation: Explanation; heading?: string }) {
  const color = explanation.ok ? 'teal' : explanation.severity === 'warning' ? 'orange' : 'red';
  return (
    <Card withBorder radius="md" padding="lg" role="status" aria-live="polite" style={{ borderColor: `var(--mantine-color-${color}-5)` }}>
      <Group gap="sm" align="flex-start" wrap="nowrap">
        <ThemeIcon color={color} variant="light" size="lg" radius="xl">
          {explanation.ok ? <IconCircleCheck size={20} /> : <IconCircleX size={20} />}
        </ThemeIcon>
        <Stack gap={6} style={{ flex: 1 }}>
          {heading && (
            <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
              {heading}
            </Text>
          )}
          <Title order={2} size="h4">
            {explanation.title}
          </Title>
          <Text size="sm">{explanation.meaning}</Text>
          {explanation.fix && (
            <Text size="sm">
              <b>How to fix it:</b> {explanation.fix}
            </Text>
          )}
          {explanation.code && (
            <Text size="xs" c="dimmed">
              Gateway answer: HTTP {explanation.status} <Code>{explanation.code}</Code>
              {explanation.detail ? ` — “${explanation.detail}”` : ''}
            </Text>
          )}
        </Stack>
      </Group>
    </Card>
  );
}

function IssueList({ issues }: { issues: LocalIssue[] }) {
  return (
    <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="The pasted text is not exactly a key" role="alert">
      <List size="sm" spacing={6}>
        {issues.map((issue) => (
          <List.Item key={issue.kind}>
            <b>{issue.title}.</b> {issue.explanation}
          </List.Item>
        ))}
      </List>
      <Text size="sm" mt="sm">
        <b>How to fix it:</b> in Power Automate, edit the connection and paste the key again without it: exactly 41 characters starting with <Code>bdoc_</Code>.
        The gateway refuses such a key with <Code>api_key_malformed</Code>.
      </Text>
    </Alert>
  );
}

export default function TroubleshootingPage() {
  const [text, setText] = useState('');
  const [tested, setTested] = useState<{ issues: LocalIssue[]; cleaned: string } | null>(null);
  const test = useMutation({ mutationFn: (key: string) => checkConnection(key) });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const local = diagnoseLocally(text);
    setTested(local);
    test.reset();
    if (local.cleaned) test.mutate(local.cleaned);
  };
  let result: ReactNode = null;
  if (test.isPending)
    result = (
      <Text size="sm" c="dimmed" role="status">
        Asking the gateway…
      </Text>
    );
  else if (test.isError)
    result = (
      <Alert color="red" role="alert">
        The gateway could not be reached: check your network and try again.
      </Alert>
    );
  else if (test.data)
    result = (
      <ExplanationCard
        explanation={explainAnswer(test.data.status, test.data.body)}
        heading={tested && tested.issues.length > 0 ? 'Once that is fixed, the key itself' : undefined}
      />
    );

  return (
    <>
      <PageHeader
        title="Troubleshooting"
        description="A flow fails with 401, 403 or 429? Paste the key it uses: this page calls the gateway with it, exactly as the connector does, and tells you what is wrong and how to fix it."
      />
      <Stack gap="lg" maw={860}>
        <Card withBorder radius="md" padding="lg" component="section" aria-label="Test a key">
          <Title order={2} size="h4" mb="sm">
            Test a key
          </Title>
          <form onSubmit={submit}>
            <Stack gap="sm">
              <TextInput
                label="API key"
                description="Paste it exactly as it is in the connection, spaces and all. It is sent only to this Build a Doc instance and not stored."
                placeholder="bdoc_…"
                value={text}
                onChange={(e) => setText(e.currentTarget.value)}
                autoComplete="off"
                spellCheck={false}
                styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
              />
              <Group>
                <Button type="submit" leftSection={<IconStethoscope size={16} />} loading={test.isPending} disabled={text.length === 0}>
                  Test key
                </Button>
              </Group>
            </Stack>
          </form>
        </Card>
        {tested && tested.issues.length > 0 && <IssueList issues={tested.issues} />}
        {tested && !tested.cleaned && <ExplanationCard explanation={explainAnswer(401, { code: 'api_key_missing' })} />}
        {result}
        <Text size="sm" c="dimmed">
          Testing a key is not billed, but it shows on the key's page as a caller (your browser). Still stuck? The key's page lists the flows that call it and
          the{' '}
          <Anchor component={Link} href="/audit" size="sm">
            audit log
          </Anchor>{' '}
          shows who changed it.
        </Text>
      </Stack>
    </>
  );
}
