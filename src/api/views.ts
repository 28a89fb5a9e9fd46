/**
 * The JSON shapes the portal API answers with, each written once as a TypeBox schema: the
 * routes answer with the schema (it shapes the output and documents OpenAPI), and the
 * services and the browser app (`web/src/lib/types.ts`) use its static type.
 * Where the OpenAPI document says only "a string", `Type.Unsafe` keeps that schema while the
 * static type names the vocabulary's values.
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { ActionType, SubscriptionStatus } from '../domain/vocabulary.js';
import type { LimitOverrides } from '../plans/catalogue.js';

export type { ActionType, KeyDisplayStatus, KeyEnvironment, Outcome, Role, Severity } from '../domain/vocabulary.js';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('member'), Type.Literal('viewer')]);
export const EnvironmentSchema = Type.Union([Type.Literal('production'), Type.Literal('test'), Type.Literal('development'), Type.Literal('other')]);
const OutcomeSchema = Type.Enum(['success', 'client_error', 'server_error', 'rejected']);

/** A person as a key shows them; `deactivated`: the keys they created keep working and are flagged. */
export const UserRefSchema = Type.Object({ id: Type.String(), email: Type.String(), name: Type.String(), deactivated: Type.Boolean() });
export type UserRef = Static<typeof UserRefSchema>;

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  status: Type.Union([Type.Literal('active'), Type.Literal('deactivated')]),
  createdAt: Type.String(),
  deactivatedAt: Nullable(Type.String()),
});
export type UserView = Static<typeof UserSchema>;

/** A person of the team with the live keys they created (they keep working after a deactivation). */
export const MemberSchema = Type.Intersect([UserSchema, Type.Object({ activeKeyCount: Type.Integer() })]);
export type MemberView = Static<typeof MemberSchema>;

/** `invitedBy` is null when the operator invited, from the CLI. */
export const InvitationSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  createdAt: Type.String(),
  expiresAt: Type.String(),
  acceptedAt: Type.Union([Type.String(), Type.Null()]),
  invitedBy: Type.Union([Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
});
export type InvitationView = Static<typeof InvitationSchema>;

/** What the accept page shows before anyone signs up: who invites whom, to what. */
export const InvitationPreviewSchema = Type.Object({
  organisation: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  inviterName: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.String(),
});
export type InvitationPreview = Static<typeof InvitationPreviewSchema>;

/** The signed-in person and their organisation. */
export const MeSchema = Type.Object({
  user: UserSchema,
  organisation: Type.Object({ id: Type.String(), name: Type.String(), plan: Type.String(), subscriptionStatus: Type.String() }),
});
export type Me = Static<typeof MeSchema>;

/** Whether this browser is signed in, and as whom: the portal asks this first, so nobody signed in is an answer, not an error. */
export const SessionSchema = Type.Union([
  Type.Object({ signedIn: Type.Literal(false) }),
  Type.Object({ signedIn: Type.Literal(true), user: UserSchema, organisation: MeSchema.properties.organisation }),
]);
export type SessionView = Static<typeof SessionSchema>;

/** A key's displayed status: `expired` is derived from `expiresAt`, and a deleted key shows as revoked. */
const KeyStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('revoked'), Type.Literal('expired')]);

/** An API key as every route shows it (built only by `toKeyView`, so the hash cannot leak). */
export const KeySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    start: Type.String({ description: 'The first 9 characters of the key' }),
    last4: Type.String({ description: 'The last 4 characters of the key' }),
    status: KeyStatusSchema,
    environment: Nullable(EnvironmentSchema),
    team: Nullable(Type.String()),
    createdAt: Type.String(),
    createdBy: Nullable(UserRefSchema),
    expiresAt: Nullable(Type.String()),
    lastUsedAt: Nullable(Type.String()),
    suspendedAt: Nullable(Type.String()),
    revokedAt: Nullable(Type.String()),
    revokedBy: Nullable(UserRefSchema),
    replacesKeyId: Nullable(Type.String()),
    replacedByKeyId: Nullable(Type.String()),
    graceEndsAt: Nullable(Type.String()),
    flowCount: Type.Integer(),
    exposedAt: Nullable(Type.String({ description: 'When a secret scanner reported the key public' })),
    exposedUrl: Nullable(Type.String({ description: 'Where the key was found public' })),
  },
  { $id: 'ApiKey' },
);
export type KeyView = Static<typeof KeySchema>;

/** The answer of create and rotate: the only place a plaintext key ever appears. */
export const IssuedKeySchema = Type.Object({
  key: KeySchema,
  secret: Type.String({ description: 'The API key itself. Shown only in this response: copy it now.' }),
  warnings: Type.Array(Type.String()),
});
export type IssuedKey = Static<typeof IssuedKeySchema>;

