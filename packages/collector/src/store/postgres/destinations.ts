// Destinations and their conversion outbox for PostgreSQL: writes on the group-commit client
// inside its transaction (the outbox rows of a deal write or an identify inside theirs), reads on
// the pool. Several collectors may share the database: a claim locks its rows (SKIP LOCKED) and
// pushes their next attempt out, so each row is handed to one worker at a time.

import type pg from 'pg'
import { planConversions, type DestinationRegistry, type StageReached } from '../../integrations/destinations/plan.js'
import { boundConversionReason, countFromRow, destinationFromRow, FEED_KIND_LIST, OUTBOX_COLUMNS, OUTBOX_WITH_LEAD, outboxFromRow, outboxValues } from '../destination-rows.js'
import type { Row } from '../rows.js'
import type { ConversionCount, ConversionOutboxRow, ConversionOutcome, DestinationRecord, DestinationStatusPatch, NewDestination, Stage } from '../types.js'

type Client = pg.PoolClient | pg.Pool

const FEEDS = FEED_KIND_LIST.map((k) => `'${k}'`).join(', ')
const WITH_LEAD = OUTBOX_WITH_LEAD
const INSERT = `INSERT INTO conversion_outbox (${OUTBOX_COLUMNS}) VALUES (${OUTBOX_COLUMNS.split(',').map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (destination_id, lead_id, stage) DO NOTHING`

const rows = async (c: Client, sql: string, values: unknown[] = []): Promise<Row[]> => (await c.query(sql, values)).rows as Row[]

export async function addDestinationPg(c: Client, d: NewDestination): Promise<DestinationRecord> {
  const r = await rows(c, `INSERT INTO destinations (id, site_id, kind, options, send, feed_user, feed_secret_hash, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`, [d.id, d.siteId, d.kind, JSON.stringify(d.options), JSON.stringify(d.send), d.feedUser, d.feedSecretHash, d.createdAt])
  return destinationFromRow(r[0])
}

export async function getDestinationPg(c: Client, id: string): Promise<DestinationRecord | null> {
  const r = await rows(c, 'SELECT * FROM destinations WHERE id = $1', [id])
  return r[0] ? destinationFromRow(r[0]) : null
}

export async function listDestinationsPg(c: Client, siteId?: string): Promise<DestinationRecord[]> {
  const r = siteId === undefined
    ? await rows(c, 'SELECT * FROM destinations ORDER BY created_at, id')
    : await rows(c, 'SELECT * FROM destinations WHERE site_id = $1 ORDER BY created_at, id', [siteId])
  return r.map(destinationFromRow)
}

export async function removeDestinationPg(c: Client, id: string): Promise<boolean> {
  await c.query('DELETE FROM conversion_outbox WHERE destination_id = $1', [id])
  return ((await c.query('DELETE FROM destinations WHERE id = $1', [id])).rowCount ?? 0) > 0
}

export async function claimConversionsPg(c: Client, now: number, until: number, limit: number): Promise<ConversionOutboxRow[]> {
  const claimed = await rows(c, `UPDATE conversion_outbox SET next_at = $1 WHERE key IN (
      SELECT o.key FROM conversion_outbox o JOIN destinations d ON d.id = o.destination_id
      WHERE o.status = 'pending' AND o.next_at <= $2 AND d.kind NOT IN (${FEEDS})
      ORDER BY o.next_at, o.queued_at, o.key LIMIT $3 FOR UPDATE OF o SKIP LOCKED)
    RETURNING key`, [until, now, limit])
  if (claimed.length === 0) return []
  const r = await rows(c, `${WITH_LEAD} WHERE o.key = ANY($1::text[]) ORDER BY o.next_at, o.queued_at, o.key`, [claimed.map((k) => k.key)])
  return r.map(outboxFromRow)
}

export async function settleConversionsPg(c: Client, outcomes: ReadonlyArray<{ key: string; outcome: ConversionOutcome }>): Promise<void> {
  for (const { key, outcome: o } of outcomes) {
    if (o.status === 'sent') await c.query(`UPDATE conversion_outbox SET status = 'sent', attempts = attempts + 1, sent_at = $1, reason = NULL WHERE key = $2 AND status = 'pending'`, [o.at, key])
    else if (o.status === 'retry') await c.query(`UPDATE conversion_outbox SET attempts = attempts + 1, next_at = $1, reason = $2 WHERE key = $3 AND status = 'pending'`, [o.at, boundConversionReason(o.reason), key])
    else await c.query(`UPDATE conversion_outbox SET status = 'failed', attempts = attempts + 1, reason = $1 WHERE key = $2 AND status = 'pending'`, [boundConversionReason(o.reason), key])
  }
}

