import { useQuery } from '@tanstack/react-query';
import { Suspense, lazy, useEffect, type ReactNode } from 'react';
import { matchPath, navigate, useLocation } from './lib/router';
import { SessionContext } from './lib/session';
import { ErrorState, PageLoader } from './components/states';
import { Shell } from './Shell';
import { meQuery } from './features/auth/api';
import { AcceptInvitationPage, SignInPage, SignUpPage } from './features/auth/AuthPages';
import { KeysPage } from './features/keys/KeysPage';
import { NotFoundPage } from './components/NotFoundPage';

// Every page but the key list (the landing page) loads on first visit.
const KeyDetailPage = lazy(() => import('./features/keys/KeyDetailPage'));
const UsagePage = lazy(() => import('./features/usage/UsagePage'));
const UsersPage = lazy(() => import('./features/members/UsersPage'));
const AuditPage = lazy(() => import('./features/audit/AuditPage'));
const SubscriptionPage = lazy(() => import('./features/subscription/SubscriptionPage'));
const ConnectorPage = lazy(() => import('./features/connector/ConnectorPage'));
const TroubleshootingPage = lazy(() => import('./features/troubleshooting/TroubleshootingPage'));
const WebhooksPage = lazy(() => import('./features/webhooks/WebhooksPage'));
const AccountPage = lazy(() => import('./features/account/AccountPage'));
const FlowsPage = lazy(() => import('./features/flows/FlowsPage'));
const RotationPage = lazy(() => import('./features/rotation/RotationPage'));

const PUBLIC_PAGES: Record<string, () => ReactNode> = {
  '/signin': () => <SignInPage />,
  '/signup': () => <SignUpPage />,
  '/accept-invitation': () => <AcceptInvitationPage />,
};

function privatePage(pathname: string): ReactNode {
  switch (pathname) {
    case '/':
    case '/keys':
      return <KeysPage />;
    case '/usage':
      return <UsagePage />;
    case '/users':
      return <UsersPage />;
    case '/audit':
      return <AuditPage />;
    case '/subscription':
      return <SubscriptionPage />;
    case '/connector':
      return <ConnectorPage />;
    case '/troubleshooting':
      return <TroubleshootingPage />;
    case '/webhooks':
      return <WebhooksPage />;
    case '/flows':
      return <FlowsPage />;
    case '/account':
      return <AccountPage />;
  }
  const rotation = matchPath('/keys/:id/rotation', pathname);
  if (rotation) return <RotationPage key={rotation.id} keyId={rotation.id!} />;
  const key = matchPath('/keys/:id', pathname);
  if (key) return <KeyDetailPage key={key.id} id={key.id!} />;
  return <NotFoundPage />;
}

/** Who is signed in: the person and organisation, or null when nobody is. */
export function useMe() {
  return useQuery(meQuery);
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export function App() {
  const { pathname, href } = useLocation();
  const me = useMe();
  const publicPage = PUBLIC_PAGES[pathname];

  if (me.isPending) return <PageLoader label="Loading the portal…" />;
  if (me.isError && !publicPage) {
    return (
      <div style={{ maxWidth: 560, margin: '10vh auto', padding: 16 }}>
        <ErrorState error={me.error} onRetry={() => void me.refetch()} title="The portal cannot reach the server" />
      </div>
    );
  }
  if (publicPage) {
    // Signed in already: sign-in and sign-up lead to the keys (an invitation may be for someone else).
    if (me.data && pathname !== '/accept-invitation') return <Redirect to="/keys" />;
    return <>{publicPage()}</>;
  }
  if (!me.data) {
    const next = href === '/' || href === '/keys' ? '' : `?next=${encodeURIComponent(href)}`;
    return <Redirect to={`/signin${next}`} />;
  }
  return (
    <SessionContext.Provider value={me.data}>
      <Shell>
        <Suspense fallback={<PageLoader />}>{privatePage(pathname)}</Suspense>
      </Shell>
    </SessionContext.Provider>
  );
}