/** Where Power Automate shows a flow, when its environment is known. */
const DetailsUrl = Nullable(Type.String({ description: 'https://make.powerautomate.com/environments/{env}/flows/{flowId}/details' }));

/** A flow as one key sees it: its calls through that key. `callingDeadKey`: it called this key after the key stopped working. */
export const KeyFlowSchema = Type.Object({
  id: Type.String(),
  label: Nullable(Type.String()),
  workflowName: Nullable(Type.String()),
  workflowId: Nullable(Type.String()),
  lastRunId: Nullable(Type.String()),
  location: Nullable(Type.String()),
  clientEnvironmentId: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  firstSeenAt: Type.String(),
  lastSeenAt: Type.String(),
  calls: Type.Integer(),
  lastOutcome: Type.String(),
  callingDeadKey: Type.Boolean({ description: 'The flow still calls this key although it no longer works' }),
  detailsUrl: DetailsUrl,
});
export type KeyFlowView = Static<typeof KeyFlowSchema>;

/**
 * A key a flow has called. A rotation's two keys share a name: `last4` tells them apart, and
 * `replacedByKeyId` (with `graceEndsAt`, when the old key stops working) marks the old one.
 */
export const FlowKeySchema = Type.Object({
  keyId: Type.String(),
  name: Type.String(),
  last4: Type.String({ description: 'The last 4 characters of the key' }),
  status: KeyStatusSchema,
  expiresAt: Nullable(Type.String()),
  replacedByKeyId: Nullable(Type.String({ description: 'The successor the key was rotated to, if it was' })),
  graceEndsAt: Nullable(Type.String({ description: 'When a rotated key stops working, if its rotation set a grace period' })),
  firstSeenAt: Type.String(),
  lastSeenAt: Type.String(),
  calls: Type.Integer(),
});
export type FlowKeyView = Static<typeof FlowKeySchema>;

/**
 * A flow of the organisation's inventory (CONTRACT §10): one per `x-ms-workflow-name` and
 * environment, across every key it used. `onRevokedOrExpiring`: its latest call went through a
 * key that is revoked, expired or expiring within 14 days.
 */
export const FlowSchema = Type.Object(
  {
    id: Type.String(),
    label: Nullable(Type.String()),
    workflowName: Type.String({ description: "x-ms-workflow-name: the flow's id in Power Automate" }),
    environmentId: Nullable(Type.String()),
    workflowId: Nullable(Type.String()),
    location: Nullable(Type.String()),
    userAgent: Nullable(Type.String()),
    firstSeenAt: Type.String(),
    lastSeenAt: Type.String(),
    calls: Type.Integer(),
    lastOutcome: Type.String(),
    lastRunId: Nullable(Type.String()),
    detailsUrl: DetailsUrl,
    onRevokedOrExpiring: Type.Boolean(),
    keys: Type.Array(FlowKeySchema),
  },
  { $id: 'Flow' },
);
export type FlowView = Static<typeof FlowSchema>;

/** A flow in a rotation's checklist: `moved` once it has called the successor. */
export const RotationFlowSchema = Type.Object({
  flowId: Type.String(),
  label: Nullable(Type.String()),
  workflowName: Type.String(),
  detailsUrl: DetailsUrl,
  lastSeenOnOld: Nullable(Type.String()),
  lastSeenOnNew: Nullable(Type.String()),
  moved: Type.Boolean(),
});
export type RotationFlowView = Static<typeof RotationFlowSchema>;

/** The state of a rotation, read from either key (CONTRACT §10). */
export const RotationSchema = Type.Object({
  predecessorId: Type.String(),
  predecessorName: Type.String(),
  predecessorLast4: Type.String({ description: 'The last 4 characters of the old key (both keys share a name)' }),
  predecessorStatus: KeyStatusSchema,
  successorId: Type.String(),
  successorName: Type.String(),
  successorLast4: Type.String({ description: 'The last 4 characters of the new key' }),
  rotatedAt: Type.String({ description: 'When the successor was issued' }),
  graceEndsAt: Nullable(Type.String()),
  revokeWhenDrained: Type.Boolean(),
  oldKeyLastUsedAt: Nullable(Type.String()),
  flows: Type.Array(RotationFlowSchema),
  safeToRevoke: Type.Boolean({ description: 'Every flow seen on the old key in its last 30 days has moved, and the old key had no call for 15 minutes' }),
});
export type RotationView = Static<typeof RotationSchema>;

export const HYGIENE_KINDS = ['never_used', 'idle', 'expiring', 'old', 'owner_deactivated', 'revoked_still_called'] as const;
export type HygieneKind = (typeof HYGIENE_KINDS)[number];
/** `replace`: a dead key cannot be rotated; its flows need a new key (create one, update their connection). */
export const HYGIENE_ACTIONS = ['rotate', 'replace', 'revoke', 'reassign_owner', 'set_expiry'] as const;

