import {
  ActionIcon,
  AppShell,
  Avatar,
  Badge,
  Burger,
  Group,
  Menu,
  NavLink,
  Stack,
  Text,
  Tooltip,
  UnstyledButton,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure, useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  IconBuilding,
  IconChartBar,
  IconCreditCard,
  IconFileText,
  IconKey,
  IconRoute,
  IconListDetails,
  IconLogout,
  IconMoon,
  IconPlugConnected,
  IconSettings,
  IconStethoscope,
  IconSun,
  IconUsers,
  IconWebhook,
} from '@tabler/icons-react';
import { useEffect, type ReactNode } from 'react';
import { useSignOut } from './features/auth/api';
import { subscriptionQuery } from './features/subscription/api';
import { errorMessage } from './lib/api';
import { ROLE_COLOR, ROLE_LABEL } from './lib/format';
import { Link, navigate, useLocation } from './lib/router';
import { useSession } from './lib/session';

const NAV = [
  { href: '/keys', label: 'API Keys', icon: IconKey },
  { href: '/flows', label: 'Flows', icon: IconRoute },
  { href: '/usage', label: 'Usage', icon: IconChartBar },
  { href: '/users', label: 'Users', icon: IconUsers },
  { href: '/audit', label: 'Audit Logs', icon: IconListDetails },
  { href: '/subscription', label: 'Subscription', icon: IconCreditCard },
  { href: '/connector', label: 'Connector', icon: IconPlugConnected },
  { href: '/webhooks', label: 'Webhooks', icon: IconWebhook, admin: true },
  { href: '/troubleshooting', label: 'Troubleshooting', icon: IconStethoscope },
] as const;

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]!.toUpperCase())
    .join('');
}

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light', { getInitialValueInEffect: false });
  const next = computed === 'dark' ? 'light' : 'dark';
  return (
    <Tooltip label={`Switch to ${next} mode`}>
      <ActionIcon variant="default" size="lg" onClick={() => setColorScheme(next)} aria-label={`Switch to ${next} mode`}>
        {computed === 'dark' ? <IconSun size={18} /> : <IconMoon size={18} />}
      </ActionIcon>
    </Tooltip>
  );
}

function UserMenu() {
  const me = useSession();
  const queryClient = useQueryClient();
  const signOutMutation = useSignOut();
  const signOut = () =>
    signOutMutation.mutate(undefined, {
      onSuccess: () => {
        navigate('/signin', { replace: true });
        void queryClient.invalidateQueries({ queryKey: ['me'] });
      },
      onError: (error) => notifications.show({ color: 'red', title: 'Sign out failed', message: errorMessage(error) }),
    });
  return (
    <Menu position="bottom-end" width={260} shadow="md">
      <Menu.Target>
        <UnstyledButton aria-label={`Account: ${me.user.name}, ${ROLE_LABEL[me.user.role]}`} style={{ borderRadius: 8 }}>
          <Group gap={8} wrap="nowrap">
            <Avatar color={ROLE_COLOR[me.user.role]} radius="xl" size={32}>
              {initials(me.user.name)}
            </Avatar>
            <Stack gap={0} visibleFrom="sm" style={{ lineHeight: 1.2 }}>
              <Text size="sm" fw={600} lineClamp={1}>
                {me.user.name}
              </Text>
              <Text size="xs" c="dimmed" lineClamp={1}>
                {me.user.email}
              </Text>
            </Stack>
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Signed in as</Menu.Label>
        <Stack gap={2} px="sm" pb="xs">
          <Text size="sm" fw={600}>
            {me.user.name}
          </Text>
          <Text size="xs" c="dimmed">
            {me.user.email}
          </Text>
          <Text size="xs">
            {ROLE_LABEL[me.user.role]} of {me.organisation.name}
          </Text>
        </Stack>
        <Menu.Divider />
        <Menu.Item component={Link} href="/account" leftSection={<IconSettings size={16} />}>
          Account and mail
        </Menu.Item>
        <Menu.Item leftSection={<IconLogout size={16} />} onClick={signOut}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  const me = useSession();
  // The plan as the Subscription page shows it: refreshed on focus and after a change, whoever made it.
  const subscription = useQuery(subscriptionQuery);
  const planName = subscription.data?.planName ?? me.organisation.plan;
  const [opened, { toggle, close }] = useDisclosure(false);
  const { pathname } = useLocation();
  // Navigating closes the phone menu: pathname is the trigger, not a value the effect reads.
  // biome-ignore lint/correctness/useExhaustiveDependencies: deliberate, see above
  useEffect(close, [pathname, close]);
  // On phones the closed menu slides off-screen; hide it from the keyboard and screen readers too.
  const mobile = useMediaQuery('(max-width: 47.99em)', false);
  const hidden = mobile && !opened;

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding={{ base: 'sm', sm: 'lg' }}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap" gap="xs">
          <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} />
            <Link
              href="/keys"
              style={{ textDecoration: 'none', color: 'inherit', display: 'flex', alignItems: 'center', gap: 8 }}
              aria-label="Build a Doc portal home"
            >
              <IconFileText size={24} color="var(--mantine-color-blue-filled)" aria-hidden />
              <Text fw={700} visibleFrom="xs" span>
                Build a Doc
              </Text>
            </Link>
          </Group>
          <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
            <Group gap={6} wrap="nowrap" style={{ minWidth: 0 }} aria-label="Organisation and role">
              <IconBuilding size={16} aria-hidden style={{ flexShrink: 0 }} />
              <Text size="sm" fw={600} truncate="end" maw={{ base: 90, sm: 220 }} data-testid="organisation-name">
                {me.organisation.name}
              </Text>
              <Badge color={ROLE_COLOR[me.user.role]} variant="light" size="sm" style={{ flexShrink: 0 }}>
                {ROLE_LABEL[me.user.role]}
              </Badge>
            </Group>
            <ColorSchemeToggle />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Main navigation" style={hidden ? { visibility: 'hidden' } : undefined}>
        <AppShell.Section grow component="nav">
          {NAV.filter((item) => !('admin' in item) || me.user.role === 'admin').map((item) => {
            // A key's own page, and the landing page, are within API Keys.
            const active = pathname === item.href || pathname.startsWith(`${item.href}/`) || (pathname === '/' && item.href === '/keys');
            return (
              <NavLink
                key={item.href}
                component={Link}
                href={item.href}
                label={item.label}
                leftSection={<item.icon size={18} stroke={1.6} />}
                active={active}
                aria-current={active ? 'page' : undefined}
                style={{ borderRadius: 8 }}
              />
            );
          })}
        </AppShell.Section>
        <AppShell.Section>
          <Stack gap={2} p="xs" style={{ borderTop: '1px solid var(--mantine-color-default-border)' }}>
            <Text size="xs" c="dimmed">
              Organisation
            </Text>
            <Text size="sm" fw={600} truncate="end">
              {me.organisation.name}
            </Text>
            <Text size="xs" c="dimmed" data-testid="sidebar-plan">
              {me.user.name} · {ROLE_LABEL[me.user.role]} · {planName} plan
            </Text>
          </Stack>
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1} style={{ outline: 'none' }}>
        <div style={{ maxWidth: 1400, margin: '0 auto' }}>{children}</div>
      </AppShell.Main>
    </AppShell>
  );
}
