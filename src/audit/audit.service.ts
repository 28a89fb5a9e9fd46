import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import type { Db, DbOrTrx } from '../db/database.js';
import type { AuditEntryView } from '../api/views.js';
import type { Severity } from '../domain/vocabulary.js';
import type { AuditEventType } from '../domain/audit-events.js';
import type { AuditRow } from '../db/schema.js';
import type { Actor } from '../domain/actor.js';
import { requirePermission } from '../domain/permissions.js';
import { auditRepository, type AuditFilter } from './audit.repository.js';
import { toCsv } from '../lib/csv.js';

export interface AuditEvent {
  /** One of the kinds the portal names (domain/audit-events.ts). */
  eventType: AuditEventType;
  resourceType: string;
  resourceId: string | null;
  action: string;
  details?: Record<string, unknown>;
  severity?: Severity;
}

export type { AuditFilter } from './audit.repository.js';

/** The filter of the audit page and its CSV export, as the query string gives it. */
export type AuditQuery = AuditFilter;

/** The most entries one CSV export holds. */
const CSV_EXPORT_LIMIT = 100_000;

export interface AuditService {
  record(db: DbOrTrx, actor: Actor, event: AuditEvent): Promise<void>;
  /** Records the event unless the organisation's log already holds one of its type about its resource; true when written. */
  recordOnce(db: DbOrTrx, actor: Actor, event: AuditEvent & { resourceId: string }): Promise<boolean>;
  list(db: DbOrTrx, orgId: string, filter: AuditFilter, page: { limit: number; offset: number }): Promise<{ items: AuditEntryView[]; total: number }>;
  /** The log as the actor may see it: Admins everyone's actions, Members only their own, Viewers none. */
  view(actor: Actor, query: AuditQuery, page: { limit: number; offset: number }): Promise<{ items: AuditEntryView[]; total: number }>;
  /** The same entries as CSV (at most 100,000). */
  exportCsv(actor: Actor, query: AuditQuery): Promise<string>;
}

/** `to` as a bare day includes that whole day. */
function toFilter(query: AuditQuery): AuditFilter {
  const to = query.to && query.to.length === 10 ? new Date(Date.parse(`${query.to}T00:00:00Z`) + 86_400_000).toISOString() : query.to;
  const from = query.from && query.from.length === 10 ? `${query.from}T00:00:00.000Z` : query.from;
  return { ...query, from, to };
}

/** Admins see everyone's actions; Members only their own; Viewers none. */
function scopedFilter(actor: Actor, query: AuditQuery): AuditFilter {
  requirePermission(actor, 'audit.view');
  const filter = toFilter(query);
  return actor.role === 'admin' || actor.role === 'operator' ? filter : { ...filter, userId: actor.userId ?? '' };
}

export function createAuditService(deps: { db: Db; clock: Clock; newId: IdGenerator }): AuditService {
  async function list(db: DbOrTrx, orgId: string, filter: AuditFilter, page: { limit: number; offset: number }) {
    const { rows, total } = await auditRepository.list(db, orgId, filter, page);
    return { items: rows.map(toAuditView), total };
  }

  async function record(db: DbOrTrx, actor: Actor, event: AuditEvent): Promise<void> {
    await auditRepository.insert(db, {
      id: deps.newId('aud'),
      orgId: actor.orgId,
      timestamp: deps.clock.now().toISOString(),
      eventType: event.eventType,
      userId: actor.userId,
      userEmail: actor.email,
      resourceType: event.resourceType,
      resourceId: event.resourceId,
      action: event.action,
      details: JSON.stringify(event.details ?? {}),
      ip: actor.ip,
      severity: event.severity ?? 'info',
    });
  }

  return {
    record,
    list,

    async recordOnce(db, actor, event) {
      if (await auditRepository.exists(db, actor.orgId, event.eventType, event.resourceId)) return false;
      await record(db, actor, event);
      return true;
    },

    view: (actor, query, page) => list(deps.db, actor.orgId, scopedFilter(actor, query), page),

    async exportCsv(actor, query) {
      const { items } = await list(deps.db, actor.orgId, scopedFilter(actor, query), { limit: CSV_EXPORT_LIMIT, offset: 0 });
      return auditToCsv(items);
    },
  };
}

export function toAuditView(row: AuditRow): AuditEntryView {
  return {
    id: row.id,
    timestamp: row.timestamp,
    eventType: row.eventType,
    userId: row.userId,
    userEmail: row.userEmail,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    action: row.action,
    details: JSON.parse(row.details) as Record<string, unknown>,
    ip: row.ip,
    severity: row.severity,
  };
}

const CSV_COLUMNS = ['timestamp', 'eventType', 'userId', 'userEmail', 'resourceType', 'resourceId', 'action', 'details', 'ip', 'severity'] as const;

export function auditToCsv(entries: AuditEntryView[]): string {
  return toCsv(
    [...CSV_COLUMNS],
    entries.map((entry) =>
      CSV_COLUMNS.map((column) => {
        const value = entry[column];
        return typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
      }),
    ),
  );
}
