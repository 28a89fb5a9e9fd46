import type { Db } from '../db/database.js';
import type { DomainEvent, EventOf } from '../events/domain-events.js';
import type { EventBus } from '../events/event-bus.js';
import type { MailService } from '../mail/mail.service.js';
import type { KeyInMail } from '../mail/templates.js';
import { organisationName } from '../orgs/orgs.repository.js';
import { keyRecipients } from './recipients.js';

/**
 * Turns expiry reminders and quota thresholds from the event log into mail (invitations and
 * exposures are queued by the change itself). Every node hears every event; the outbox keeps one
 * mail per event and recipient, so a person gets it once.
 */
export function mailOnEvents(deps: {
  db: Db;
  events: Pick<EventBus, 'subscribe'>;
  mail: Pick<MailService, 'queue'>;
  onError: (error: unknown) => void;
}): () => void {
  const expiring = async (event: EventOf<'api_key.expiring'>) => {
    const { key, daysBefore } = event.data;
    const to = await keyRecipients(deps.db, event.organisationId, key.createdBy?.id ?? null, { reminder: true });
    const organisation = await organisationName(deps.db, event.organisationId);
    await deps.mail.queue(deps.db, event.organisationId, event.id, to, { kind: 'key_expiring', organisation, key: keyInMail(key), daysLeft: daysBefore });
  };
  const threshold = async (event: EventOf<'quota.threshold'>) => {
    const { quota } = event.data;
    const to = await keyRecipients(deps.db, event.organisationId, null, { reminder: false });
    const organisation = await organisationName(deps.db, event.organisationId);
    await deps.mail.queue(deps.db, event.organisationId, event.id, to, { kind: 'quota_threshold', organisation, ...quota });
  };
  return deps.events.subscribe({
    event: (event: DomainEvent) => {
      if (event.type === 'api_key.expiring') void expiring(event).catch(deps.onError);
      else if (event.type === 'quota.threshold') void threshold(event).catch(deps.onError);
    },
    reset: () => {},
  });
}

/** What a mail shows of a key: its name and masked form, never more. */
export function keyInMail(key: KeyInMail): KeyInMail {
  return { id: key.id, name: key.name, start: key.start, last4: key.last4, expiresAt: key.expiresAt };
}
