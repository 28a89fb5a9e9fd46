import { useQuery } from '@tanstack/react-query';
import { permissions, useSession } from '../../lib/session';
import { resourceHistoryQuery } from '../audit/api';
import { subscriptionQuery } from '../subscription/api';
import { keyFlowsQuery, keyQuery, keyUsageQuery } from './api';
import { keyActionsFor } from './key-rules';
import { useKeyActions } from './use-key-actions';

/**
 * Everything the key page shows, fetched: the key, then (once it exists) its usage, flows and
 * history; what the person may do to it; and the dialogs of those actions.
 */
export function useKeyDetail(id: string) {
  const me = useSession();
  const key = useQuery(keyQuery(id));
  const found = key.isSuccess;
  // The same period as the Usage and Subscription pages: the billing period.
  const subscription = useQuery(subscriptionQuery);
  const periodStart = subscription.data?.periodStart;
  const usage = useQuery({ ...keyUsageQuery(id, periodStart), enabled: found && periodStart !== undefined });
  const flows = useQuery({ ...keyFlowsQuery(id), enabled: found });
  const historyAllowed = permissions.viewAudit(me);
  const history = useQuery({ ...resourceHistoryQuery(id), enabled: found && historyAllowed.ok });
  const rules = key.data ? keyActionsFor(me.user, key.data) : null;
  const actions = useKeyActions();
  return { key, usage, periodStart, flows, history, historyAllowed, ownActionsOnly: me.user.role === 'member', rules, actions };
}
