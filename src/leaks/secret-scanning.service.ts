import type { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../domain/actor.js';
import type { Db } from '../db/database.js';
import { commitWithEvents, type EventBus } from '../events/event-bus.js';
import type { Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import type { MailService } from '../mail/mail.service.js';
import { checkKeyShape } from '../keys/key-format.js';
import { displayStatus, toKeyView } from '../keys/key-view.js';
import { findKeyByHash, findKeyView, updateKey } from '../keys/keys.repository.js';
import { keyInMail } from '../notifications/mail-notifier.js';
import { keyRecipients } from '../notifications/recipients.js';
import { leakResponseOf, organisationName } from '../orgs/orgs.repository.js';

/** One match in GitHub's secret-scanning partner format. */
export interface LeakReport {
  token: string;
  type: string;
  url: string;
  source: string;
}

/** GitHub's label for each token: ours and live, or not (unknown, malformed, already dead). */
export interface LeakLabel {
  token_hash: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
}

export type SecretScanningService = ReturnType<typeof createSecretScanningService>;

/**
 * A live key found in public is revoked at once (or, if its organisation chose `notify`, left
 * working), marked exposed with where it was found, audited as a warning, announced by
 * `api_key.exposed` (and `api_key.revoked`) and mailed to its owner and the Admins — all in one
 * transaction, so the gateway refuses it on the very next request on every node.
 */
export function createSecretScanningService(deps: { db: Db; clock: Clock; events: EventBus; audit: AuditService; mail: MailService }) {
  const { db, clock } = deps;

  async function expose(keyId: string, orgId: string, report: LeakReport, ip: string | null): Promise<boolean> {
    return commitWithEvents(db, deps.events, async (trx, emit) => {
      const row = await findKeyView(trx, orgId, keyId);
      if (!row) return false;
      const status = displayStatus(row, clock.now());
      if (status !== 'active' && status !== 'suspended') return false;
      const now = clock.now().toISOString();
      const response = await leakResponseOf(trx, orgId);
      const revoke = response === 'revoke';
      // The same finding reported again about a key left working changes nothing and mails nobody again.
      if (!revoke && row.exposedUrl === report.url) return true;
      await updateKey(trx, keyId, { exposedAt: now, exposedUrl: report.url, ...(revoke ? { status: 'revoked', revokedAt: now, revokedBy: null } : {}) });
      const actor: Actor = { orgId, userId: null, email: null, role: 'operator', ip };
      await deps.audit.record(trx, actor, {
        eventType: 'key.exposed',
        resourceType: 'api_key',
        resourceId: keyId,
        action: revoke ? 'revoke' : 'notify',
        severity: 'warning',
        details: { name: row.name, url: report.url, source: report.source, reporter: 'github', response },
      });
      const after = await findKeyView(trx, orgId, keyId);
      const key = toKeyView(after ?? row, clock.now());
      emit({
        type: 'api_key.exposed',
        organisationId: orgId,
        data: { key, exposure: { source: 'github', url: report.url, action: revoke ? 'revoked' : 'notified', reportedAt: now } },
      });
      if (revoke) emit({ type: 'api_key.revoked', organisationId: orgId, data: { key } });
      const to = await keyRecipients(trx, orgId, row.createdBy, { reminder: false });
      await deps.mail.queue(trx, orgId, `exposure:${keyId}:${sha256Hex(report.url)}`, to, {
        kind: 'key_exposed',
        organisation: await organisationName(trx, orgId),
        key: keyInMail(key),
        foundAt: report.url,
        source: report.source || null,
        revoked: revoke,
      });
      return true;
    });
  }

  return {
    /** Labels each reported token, acting on the live keys of ours among them. */
    async report(items: readonly LeakReport[], ip: string | null): Promise<LeakLabel[]> {
      const labels: LeakLabel[] = [];
      for (const item of items) {
        const hash = sha256Hex(item.token);
        let live = false;
        // A token without our shape or checksum is not ours: no database read.
        if (checkKeyShape(item.token).ok) {
          const found = await findKeyByHash(db, hash);
          if (found && !found.deletedAt) live = await expose(found.id, found.orgId, item, ip);
        }
        labels.push({ token_hash: hash, token_type: item.type, label: live ? 'true_positive' : 'false_positive' });
      }
      return labels;
    },
  };
}