/** A key a hygiene finding names; `flows`: the flows that still call it (revoked_still_called). */
export const HygieneKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Nullable(Type.String()),
  expiresAt: Nullable(Type.String()),
  createdBy: Nullable(UserRefSchema),
  flows: Type.Array(Type.Object({ flowId: Type.String(), label: Nullable(Type.String()), workflowName: Type.String(), lastSeenAt: Type.String() })),
});

/** One kind of finding with its keys and the action that fixes it. */
export const HygieneFindingSchema = Type.Object({
  kind: Type.Unsafe<HygieneKind>(Type.String({ enum: [...HYGIENE_KINDS] })),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')]),
  title: Type.String(),
  action: Type.Unsafe<(typeof HYGIENE_ACTIONS)[number]>(Type.String({ enum: [...HYGIENE_ACTIONS] })),
  keys: Type.Array(HygieneKeySchema),
});
export type HygieneFindingView = Static<typeof HygieneFindingSchema>;

export const HygieneSchema = Type.Object({ findings: Type.Array(HygieneFindingSchema) });
export type HygieneView = Static<typeof HygieneSchema>;

/** Requests of one key per day, operation and outcome. */
export const KeyUsageSchema = Type.Object({
  keyId: Type.String(),
  from: Type.String(),
  to: Type.String(),
  items: Type.Array(Type.Object({ day: Type.String(), operation: Type.String(), actionType: Type.String(), outcome: OutcomeSchema, count: Type.Integer() })),
  totals: Type.Object({ success: Type.Integer(), client_error: Type.Integer(), server_error: Type.Integer(), rejected: Type.Integer() }),
});
export type KeyUsageView = Static<typeof KeyUsageSchema>;

const Count = Type.Union([Type.Integer(), Type.Null()]);
/** `limit` and `remaining` are null when unlimited. */
export const QuotaSchema = Type.Object({
  actionType: Type.Union([Type.Literal('document'), Type.Literal('utility')]),
  used: Type.Integer(),
  limit: Count,
  remaining: Count,
  percent: Type.Union([Type.Number(), Type.Null()]),
});
export type QuotaView = Static<typeof QuotaSchema>;

export const OperationUsageSchema = Type.Object({
  operation: Type.String(),
  actionType: Type.Unsafe<ActionType>(Type.String()),
  success: Type.Integer(),
  clientError: Type.Integer(),
  serverError: Type.Integer(),
  rejected: Type.Integer(),
});
export type OperationUsageView = Static<typeof OperationUsageSchema>;

/** Successful actions of each type that day, and the requests refused or failed (of any type). */
export const DailyUsageSchema = Type.Object({
  day: Type.String(),
  document: Type.Integer(),
  utility: Type.Integer(),
  none: Type.Integer(),
  failed: Type.Integer(),
});
export type DailyUsageView = Static<typeof DailyUsageSchema>;

/**
 * One key's requests this period: `calls` counts every request (refused ones too), `refused` those
 * refused (outcome `rejected`). A key deleted since keeps its calls here, with `deleted` (it has no
 * page any more: `GET /api/keys/:id` answers 404).
 */
export const KeyPeriodUsageSchema = Type.Object({
  keyId: Type.String(),
  name: Type.String(),
  last4: Type.String({ description: 'The last 4 characters of the key' }),
  status: KeyStatusSchema,
  deleted: Type.Boolean({ description: 'The key was deleted since (it shows as revoked)' }),
  calls: Type.Integer({ description: 'Requests made with the key this billing period, refused ones included' }),
  refused: Type.Integer({ description: 'Requests made with the key this billing period that were refused' }),
});
export type KeyPeriodUsageView = Static<typeof KeyPeriodUsageSchema>;

/**
 * A flow that called this billing period (last seen in it). Flows are counted over their
 * lifetime only, so `calls` are the flow's calls since it was first seen, not this period's.
 */
export const FlowPeriodUsageSchema = Type.Object({
  flowId: Type.String(),
  label: Nullable(Type.String()),
  name: Type.String({ description: "x-ms-workflow-name: the flow's id in Power Automate" }),
  calls: Type.Integer({ description: 'Calls since the flow was first seen (a lifetime count, not this period alone)' }),
  lastSeenAt: Type.String(),
});
export type FlowPeriodUsageView = Static<typeof FlowPeriodUsageSchema>;

export const OrgUsageSchema = Type.Object({
  periodStart: Type.String(),
  periodEnd: Type.String(),
  quotas: Type.Array(QuotaSchema),
  operations: Type.Array(OperationUsageSchema),
  daily: Type.Array(DailyUsageSchema),
  byKey: Type.Array(KeyPeriodUsageSchema, { description: 'The 20 keys with the most requests this billing period, most first' }),
  byFlow: Type.Array(FlowPeriodUsageSchema, {
    description: 'The 20 flows seen this billing period with the most calls since first seen, most first',
  }),
});
export type OrgUsageView = Static<typeof OrgUsageSchema>;

