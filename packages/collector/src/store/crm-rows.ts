// Row ↔ record mapping of the CRM tables, shared by the SQLite and PostgreSQL stores.

import type { CrmConnectionRecord, CrmInboxEntry } from './types.js'
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
