// Row ↔ record mapping of the CRM tables, shared by the SQLite and PostgreSQL stores.

import type { CrmConnectionRecord, CrmInboxEntry, CrmOutboxCounts, CrmOutboxEntry } from './types.js'
import type { Row } from './rows.js'

const intOrNull = (v: unknown): number | null => (v == null ? null : Number(v))

export function crmConnectionFromRow(r: Row): CrmConnectionRecord {
  return {
    id: String(r.id),
    siteId: String(r.site_id),
    kind: String(r.kind),
    options: (typeof r.options === 'string' ? JSON.parse(r.options) : r.options) as Record<string, string | boolean>,
    writeBack: Boolean(Number(r.write_back)),
    createdAt: Number(r.created_at),
    cursor: r.cursor == null ? null : String(r.cursor),
    lastEventAt: intOrNull(r.last_event_at),
    lastSyncAt: intOrNull(r.last_sync_at),
    errors: Number(r.errors),
    lastError: r.last_error == null ? null : String(r.last_error),
    lastErrorAt: intOrNull(r.last_error_at),
  }
}

export function crmInboxFromRow(r: Row): CrmInboxEntry {
  return { id: String(r.id), connectionId: String(r.connection_id), item: String(r.item), receivedAt: Number(r.received_at), attempts: Number(r.attempts) }
}

/** Reasons are shown in `crm list`; a CRM's error body is bounded here. */
export const boundReason = (reason: string): string => reason.slice(0, 500)

export function crmOutboxFromRow(r: Row): CrmOutboxEntry {
  return {
    id: String(r.id),
    connectionId: String(r.connection_id),
    object: String(r.object) === 'deal' ? 'deal' : 'contact',
    target: String(r.target),
    contactId: r.contact_id == null ? null : String(r.contact_id),
    emailEnc: r.email_enc == null ? null : String(r.email_enc),
    fields: String(r.fields),
    version: Number(r.version),
    attempts: Number(r.attempts),
    queuedAt: Number(r.queued_at),
  }
}

/** Rows of `status, n` and `connection_id, last_error, last_error_at` → counts per connection. */
export function crmOutboxCounts(counts: Row[], errors: Row[]): CrmOutboxCounts[] {
  const by = new Map<string, CrmOutboxCounts>()
  const of = (id: string): CrmOutboxCounts => {
    let c = by.get(id)
    if (!c) by.set(id, (c = { connectionId: id, sent: 0, pending: 0, failed: 0, lastError: null, lastErrorAt: null }))
    return c
  }
  for (const r of counts) {
    const status = String(r.status)
    if (status === 'sent' || status === 'pending' || status === 'failed') of(String(r.connection_id))[status] = Number(r.n)
  }
  for (const r of errors) {
    const c = of(String(r.connection_id))
    if (c.lastErrorAt === null || Number(r.last_error_at) > c.lastErrorAt) {
      c.lastError = r.last_error == null ? null : String(r.last_error)
      c.lastErrorAt = Number(r.last_error_at)
    }
  }
  return [...by.values()].sort((a, b) => (a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0))
}

/** Outbox count queries, the same SQL in both stores. */
export const OUTBOX_COUNTS_SQL = 'SELECT connection_id, status, count(*) AS n FROM crm_outbox GROUP BY connection_id, status'
export const OUTBOX_ERRORS_SQL = `SELECT o.connection_id, o.last_error, o.last_error_at FROM crm_outbox o
  JOIN (SELECT connection_id, max(last_error_at) AS m FROM crm_outbox GROUP BY connection_id) x
    ON x.connection_id = o.connection_id AND o.last_error_at = x.m`
