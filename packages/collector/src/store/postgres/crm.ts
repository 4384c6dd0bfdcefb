// CRM connections and their webhook inbox for PostgreSQL: writes on the group-commit client inside
// its transaction, reads on the pool.

import type pg from 'pg'
import { nanoid } from 'nanoid'
import { boundReason, crmConnectionFromRow, crmInboxFromRow } from '../crm-rows.js'
import type { Row } from '../rows.js'
import type { CrmConnectionRecord, CrmInboxEntry, CrmInboxOutcome, CrmStatusPatch, NewCrmConnection } from '../types.js'

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
