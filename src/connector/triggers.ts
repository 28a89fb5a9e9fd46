import { type TObject, type TSchema, Type } from 'typebox';
import { KeySchema, type WebhookEventType } from '../api/views.js';
import { ExposureSchema, QuotaThresholdSchema } from '../events/domain-events.js';
import { toSwaggerSchema, type SwaggerSchema } from './swagger-schema.js';

/**
 * The Power Automate webhook triggers of the connector (CONTRACT §11). Each is a subscription
 * made with the connection's API key: Power Automate POSTs its callback URL, gets 201 with a
 * `Location` to DELETE the subscription when the flow is turned off, and is sent each event.
 */
export interface ConnectorTrigger {
  operationId: string;
  /** Below `/v1`. */
  path: string;
  summary: string;
  description: string;
  eventTypes: readonly WebhookEventType[];
  /** What the flow receives: the event as webhooks send it. */
  notification: TSchema;
}

/** Where a subscription is deleted, below `/v1`. */
export const TRIGGER_SUBSCRIPTION_PATH = '/triggers/subscriptions';
export const DELETE_TRIGGER_OPERATION = 'DeleteTriggerSubscription';

function envelope(types: readonly string[], data: TObject, what: string): TSchema {
  return Type.Object({
    id: Type.String({ description: 'The id of the event (evt_…); the same id is sent again if a delivery is retried' }),
    type: Type.Union(
      types.map((t) => Type.Literal(t)),
      { description: 'What happened' },
    ),
    timestamp: Type.String({ format: 'date-time', description: 'When it happened (UTC)' }),
    organisationId: Type.String({ description: 'The organisation of the key' }),
    data: Type.Object(data.properties, { description: what }),
  });
}

export const CONNECTOR_TRIGGERS: readonly ConnectorTrigger[] = [
  {
    operationId: 'OnKeyExpiring',
    path: '/triggers/key-expiring',
    summary: 'When a key is about to expire',
    description: 'Runs 14, 7 and 1 days before a key of your organisation expires, so you can rotate it before flows fail.',
    eventTypes: ['api_key.expiring'],
    notification: envelope(
      ['api_key.expiring'],
      Type.Object({
        key: KeySchema,
        daysBefore: Type.Integer({ description: 'Days left before the key expires: 14, 7 or 1' }),
      }),
      'The key and the days left',
    ),
  },
  {
    operationId: 'OnKeyRevokedOrExposed',
    path: '/triggers/key-revoked',
    summary: 'When a key is revoked or exposed',
    description: 'Runs when a key of your organisation is revoked, or is found exposed in a public place such as a code repository.',
    eventTypes: ['api_key.revoked', 'api_key.exposed'],
    notification: envelope(
      ['api_key.revoked', 'api_key.exposed'],
      Type.Object({
        key: KeySchema,
        exposure: Type.Optional(Type.Object(ExposureSchema.properties, { description: 'Where the key was found (exposed keys only)' })),
      }),
      'The key, and where it was found when it was exposed',
    ),
  },
  {
    operationId: 'OnQuotaThreshold',
    path: '/triggers/quota-threshold',
    summary: 'When a quota threshold is reached',
    description: 'Runs when your organisation has used 80 percent, and again 100 percent, of a monthly quota of its plan.',
    eventTypes: ['quota.threshold'],
    notification: envelope(['quota.threshold'], Type.Object({ quota: QuotaThresholdSchema }), 'The quota and how much of it is used'),
  },
];

export const TriggerSubscriptionSchema = Type.Object({
  id: Type.String({ description: 'The id of the subscription' }),
});

/** "organisationId" → "Organisation Id": labels for the fields a flow can pick. */
function label(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[\s_]+/);
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}

/** Adds an x-ms-summary (and a description where missing) to every property, so each is a named dynamic value in the flow. */
export function labelled(schema: SwaggerSchema, name?: string): SwaggerSchema {
  const out: SwaggerSchema = { ...schema };
  if (name) {
    out['x-ms-summary'] ??= label(name);
    out.description ??= label(name);
  }
  if (out.properties && typeof out.properties === 'object') {
    out.properties = Object.fromEntries(Object.entries(out.properties as Record<string, SwaggerSchema>).map(([key, value]) => [key, labelled(value, key)]));
  }
  if (out.items && typeof out.items === 'object') out.items = labelled(out.items as SwaggerSchema);
  return out;
}

export function notificationSchema(trigger: ConnectorTrigger): SwaggerSchema {
  return labelled(toSwaggerSchema(trigger.notification, `${trigger.operationId} notification`));
}
