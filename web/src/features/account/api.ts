import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { get, put } from '../../lib/api';
import type { MailPreferences, OrganisationSettings } from '../../lib/types';

export const mailQuery = queryOptions({ queryKey: ['mail-preferences'], queryFn: () => get<MailPreferences>('/api/me/mail-preferences') });
export const settingsQuery = queryOptions({ queryKey: ['organisation-settings'], queryFn: () => get<OrganisationSettings>('/api/organisation/settings') });

/** Saving answers with the saved value: it replaces the cached one, nothing else changes. */
export function useSaveMailPreferences() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (next: MailPreferences) => put<MailPreferences>('/api/me/mail-preferences', next),
    onSuccess: (saved) => queryClient.setQueryData(mailQuery.queryKey, saved),
  });
}

export function useSaveOrganisationSettings() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (next: OrganisationSettings) => put<OrganisationSettings>('/api/organisation/settings', next),
    onSuccess: (saved) => queryClient.setQueryData(settingsQuery.queryKey, saved),
  });
}
