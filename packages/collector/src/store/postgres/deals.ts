// Deals for PostgreSQL: upsert with stage history, linking pending deals when their person is
// identified, and reading a lead's deals. Writes run on the group-commit client inside its
// transaction.

import type pg from 'pg'
import type { Deal, DealMatch, DealWrite, DealWriteResult } from '../../outcomes/types.js'
import { numOrNull as num, type Row } from '../rows.js'
import type { IdentityKey, Stage } from '../types.js'
import { placeDealPeoplePg } from './accounts.js'
import { byKey } from './contention.js'

type Client = pg.PoolClient | pg.Pool

function keyHash(keys: readonly IdentityKey[], kind: IdentityKey['kind']): string | null {
  return keys.find((k) => k.kind === kind)?.hash ?? null
}

async function one(c: Client, sql: string, values: unknown[]): Promise<Row | undefined> {
  return (await c.query(sql, values)).rows[0] as Row | undefined
}

/** The lead a match names: its leadId (undefined when the site has no such lead), else its keys' lead, else null (pending). */
async function resolve(c: Client, siteId: string, m: DealMatch): Promise<string | null | undefined> {
  if (m.leadId !== null) return (await one(c, 'SELECT 1 FROM leads WHERE id = $1 AND site_id = $2', [m.leadId, siteId])) ? m.leadId : undefined
  for (const kind of ['email', 'external'] as const) {
    const hash = keyHash(m.keys, kind)
    const row = hash === null ? undefined : await one(c, 'SELECT lead_id FROM lead_identities WHERE site_id = $1 AND kind = $2 AND hash = $3', [siteId, kind, hash])
    if (row) return String(row.lead_id)
  }
  return null
}

