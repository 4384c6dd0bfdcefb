// CRM connections, their webhook inbox and their write-back outbox for PostgreSQL: writes on the group-commit client inside
// its transaction, reads on the pool.

import type pg from 'pg'
import { nanoid } from 'nanoid'
import { boundReason, crmConnectionFromRow, crmInboxFromRow, crmOutboxCounts, crmOutboxFromRow, OUTBOX_COUNTS_SQL, OUTBOX_ERRORS_SQL } from '../crm-rows.js'
import type { Row } from '../rows.js'
import type { CrmConnectionRecord, CrmInboxEntry, CrmInboxOutcome, CrmOutboxCounts, CrmOutboxEntry, CrmOutboxOutcome, CrmOutboxWrite, CrmStatusPatch, NewCrmConnection } from '../types.js'

type Client = pg.PoolClient | pg.Pool

export async function addCrmConnectionPg(c: Client, input: NewCrmConnection): Promise<CrmConnectionRecord> {
  const res = await c.query(
    'INSERT INTO crm_connections (id, site_id, kind, options, write_back, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
    [input.id, input.siteId, input.kind, JSON.stringify(input.options), input.writeBack ? 1 : 0, input.createdAt],
  )
  return crmConnectionFromRow(res.rows[0] as Row)
}

export async function getCrmConnectionPg(c: Client, id: string): Promise<CrmConnectionRecord | null> {
  const res = await c.query('SELECT * FROM crm_connections WHERE id = $1', [id])
  return res.rows[0] ? crmConnectionFromRow(res.rows[0] as Row) : null
}

export async function listCrmConnectionsPg(c: Client): Promise<CrmConnectionRecord[]> {
  return ((await c.query('SELECT * FROM crm_connections ORDER BY created_at, id')).rows as Row[]).map(crmConnectionFromRow)
}

export async function removeCrmConnectionPg(c: Client, id: string): Promise<boolean> {
  await c.query('DELETE FROM crm_inbox WHERE connection_id = $1', [id])
  await c.query('DELETE FROM crm_outbox WHERE connection_id = $1', [id])
  return ((await c.query('DELETE FROM crm_connections WHERE id = $1', [id])).rowCount ?? 0) > 0
}

export async function updateCrmStatusPg(c: Client, id: string, patch: CrmStatusPatch): Promise<void> {
  if (patch.cursor !== undefined) await c.query('UPDATE crm_connections SET cursor = $1 WHERE id = $2', [patch.cursor, id])
  if (patch.lastSyncAt !== undefined) await c.query('UPDATE crm_connections SET last_sync_at = $1 WHERE id = $2', [patch.lastSyncAt, id])
  if (patch.error !== undefined) {
    await c.query('UPDATE crm_connections SET errors = errors + 1, last_error = $1, last_error_at = $2 WHERE id = $3', [boundReason(patch.error.reason), patch.error.at, id])
  }
}

export async function enqueueCrmInboxPg(c: Client, connectionId: string, items: ReadonlyArray<{ key: string; item: string }>, receivedAt: number): Promise<{ stored: number; duplicates: number }> {
  let stored = 0
  for (const it of items) {
    const res = await c.query(
      `INSERT INTO crm_inbox (id, connection_id, event_key, item, received_at, status, attempts, next_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', 0, $5) ON CONFLICT (connection_id, event_key) DO NOTHING`,
      [nanoid(), connectionId, it.key, it.item, receivedAt],
    )
    stored += res.rowCount ?? 0
  }
  await c.query('UPDATE crm_connections SET last_event_at = $1 WHERE id = $2', [receivedAt, connectionId])
  return { stored, duplicates: items.length - stored }
}

export async function dueCrmInboxPg(c: Client, now: number, limit: number): Promise<CrmInboxEntry[]> {
  const res = await c.query(`SELECT * FROM crm_inbox WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, received_at, id LIMIT $2`, [now, limit])
  return (res.rows as Row[]).map(crmInboxFromRow)
}

export async function pendingCrmInboxPg(c: Client): Promise<number> {
  return Number(((await c.query(`SELECT count(*) AS n FROM crm_inbox WHERE status = 'pending'`)).rows[0] as Row).n)
}

