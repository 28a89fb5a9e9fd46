import { type Static, type TSchema, Type } from 'typebox';
import type { KeyView, UserView } from '../api/views.js';

/**
 * Events named for what happened (CONTRACT §11). Each is written to the event log in the same
 * transaction as the change it reports; caches on every node, and later webhooks, read them.
 * `data` holds views as the API shows them (an object with at least an `id`), never a secret.
 */
const view = <T extends { id: string }>() => Type.Unsafe<T>(Type.Object({ id: Type.String() }, { additionalProperties: true }));
const Key = view<KeyView>();
const Member = view<UserView>();

function event<T extends string, D extends TSchema>(type: T, data: D) {
  return Type.Object({
    id: Type.String({ pattern: '^evt_' }),
    type: Type.Literal(type),
    timestamp: Type.String({ format: 'date-time' }),
    organisationId: Type.String(),
    data,
  });
}

const KeyData = Type.Object({ key: Key });

/** The days before expiry at which `api_key.expiring` is announced (once each per key). */
export const EXPIRING_DAYS = [14, 7, 1] as const;
/** The shares of a monthly quota at which `quota.threshold` is announced (once each per organisation, period and action type). */
export const QUOTA_THRESHOLDS = [80, 100] as const;

/** Where an exposed key was found (GitHub secret scanning) and what was done about it. */
export const ExposureSchema = Type.Object({
  source: Type.String({ description: 'Who reported it, e.g. github' }),
  url: Type.Union([Type.String(), Type.Null()], { description: 'Where the key was found' }),
  action: Type.Union([Type.Literal('revoked'), Type.Literal('notified')]),
  reportedAt: Type.String({ format: 'date-time' }),
});
export type Exposure = Static<typeof ExposureSchema>;

/** A monthly quota that crossed 80 % or 100 %. */
export const QuotaThresholdSchema = Type.Object({
  actionType: Type.String(),
  threshold: Type.Union([Type.Literal(80), Type.Literal(100)]),
  used: Type.Integer(),
  limit: Type.Integer(),
  periodStart: Type.String(),
  periodEnd: Type.String(),
});
export type QuotaThresholdView = Static<typeof QuotaThresholdSchema>;

export const DomainEventSchema = Type.Union([
  event('api_key.created', KeyData),
  event('api_key.updated', KeyData),
  event('api_key.suspended', KeyData),
  event('api_key.resumed', KeyData),
  event('api_key.rotated', Type.Object({ key: Key, successor: Key })),
  event('api_key.revoked', KeyData),
  event('api_key.deleted', KeyData),
  event('api_key.expired', Type.Object({ key: view<{ id: string; name: string; expiresAt: string | null }>() })),
  event('api_key.expiring', Type.Object({ key: Key, daysBefore: Type.Union([Type.Literal(14), Type.Literal(7), Type.Literal(1)]) })),
  event('api_key.exposed', Type.Object({ key: Key, exposure: ExposureSchema })),
  event('api_key.revoked_key_used', Type.Object({ key: Key, day: Type.String({ description: 'UTC day, YYYY-MM-DD' }) })),
  event('quota.threshold', Type.Object({ quota: QuotaThresholdSchema })),
  event('member.invited', Type.Object({ invitation: view<{ id: string; email: string; role: string }>() })),
  event('member.joined', Type.Object({ member: Member })),
  event('member.role_changed', Type.Object({ member: Member, from: Type.String(), to: Type.String() })),
  event('member.deactivated', Type.Object({ member: Member })),
  event('organisation.created', Type.Object({ organisation: view<{ id: string; name: string }>() })),
  event(
    'subscription.changed',
    Type.Object({
      subscription: Type.Unsafe<{ organisation: { id: string; name: string }; plan: string; status: string }>(
        Type.Object({ organisation: Type.Object({ id: Type.String() }) }, { additionalProperties: true }),
      ),
    }),
  ),
]);

export type DomainEvent = Static<typeof DomainEventSchema>;
export type DomainEventType = DomainEvent['type'];
/** One event of a given type. */
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;
/** What a writer emits; the log gives it its id and time. */
export type NewDomainEvent = { [T in DomainEventType]: Pick<EventOf<T>, 'type' | 'organisationId' | 'data'> }[DomainEventType];

/** The events about one API key. */
export type KeyEventType = Extract<DomainEventType, `api_key.${string}`>;