const Limit = Nullable(Type.Integer());
/** The plan, status and limits of an organisation; `overrides` are the limits that differ from the plan. */
export const SubscriptionSchema = Type.Object({
  organisation: Type.Object({ id: Type.String(), name: Type.String() }),
  plan: Type.String(),
  planName: Type.String(),
  status: Type.Unsafe<SubscriptionStatus>(Type.String()),
  periodStart: Type.String(),
  periodEnd: Nullable(Type.String()),
  limits: Type.Object({ documentActionsPerMonth: Limit, utilityActionsPerMonth: Limit, requestsPerMinute: Limit, maxKeys: Limit }),
  overrides: Type.Unsafe<LimitOverrides>(Type.Record(Type.String(), Type.Unknown())),
  features: Type.Array(Type.String()),
  /** Whether Admins may change the plan themselves. */
  selfService: Type.Optional(Type.Boolean()),
});
export type SubscriptionView = Static<typeof SubscriptionSchema>;

/** One audit log entry as the API shows it. */
export const AuditEntrySchema = Type.Object({
  id: Type.String(),
  timestamp: Type.String(),
  eventType: Type.String(),
  userId: Nullable(Type.String()),
  userEmail: Nullable(Type.String()),
  resourceType: Type.String(),
  resourceId: Nullable(Type.String()),
  action: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  ip: Nullable(Type.String()),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')]),
});
export type AuditEntryView = Static<typeof AuditEntrySchema>;

/** What mail a signed-in person receives (CONTRACT §11). */
export const MailPreferencesSchema = Type.Object(
  { expiryReminders: Type.Boolean({ description: 'Mail 14, 7 and 1 days before a key of yours (or, for Admins, of the organisation) expires' }) },
  { additionalProperties: false },
);
export type MailPreferencesView = Static<typeof MailPreferencesSchema>;

/** What a leak report does to a live key of the organisation: revoke it at once, or only tell. */
export const LeakResponseSchema = Type.Union([Type.Literal('revoke'), Type.Literal('notify')]);
export const OrganisationSettingsSchema = Type.Object({ leakResponse: LeakResponseSchema }, { additionalProperties: false });
export type OrganisationSettingsView = Static<typeof OrganisationSettingsSchema>;
/** Event types a webhook endpoint may ask for (CONTRACT §11). */
export const WEBHOOK_EVENT_TYPES = [
  'api_key.created',
  'api_key.updated',
  'api_key.suspended',
  'api_key.resumed',
  'api_key.rotated',
  'api_key.revoked',
  'api_key.deleted',
  'api_key.expiring',
  'api_key.expired',
  'api_key.exposed',
  'api_key.revoked_key_used',
  'quota.threshold',
  'member.invited',
  'member.joined',
  'member.deactivated',
  'subscription.changed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export const WebhookEventTypeSchema = Type.Unsafe<WebhookEventType>(Type.String({ enum: [...WEBHOOK_EVENT_TYPES] }));

/** A webhook endpoint as the API shows it; its secret is only in the answers of create and rotate-secret. */
export const WebhookEndpointSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    description: Nullable(Type.String()),
    eventTypes: Type.Array(WebhookEventTypeSchema),
    enabled: Type.Boolean(),
    disabledReason: Nullable(Type.String({ description: 'gone: the receiver answered 410; paused: an Admin disabled it' })),
    secretRotatedUntil: Nullable(Type.String({ description: 'Until then deliveries are signed with the previous secret too' })),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'WebhookEndpoint' },
);
export type WebhookEndpointView = Static<typeof WebhookEndpointSchema>;

export const WebhookWithSecretSchema = Type.Object({
  endpoint: WebhookEndpointSchema,
  secret: Type.String({ description: 'whsec_ + base64 of 32 random bytes. Shown only in this response: copy it now.' }),
});
export type WebhookWithSecret = Static<typeof WebhookWithSecretSchema>;

export const WebhookAttemptSchema = Type.Object({
  at: Type.String(),
  statusCode: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  durationMs: Type.Integer(),
});

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String(),
    eventType: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    lastStatusCode: Nullable(Type.Integer()),
    nextAttemptAt: Nullable(Type.String()),
    createdAt: Type.String(),
    deliveredAt: Nullable(Type.String()),
    attemptLog: Type.Array(WebhookAttemptSchema),
  },
  { $id: 'WebhookDelivery' },
);
export type WebhookDeliveryView = Static<typeof WebhookDeliverySchema>;