export async function updateDestinationStatusPg(c: Client, id: string, patch: DestinationStatusPatch): Promise<void> {
  if (patch.sentAt !== undefined) await c.query('UPDATE destinations SET last_sent_at = $1 WHERE id = $2', [patch.sentAt, id])
  if (patch.error !== undefined) await c.query('UPDATE destinations SET last_error = $1, last_error_at = $2 WHERE id = $3', [boundConversionReason(patch.error.reason), patch.error.at, id])
}

export async function feedConversionsPg(c: Client, destinationId: string, since: number, now: number): Promise<ConversionOutboxRow[]> {
  const r = await rows(c, `${WITH_LEAD} WHERE o.destination_id = $1 AND o.status IN ('pending', 'sent') AND o.occurred_at >= $2 ORDER BY o.occurred_at, o.key`, [destinationId, since])
  await c.query(`UPDATE conversion_outbox SET status = 'sent', attempts = attempts + 1, sent_at = $1 WHERE destination_id = $2 AND status = 'pending' AND occurred_at >= $3`, [now, destinationId, since])
  return r.map(outboxFromRow)
}

export async function conversionCountsPg(c: Client, siteId?: string): Promise<ConversionCount[]> {
  const r = await rows(c, `SELECT o.destination_id, d.kind, o.stage, o.status, o.reason, count(*) AS n, sum(o.revenue) AS revenue
    FROM conversion_outbox o JOIN destinations d ON d.id = o.destination_id ${siteId === undefined ? '' : 'WHERE o.site_id = $1'}
    GROUP BY o.destination_id, d.kind, o.stage, o.status, o.reason`, siteId === undefined ? [] : [siteId])
  return r.map(countFromRow)
}

/** See queueConversionsSync (SQLite): the rows of stages leads reached, in the transaction of the change. */
export async function queueConversionsPg(c: Client, registry: DestinationRegistry | undefined, siteId: string, reached: readonly StageReached[], now: number): Promise<number> {
  if (reached.length === 0) return 0
  const destinations = await listDestinationsPg(c, siteId)
  if (destinations.length === 0) return 0
  const currency = String((await rows(c, 'SELECT currency FROM sites WHERE id = $1', [siteId]))[0]?.currency ?? 'USD')
  let queued = 0
  for (const r of reached) {
    if (!destinations.some((d) => d.send[r.stage] !== undefined)) continue
    const lead = (await rows(c, 'SELECT email_enc, phone_enc FROM leads WHERE site_id = $1 AND id = $2', [siteId, r.leadId]))[0]
    if (!lead) continue
    const visitors = Number((await rows(c, 'SELECT count(*) AS n FROM lead_visitors WHERE site_id = $1 AND lead_id = $2', [siteId, r.leadId]))[0].n)
    const clicks = await rows(c, `SELECT t.click_id, t.click_id_type, t.ts FROM lead_visitors lv
      JOIN touches t ON t.site_id = lv.site_id AND t.visitor_id = lv.visitor_id
      WHERE lv.site_id = $1 AND lv.lead_id = $2 AND t.click_id IS NOT NULL AND t.ts <= $3 ORDER BY t.ts DESC LIMIT 100`, [siteId, r.leadId, r.ts])
    const facts = {
      visitors, hasEmail: lead.email_enc != null, hasPhone: lead.phone_enc != null,
      clicks: clicks.map((k) => ({ type: String(k.click_id_type ?? ''), value: String(k.click_id), ts: Number(k.ts) })),
    }
    for (const p of planConversions(destinations, r, facts, currency, registry)) queued += (await c.query(INSERT, outboxValues(siteId, p, now))).rowCount ?? 0
  }
  return queued
}

/** Every stage the lead's deals reached, at its first time (an identify that linked waiting deals). */
export async function stagesOfLeadPg(c: Client, siteId: string, leadId: string): Promise<StageReached[]> {
  const r = await rows(c, `SELECT h.stage, min(h.ts) AS ts FROM deals d JOIN deal_stages h ON h.site_id = d.site_id AND h.deal_id = d.id
    WHERE d.site_id = $1 AND d.lead_id = $2 GROUP BY h.stage`, [siteId, leadId])
  const out: StageReached[] = []
  for (const h of r) {
    const amount = (await rows(c, `SELECT coalesce(h.amount, d.amount) AS amount FROM deals d JOIN deal_stages h ON h.site_id = d.site_id AND h.deal_id = d.id
      WHERE d.site_id = $1 AND d.lead_id = $2 AND h.stage = $3 AND h.ts = $4 LIMIT 1`, [siteId, leadId, h.stage, h.ts]))[0]?.amount
    out.push({ leadId, stage: String(h.stage) as Stage, ts: Number(h.ts), amount: amount == null ? null : Number(amount) })
  }
  return out
}

export async function eraseConversionsPg(c: Client, siteId: string, leadIds: readonly string[]): Promise<void> {
  await c.query('DELETE FROM conversion_outbox WHERE site_id = $1 AND lead_id = ANY($2::text[])', [siteId, leadIds])
}
