/** The JSON shapes of the portal API (see GET /api/openapi.json). */
import type { SubscriptionView } from '../../../src/api/views';

// Shared with the server: one definition of each shape the API answers with.
export type {
  AuditEntryView as AuditEntry,
  KeyFlowView as Flow,
  FlowView as InventoryFlow,
  HygieneFindingView as HygieneFinding,
  HygieneView as Hygiene,
  RotationView as Rotation,
  InvitationView as Invitation,
  InvitationPreview,
  IssuedKey,
  KeyEnvironment as Environment,
  KeyUsageView as KeyUsage,
  KeyView as ApiKey,
  MailPreferencesView as MailPreferences,
  Me,
  MemberView as Member,
  OrganisationSettingsView as OrganisationSettings,
  OrgUsageView as OrgUsage,
  Outcome,
  QuotaView as Quota,
  Role,
  SessionView,
  SubscriptionView as Subscription,
  UserRef,
  UserView as User,
  WebhookDeliveryView as WebhookDelivery,
  WebhookEndpointView as WebhookEndpoint,
  WebhookEventType,
  WebhookWithSecret,
} from '../../../src/api/views';

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export type Limits = SubscriptionView['limits'];

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId?: string;
  errors?: Array<{ path: string; message: string }>;
  [extra: string]: unknown;
}