async function upsertDeal(c: Client, siteId: string, w: DealWrite, now: number): Promise<DealWriteResult> {
  const leadId = await resolve(c, siteId, w.match)
  const contacts: Array<string | null | undefined> = []
  for (const m of w.contacts ?? []) contacts.push(await resolve(c, siteId, m))
  if (leadId === undefined || contacts.includes(undefined)) {
    return { dealId: w.dealId, leadId: null, stage: w.stage, changed: false, unknownLead: true }
  }
  if (w.company) {
    const known = [leadId, ...contacts].filter((l): l is string => typeof l === 'string')
    const conflict = await placeDealPeoplePg(c, siteId, w.company, known, now)
    if (conflict !== null) return { dealId: w.dealId, leadId: null, stage: w.stage, changed: false, accountConflict: conflict }
  }
  const pending = leadId === null ? [0] : []
  if (w.contacts) {
    await c.query('DELETE FROM deal_leads WHERE site_id = $1 AND deal_id = $2', [siteId, w.dealId])
    for (let i = 0; i < w.contacts.length; i++) {
      if (contacts[i] === null) pending.push(i + 1)
      await c.query('INSERT INTO deal_leads (site_id, deal_id, position, lead_id, email_hash, external_hash) VALUES ($1, $2, $3, $4, $5, $6)',
        [siteId, w.dealId, i + 1, contacts[i], keyHash(w.contacts[i].keys, 'email'), keyHash(w.contacts[i].keys, 'external')])
    }
  }
  const emailHash = keyHash(w.match.keys, 'email')
  const externalHash = keyHash(w.match.keys, 'external')
  const prev = await one(c, 'SELECT stage, amount FROM deal_stages WHERE site_id = $1 AND deal_id = $2 AND ts <= $3 ORDER BY ts DESC, id DESC LIMIT 1', [siteId, w.dealId, w.ts])
  const changed = !prev || prev.stage !== w.stage || (w.amount !== null && num(prev.amount) !== w.amount)
  if (changed) {
    await c.query('INSERT INTO deal_stages (site_id, deal_id, stage, crm_stage, ts, amount, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [siteId, w.dealId, w.stage, w.crmStage, w.ts, w.amount, now])
  }
  const row = await one(c, 'SELECT * FROM deals WHERE site_id = $1 AND id = $2 FOR UPDATE', [siteId, w.dealId])
  if (!row) {
    await c.query(
      `INSERT INTO deals (site_id, id, lead_id, email_hash, external_hash, stage, stage_ts, amount, original_amount, original_currency, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
      [siteId, w.dealId, leadId, emailHash, externalHash, w.stage, w.ts, w.amount, w.originalAmount, w.originalCurrency, now],
    )
    return { dealId: w.dealId, leadId, stage: w.stage, changed, pending }
  }
  const nextLead = w.match.leadId ?? (row.lead_id == null ? leadId : String(row.lead_id))
  const newer = w.ts >= Number(row.stage_ts)
  const stage = newer ? w.stage : (String(row.stage) as Stage)
  const takeAmount = w.amount !== null && newer
  await c.query(
    `UPDATE deals SET lead_id = $1, email_hash = $2, external_hash = $3, stage = $4, stage_ts = $5, amount = $6,
            original_amount = $7, original_currency = $8, updated_at = $9 WHERE site_id = $10 AND id = $11`,
    [nextLead, emailHash ?? row.email_hash ?? null, externalHash ?? row.external_hash ?? null, stage, newer ? w.ts : Number(row.stage_ts),
      takeAmount ? w.amount : num(row.amount), takeAmount ? w.originalAmount : num(row.original_amount),
      takeAmount ? w.originalCurrency : (row.original_currency ?? null), now, siteId, w.dealId],
  )
  return { dealId: w.dealId, leadId: nextLead, stage, changed, pending: nextLead === null ? pending : pending.filter((p) => p !== 0) }
}

export async function upsertDealsPg(c: Client, siteId: string, deals: readonly DealWrite[], now: number): Promise<DealWriteResult[]> {
  // Written in deal-id order (stable: one deal's changes keep theirs), the same in every process,
  // so two collectors upserting the same deals never lock them in opposite orders.
  const order = deals.map((_, i) => i).sort((a, b) => byKey(deals[a].dealId, deals[b].dealId) || a - b)
  const out: DealWriteResult[] = new Array(deals.length)
  for (const i of order) out[i] = await upsertDeal(c, siteId, deals[i], now)
  return out
}

export async function linkPendingDealsPg(c: Client, siteId: string, leadId: string, keys: readonly IdentityKey[], now: number): Promise<number> {
  let n = 0
  for (const k of keys) {
    const column = k.kind === 'email' ? 'email_hash' : k.kind === 'external' ? 'external_hash' : null
    if (column === null) continue
    const r = await c.query(`UPDATE deals SET lead_id = $1, updated_at = $2 WHERE site_id = $3 AND lead_id IS NULL AND ${column} = $4`, [leadId, now, siteId, k.hash])
    n += r.rowCount ?? 0
    // The deals' other people waiting for this key.
    await c.query(`UPDATE deal_leads SET lead_id = $1 WHERE site_id = $2 AND lead_id IS NULL AND ${column} = $3`, [leadId, siteId, k.hash])
  }
  return n
}

export async function getDealsPg(c: Client, siteId: string, leadId: string): Promise<Deal[]> {
  const deals = (await c.query('SELECT * FROM deals WHERE site_id = $1 AND lead_id = $2 ORDER BY created_at, id', [siteId, leadId])).rows as Row[]
  return getDealRowsPg(c, siteId, deals)
}

/** Stored deal rows with their stage histories. */
export async function getDealRowsPg(c: Client, siteId: string, deals: Row[]): Promise<Deal[]> {
  if (deals.length === 0) return []
  const stages = (await c.query('SELECT deal_id, stage, crm_stage, ts, amount FROM deal_stages WHERE site_id = $1 AND deal_id = ANY($2) ORDER BY ts, id',
    [siteId, deals.map((d) => d.id)])).rows as Row[]
  return deals.map((r) => ({
    dealId: String(r.id),
    leadId: r.lead_id == null ? null : String(r.lead_id),
    stage: String(r.stage) as Stage,
    amount: num(r.amount),
    originalAmount: num(r.original_amount),
    originalCurrency: r.original_currency == null ? null : String(r.original_currency),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    history: stages.filter((h) => h.deal_id === r.id).map((h) => ({ stage: String(h.stage) as Stage, crmStage: String(h.crm_stage), ts: Number(h.ts), amount: num(h.amount) })),
  }))
}
