// CRM connections, their webhook inbox and their write-back outbox for SQLite: writes inside the store's group-commit
// transaction (as `crm` write ops), reads straight from the prepared statements.

import { boundReason, crmConnectionFromRow, crmInboxFromRow, crmOutboxCounts, crmOutboxFromRow, OUTBOX_COUNTS_SQL, OUTBOX_ERRORS_SQL } from '../crm-rows.js'
import type { Row } from '../rows.js'
import type { CrmConnectionRecord, CrmInboxEntry, CrmInboxOutcome, CrmOutboxCounts, CrmOutboxEntry, CrmOutboxOutcome, CrmOutboxWrite, CrmStatusPatch, NewCrmConnection } from '../types.js'
import type { Prepared } from './statements.js'

export const CRM_SQL = {
  crmInsert: `INSERT INTO crm_connections (id, site_id, kind, options, write_back, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  crmById: 'SELECT * FROM crm_connections WHERE id = ?',
  crmList: 'SELECT * FROM crm_connections ORDER BY created_at, id',
  crmDelete: 'DELETE FROM crm_connections WHERE id = ?',
  crmDeleteInbox: 'DELETE FROM crm_inbox WHERE connection_id = ?',
  crmCursor: 'UPDATE crm_connections SET cursor = ? WHERE id = ?',
  crmSynced: 'UPDATE crm_connections SET last_sync_at = ? WHERE id = ?',
  crmError: 'UPDATE crm_connections SET errors = errors + 1, last_error = ?, last_error_at = ? WHERE id = ?',
  crmEvent: 'UPDATE crm_connections SET last_event_at = ? WHERE id = ?',
  crmEnqueue: `INSERT INTO crm_inbox (id, connection_id, event_key, item, received_at, status, attempts, next_at)
     VALUES (?, ?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT (connection_id, event_key) DO NOTHING`,
  crmDue: `SELECT * FROM crm_inbox WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, received_at, id LIMIT ?`,
  crmPending: `SELECT count(*) AS n FROM crm_inbox WHERE status = 'pending'`,
  crmDone: `UPDATE crm_inbox SET status = 'done', attempts = attempts + 1, last_error = NULL WHERE id = ?`,
  crmRetry: `UPDATE crm_inbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?`,
  crmFailed: `UPDATE crm_inbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?`,
  crmPrune: `DELETE FROM crm_inbox WHERE status <> 'pending' AND received_at < ?`,
  crmOutboxDeleteOf: 'DELETE FROM crm_outbox WHERE connection_id = ?',
  // A newer write takes over the row (and is due at once) when it changes anything, or when the
  // row had failed; an identical repeat leaves a sent row sent and a waiting row's backoff alone.
  crmOutboxUpsert: `INSERT INTO crm_outbox (id, connection_id, object, target, contact_id, email_enc, fields, version, status, attempts, next_at, queued_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 1, 'pending', 0, ?, ?)
     ON CONFLICT (connection_id, object, target) DO UPDATE SET
       contact_id = coalesce(excluded.contact_id, crm_outbox.contact_id), email_enc = coalesce(excluded.email_enc, crm_outbox.email_enc),
       fields = excluded.fields, version = crm_outbox.version + 1, status = 'pending', attempts = 0, next_at = excluded.next_at, queued_at = excluded.queued_at
     WHERE crm_outbox.fields <> excluded.fields OR crm_outbox.status = 'failed'
       OR (excluded.contact_id IS NOT NULL AND crm_outbox.contact_id IS NOT excluded.contact_id)
       OR (excluded.email_enc IS NOT NULL AND crm_outbox.email_enc IS NOT excluded.email_enc)`,
  crmOutboxDue: `SELECT * FROM crm_outbox WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, queued_at, id LIMIT ?`,
  crmOutboxClaim: 'UPDATE crm_outbox SET next_at = ? WHERE id = ?',
  crmOutboxSent: `UPDATE crm_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ? WHERE id = ? AND version = ?`,
  crmOutboxRetry: 'UPDATE crm_outbox SET attempts = attempts + 1, next_at = ?, last_error = ?, last_error_at = ? WHERE id = ? AND version = ?',
  crmOutboxFailed: `UPDATE crm_outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, last_error_at = ? WHERE id = ? AND version = ?`,
  crmOutboxCounts: OUTBOX_COUNTS_SQL,
  crmOutboxErrors: OUTBOX_ERRORS_SQL,
  crmOutboxPrune: `DELETE FROM crm_outbox WHERE status <> 'pending' AND coalesce(sent_at, last_error_at, queued_at) < ?`,
} as const

export type CrmStatements = Prepared<typeof CRM_SQL>

/** A CRM write as plain data (see writes.ts); IDs are made by the caller. */
export type CrmWrite =
  | { kind: 'add'; input: NewCrmConnection }
  | { kind: 'remove'; id: string }
  | { kind: 'status'; id: string; patch: CrmStatusPatch }
  | { kind: 'enqueue'; connectionId: string; items: Array<{ id: string; key: string; item: string }>; receivedAt: number }
  | { kind: 'settle'; id: string; outcome: CrmInboxOutcome }
  | { kind: 'prune'; before: number }
  | { kind: 'outbox'; rows: Array<CrmOutboxWrite & { id: string }>; now: number }
  | { kind: 'outboxDue'; now: number; limit: number; leaseMs: number }
  | { kind: 'outboxSettle'; id: string; version: number; outcome: CrmOutboxOutcome }
  | { kind: 'outboxPrune'; before: number }

export function runCrmWrite(s: CrmStatements, w: CrmWrite): unknown {
  switch (w.kind) {
    case 'add': {
      const c = w.input
      s.crmInsert.run(c.id, c.siteId, c.kind, JSON.stringify(c.options), c.writeBack ? 1 : 0, c.createdAt)
      return crmConnectionFromRow(s.crmById.get(c.id) as Row)
    }
    case 'remove':
      s.crmDeleteInbox.run(w.id)
      s.crmOutboxDeleteOf.run(w.id)
      return s.crmDelete.run(w.id).changes > 0
    case 'status':
      if (w.patch.cursor !== undefined) s.crmCursor.run(w.patch.cursor, w.id)
      if (w.patch.lastSyncAt !== undefined) s.crmSynced.run(w.patch.lastSyncAt, w.id)
      if (w.patch.error !== undefined) s.crmError.run(boundReason(w.patch.error.reason), w.patch.error.at, w.id)
      return undefined
    case 'enqueue': {
      let stored = 0
      for (const it of w.items) stored += s.crmEnqueue.run(it.id, w.connectionId, it.key, it.item, w.receivedAt, w.receivedAt).changes
      s.crmEvent.run(w.receivedAt, w.connectionId)
      return { stored, duplicates: w.items.length - stored }
    }
    case 'settle': {
      const o = w.outcome
      if (o.status === 'done') s.crmDone.run(w.id)
      else if (o.status === 'retry') s.crmRetry.run(o.at, boundReason(o.reason), w.id)
      else s.crmFailed.run(boundReason(o.reason), w.id)
      return undefined
    }
    case 'prune':
      return s.crmPrune.run(w.before).changes
    case 'outbox': {
      let queued = 0
      for (const r of w.rows) queued += s.crmOutboxUpsert.run(r.id, r.connectionId, r.object, r.target, r.contactId, r.emailEnc, r.fields, w.now, w.now).changes
      return queued
    }
    case 'outboxDue': {
      // Claimed inside the write transaction: a second drain (or collector) does not get the same rows.
      const rows = (s.crmOutboxDue.all(w.now, w.limit) as Row[]).map(crmOutboxFromRow)
      for (const r of rows) s.crmOutboxClaim.run(w.now + w.leaseMs, r.id)
      return rows
    }
    case 'outboxSettle': {
      const o = w.outcome
      const res = o.status === 'sent'
        ? s.crmOutboxSent.run(o.at, w.id, w.version)
        : o.status === 'retry'
          ? s.crmOutboxRetry.run(o.next, boundReason(o.reason), o.at, w.id, w.version)
          : s.crmOutboxFailed.run(boundReason(o.reason), o.at, w.id, w.version)
      return res.changes > 0
    }
    case 'outboxPrune':
      return s.crmOutboxPrune.run(w.before).changes
  }
}

export function crmOutboxCountsSync(s: CrmStatements): CrmOutboxCounts[] {
  return crmOutboxCounts(s.crmOutboxCounts.all() as Row[], s.crmOutboxErrors.all() as Row[])
}

export function getCrmConnectionSync(s: CrmStatements, id: string): CrmConnectionRecord | null {
  const row = s.crmById.get(id) as Row | undefined
  return row ? crmConnectionFromRow(row) : null
}

export function listCrmConnectionsSync(s: CrmStatements): CrmConnectionRecord[] {
  return (s.crmList.all() as Row[]).map(crmConnectionFromRow)
}

export function dueCrmInboxSync(s: CrmStatements, now: number, limit: number): CrmInboxEntry[] {
  return (s.crmDue.all(now, limit) as Row[]).map(crmInboxFromRow)
}

export function pendingCrmInboxSync(s: CrmStatements): number {
  return Number((s.crmPending.get() as Row).n)
}
