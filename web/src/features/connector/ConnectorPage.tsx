import { Alert, Anchor, Button, Card, Code, CopyButton, Group, List, Stack, Text, Timeline, Title, ActionIcon, Tooltip } from '@mantine/core';
import { IconCheck, IconCopy, IconDownload, IconInfoCircle } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { PageHeader } from '../../components/PageHeader';
import { Link } from '../../lib/router';

function Value({ children }: { children: string }) {
  return (
    <Group gap={4} component="span" wrap="nowrap" style={{ display: 'inline-flex', verticalAlign: 'middle' }}>
      <Code>{children}</Code>
      <CopyButton value={children}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : `Copy ${children}`}>
            <ActionIcon size="sm" variant="subtle" color={copied ? 'teal' : 'gray'} onClick={copy} aria-label={`Copy ${children}`}>
              {copied ? <IconCheck size={14} /> : <IconCopy size={14} />}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

function Step({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Timeline.Item
      title={<Text fw={600}>{title}</Text>}
      bullet={
        <Text size="xs" fw={700} c="white">
          {title.split('.')[0]}
        </Text>
      }
    >
      <Stack gap={6} mt={4}>
        {children}
      </Stack>
    </Timeline.Item>
  );
}

export default function ConnectorPage() {
  const host = window.location.host;
  const scheme = window.location.protocol.replace(':', '').toUpperCase();
  return (
    <>
      <PageHeader
        title="Connector"
        description="Import the Build a Doc custom connector into Power Automate or Power Apps, then create a connection with one of your API keys."
        actions={
          <Button component="a" href="/connector/build-a-doc-connector.zip" download leftSection={<IconDownload size={16} />}>
            Download connector (.zip)
          </Button>
        }
      />
      <Stack gap="lg">
        <Card withBorder radius="md" padding="lg">
          <Group gap="xl" wrap="wrap">
            <Text size="sm">
              Host: <Value>{host}</Value>
            </Text>
            <Text size="sm">
              Base URL: <Value>/v1</Value>
            </Text>
            <Text size="sm">
              Scheme: <Code>{scheme}</Code>
            </Text>
            <Text size="sm">
              API key header: <Value>x-api-key</Value>
            </Text>
          </Group>
          <Text size="xs" c="dimmed" mt="sm">
            The zip holds <Code>apiDefinition.swagger.json</Code> (the actions, with this instance's host already filled in) and <Code>apiProperties.json</Code>{' '}
            (the API key connection parameter). Also available separately:{' '}
            <Anchor href="/connector/apiDefinition.swagger.json" size="xs">
              apiDefinition.swagger.json
            </Anchor>
            ,{' '}
            <Anchor href="/connector/apiProperties.json" size="xs">
              apiProperties.json
            </Anchor>
            .
          </Text>
        </Card>
        <Card withBorder radius="md" padding="lg" component="section" aria-label="Import the connector">
          <Title order={2} size="h4" mb="md">
            Import it in Power Automate, step by step
          </Title>
          <Timeline active={7} bulletSize={26} lineWidth={2}>
            <Step title="1. Download and unzip">
              <Text size="sm">
                Download the connector above and unzip it. Keep <Code>apiDefinition.swagger.json</Code> at hand.
              </Text>
            </Step>
            <Step title="2. Open Custom connectors">
              <Text size="sm">
                Go to{' '}
                <Anchor href="https://make.powerautomate.com" target="_blank" rel="noreferrer">
                  make.powerautomate.com
                </Anchor>
                , pick the right environment (top right), then <b>More → Discover all → Data → Custom connectors</b>.
              </Text>
            </Step>
            <Step title="3. Import the OpenAPI file">
              <Text size="sm">
                Choose <b>+ New custom connector → Import an OpenAPI file</b>, name it <Code>Build a Doc</Code>, select <Code>apiDefinition.swagger.json</Code>{' '}
                and press <b>Continue</b>.
              </Text>
            </Step>
            <Step title="4. Check General and Security">
              <List size="sm" spacing={4}>
                <List.Item>
                  General: Scheme <Code>{scheme}</Code>, Host <Value>{host}</Value>, Base URL <Code>/v1</Code> (already filled in).
                </List.Item>
                <List.Item>
                  Security: <b>API Key</b>, parameter label <Code>API key</Code>, parameter name <Code>x-api-key</Code>, location <b>Header</b>.
                </List.Item>
              </List>
            </Step>
            <Step title="5. Create the connector">
              <Text size="sm">
                Press <b>Create connector</b> (top right). The actions appear under Definition.
              </Text>
            </Step>
            <Step title="6. Create a connection with an API key">
              <Text size="sm">
                <Anchor component={Link} href="/keys">
                  Create an API key
                </Anchor>{' '}
                for this flow (e.g. <Code>prod-invoice-flow-finance</Code>), then in the connector's <b>Test</b> tab choose <b>+ New connection</b> and paste
                the key. Run <b>CheckConnection</b>: it answers with the key's name and your organisation.
              </Text>
            </Step>
            <Step title="7. Use it in a flow">
              <Text size="sm">
                In a flow, add an action, search for <b>Build a Doc</b> and pick the connection. Each flow's calls show on its key's page.
              </Text>
            </Step>
          </Timeline>
        </Card>
        <Alert color="blue" variant="light" icon={<IconInfoCircle size={18} />} title="Using the Power Platform CLI instead">
          <Text size="sm">
            With <Code>paconn</Code> installed and signed in (<Code>paconn login</Code>), from the unzipped folder run:
          </Text>
          <Code block mt="xs">
            paconn create --api-def apiDefinition.swagger.json --api-prop apiProperties.json
          </Code>
          <Text size="sm" mt="xs">
            A failing connection?{' '}
            <Anchor component={Link} href="/troubleshooting" c="inherit" underline="always" fw={600}>
              Test the key in Troubleshooting
            </Anchor>
            .
          </Text>
        </Alert>
      </Stack>
    </>
  );
}