export async function settleCrmInboxPg(c: Client, id: string, o: CrmInboxOutcome): Promise<void> {
  if (o.status === 'done') await c.query(`UPDATE crm_inbox SET status = 'done', attempts = attempts + 1, last_error = NULL WHERE id = $1`, [id])
  else if (o.status === 'retry') await c.query('UPDATE crm_inbox SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE id = $3', [o.at, boundReason(o.reason), id])
  else await c.query(`UPDATE crm_inbox SET status = 'failed', attempts = attempts + 1, last_error = $1 WHERE id = $2`, [boundReason(o.reason), id])
}

export async function pruneCrmInboxPg(c: Client, before: number): Promise<number> {
  return (await c.query(`DELETE FROM crm_inbox WHERE status <> 'pending' AND received_at < $1`, [before])).rowCount ?? 0
}

export async function enqueueCrmOutboxPg(c: Client, rows: readonly CrmOutboxWrite[], now: number): Promise<number> {
  let queued = 0
  for (const r of rows) {
    // As in SQLite: a newer write takes over the row when it changes anything or the row failed.
    const res = await c.query(
      `INSERT INTO crm_outbox (id, connection_id, object, target, contact_id, email_enc, fields, version, status, attempts, next_at, queued_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'pending', 0, $8, $8)
       ON CONFLICT (connection_id, object, target) DO UPDATE SET
         contact_id = coalesce(excluded.contact_id, crm_outbox.contact_id), email_enc = coalesce(excluded.email_enc, crm_outbox.email_enc),
         fields = excluded.fields, version = crm_outbox.version + 1, status = 'pending', attempts = 0, next_at = excluded.next_at, queued_at = excluded.queued_at
       WHERE crm_outbox.fields <> excluded.fields OR crm_outbox.status = 'failed'
         OR (excluded.contact_id IS NOT NULL AND crm_outbox.contact_id IS DISTINCT FROM excluded.contact_id)
         OR (excluded.email_enc IS NOT NULL AND crm_outbox.email_enc IS DISTINCT FROM excluded.email_enc)`,
      [nanoid(), r.connectionId, r.object, r.target, r.contactId, r.emailEnc, r.fields, now],
    )
    queued += res.rowCount ?? 0
  }
  return queued
}

/**
 * Several collectors may share one database: each claims its rows in one statement. SKIP LOCKED
 * lets concurrent claims pass over rows another transaction is claiming (no waiting, no row
 * handed out twice), and moving next_at forward by the lease keeps a claimed row from being
 * handed out again while its delivery runs outside any transaction; a collector that dies
 * mid-delivery leaves the row due again when the lease ends.
 */
export async function dueCrmOutboxPg(c: Client, now: number, limit: number, leaseMs: number): Promise<CrmOutboxEntry[]> {
  const res = await c.query(
    `UPDATE crm_outbox SET next_at = $3 WHERE id IN (
       SELECT id FROM crm_outbox WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, queued_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
     ) RETURNING *`,
    [now, limit, now + leaseMs],
  )
  return (res.rows as Row[]).map(crmOutboxFromRow).sort((a, b) => a.queuedAt - b.queuedAt || (a.id < b.id ? -1 : 1))
}

export async function settleCrmOutboxPg(c: Client, id: string, version: number, o: CrmOutboxOutcome): Promise<boolean> {
  const res = o.status === 'sent'
    ? await c.query(`UPDATE crm_outbox SET status = 'sent', attempts = attempts + 1, sent_at = $1 WHERE id = $2 AND version = $3`, [o.at, id, version])
    : o.status === 'retry'
      ? await c.query('UPDATE crm_outbox SET attempts = attempts + 1, next_at = $1, last_error = $2, last_error_at = $3 WHERE id = $4 AND version = $5', [o.next, boundReason(o.reason), o.at, id, version])
      : await c.query(`UPDATE crm_outbox SET status = 'failed', attempts = attempts + 1, last_error = $1, last_error_at = $2 WHERE id = $3 AND version = $4`, [boundReason(o.reason), o.at, id, version])
  return (res.rowCount ?? 0) > 0
}

export async function crmOutboxCountsPg(c: Client): Promise<CrmOutboxCounts[]> {
  return crmOutboxCounts((await c.query(OUTBOX_COUNTS_SQL)).rows as Row[], (await c.query(OUTBOX_ERRORS_SQL)).rows as Row[])
}

export async function pruneCrmOutboxPg(c: Client, before: number): Promise<number> {
  return (await c.query(`DELETE FROM crm_outbox WHERE status <> 'pending' AND coalesce(sent_at, last_error_at, queued_at) < $1`, [before])).rowCount ?? 0
}
