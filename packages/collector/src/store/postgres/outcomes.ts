// Deals, spend, exchange rates and the report load for PostgreSQL (migration 2). Writes run on the
// group-commit client inside its transaction; the report load uses the pool (a handful of queries,
// rows as arrays, never a query per lead).

import type pg from 'pg'
import type { AttributionTouch, Journey, JourneyDeal, SpendRow } from '../../attribution/types.js'
import type { FxRate } from '../../outcomes/currency.js'
import type { Deal, DealWrite, DealWriteResult, ReportData, ReportLoadOptions, SpendWrite } from '../../outcomes/types.js'
import type { Row } from '../rows.js'
import type { IdentityKey, Stage } from '../types.js'

type Client = pg.PoolClient | pg.Pool

function num(v: unknown): number | null {
  return v == null ? null : Number(v)
}

function keyHash(keys: readonly IdentityKey[], kind: IdentityKey['kind']): string | null {
  return keys.find((k) => k.kind === kind)?.hash ?? null
}

async function one(c: Client, sql: string, values: unknown[]): Promise<Row | undefined> {
  return (await c.query(sql, values)).rows[0] as Row | undefined
}

async function upsertDeal(c: Client, siteId: string, w: DealWrite, now: number): Promise<DealWriteResult> {
  let leadId = w.match.leadId
  if (leadId !== null && !(await one(c, 'SELECT 1 FROM leads WHERE id = $1 AND site_id = $2', [leadId, siteId]))) {
    return { dealId: w.dealId, leadId: null, stage: w.stage, changed: false, unknownLead: true }
  }
  if (leadId === null) {
    for (const kind of ['email', 'external'] as const) {
      const hash = keyHash(w.match.keys, kind)
      const row = hash === null ? undefined : await one(c, 'SELECT lead_id FROM lead_identities WHERE site_id = $1 AND kind = $2 AND hash = $3', [siteId, kind, hash])
      if (row) { leadId = String(row.lead_id); break }
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
    return { dealId: w.dealId, leadId, stage: w.stage, changed }
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
  return { dealId: w.dealId, leadId: nextLead, stage, changed }
}

export async function upsertDealsPg(c: Client, siteId: string, deals: readonly DealWrite[], now: number): Promise<DealWriteResult[]> {
  const out: DealWriteResult[] = []
  for (const w of deals) out.push(await upsertDeal(c, siteId, w, now))
  return out
}

export async function linkPendingDealsPg(c: Client, siteId: string, leadId: string, keys: readonly IdentityKey[], now: number): Promise<number> {
  let n = 0
  for (const k of keys) {
    const column = k.kind === 'email' ? 'email_hash' : k.kind === 'external' ? 'external_hash' : null
    if (column === null) continue
    const r = await c.query(`UPDATE deals SET lead_id = $1, updated_at = $2 WHERE site_id = $3 AND lead_id IS NULL AND ${column} = $4`, [leadId, now, siteId, k.hash])
    n += r.rowCount ?? 0
  }
  return n
}

export async function getDealsPg(c: Client, siteId: string, leadId: string): Promise<Deal[]> {
  const deals = (await c.query('SELECT * FROM deals WHERE site_id = $1 AND lead_id = $2 ORDER BY created_at, id', [siteId, leadId])).rows as Row[]
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

export async function upsertSpendPg(c: Client, siteId: string, rows: readonly SpendWrite[], now: number): Promise<{ inserted: number; updated: number }> {
  let inserted = 0
  let updated = 0
  for (const r of rows) {
    // xmax = 0 only on a freshly inserted row: tells insert from update in one statement.
    const res = await c.query(
      `INSERT INTO spend (site_id, date, source, medium, campaign, amount, original_amount, original_currency, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (site_id, date, source, medium, campaign) DO UPDATE SET amount = EXCLUDED.amount,
         original_amount = EXCLUDED.original_amount, original_currency = EXCLUDED.original_currency, updated_at = EXCLUDED.updated_at
       RETURNING (xmax = 0) AS inserted`,
      [siteId, r.date, r.source, r.medium, r.campaign, r.amount, r.originalAmount, r.originalCurrency, now],
    )
    if ((res.rows[0] as Row).inserted) inserted++
    else updated++
  }
  return { inserted, updated }
}

export async function upsertRatesPg(c: Client, siteId: string, rates: readonly FxRate[], now: number): Promise<number> {
  for (const r of rates) {
    await c.query(
      `INSERT INTO fx_rates (site_id, currency, date, rate, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (site_id, currency, date) DO UPDATE SET rate = EXCLUDED.rate, updated_at = EXCLUDED.updated_at`,
      [siteId, r.currency, r.date ?? '', r.rate, now],
    )
  }
  return rates.length
}

export async function listRatesPg(c: Client, siteId: string): Promise<FxRate[]> {
  const rows = (await c.query('SELECT currency, date, rate FROM fx_rates WHERE site_id = $1 ORDER BY currency, date', [siteId])).rows as Row[]
  return rows.map((r) => ({ currency: String(r.currency), date: r.date === '' ? null : String(r.date), rate: Number(r.rate) }))
}

export function landingPage(v: unknown): string | null {
  if (typeof v !== 'string' || v === '') return null
  const cut = v.search(/[?#]/)
  return cut < 0 ? v : v.slice(0, cut)
}

export async function loadReportDataPg(c: Client, siteId: string, opts: ReportLoadOptions): Promise<ReportData> {
  const journeys: Journey[] = []
  const leads = new Map<string, { id: string; identifiedAt: number; touches: AttributionTouch[]; deals: JourneyDeal[] }>()
  for (const r of (await c.query({ text: 'SELECT id, identified_at FROM leads WHERE site_id = $1', values: [siteId], rowMode: 'array' })).rows as unknown[][]) {
    const j = { id: String(r[0]), identifiedAt: Number(r[1]), touches: [] as AttributionTouch[], deals: [] as JourneyDeal[] }
    leads.set(j.id, j)
    journeys.push(j)
  }
  const owners = new Map<string, AttributionTouch[][]>()
  for (const r of (await c.query({ text: 'SELECT visitor_id, lead_id FROM lead_visitors WHERE site_id = $1', values: [siteId], rowMode: 'array' })).rows as unknown[][]) {
    const lead = leads.get(String(r[1]))
    if (!lead) continue
    const list = owners.get(String(r[0]))
    if (list) list.push(lead.touches)
    else owners.set(String(r[0]), [lead.touches])
  }
  const extra = opts.extra ?? null
  const pool = new Map<string, string>()
  const intern = (v: unknown): string | null => {
    if (v === null || v === undefined) return null
    const s = v as string
    const hit = pool.get(s)
    if (hit !== undefined) return hit
    if (pool.size < 200_000) pool.set(s, s)
    return s
  }
  const touches = await c.query({
    text: `SELECT visitor_id, ts, channel, source, medium, campaign${extra ? `, ${extra}` : ''} FROM touches
           WHERE site_id = $1 AND ts >= $2 AND ts <= $3 ORDER BY visitor_id`,
    values: [siteId, opts.touchesFrom ?? -8.64e15, opts.touchesTo ?? 8.64e15],
    rowMode: 'array',
  })
  let lastVisitor = ''
  let lastOwners: AttributionTouch[][] | undefined
  for (const r of touches.rows as unknown[][]) {
    const visitor = r[0] as string
    if (visitor !== lastVisitor) {
      lastVisitor = visitor
      lastOwners = owners.get(visitor)
      if (!lastOwners) {
        const list: AttributionTouch[] = []
        journeys.push({ id: `v:${visitor}`, touches: list })
        owners.set(visitor, (lastOwners = [list]))
      }
    }
    const t: AttributionTouch = { ts: Number(r[1]), channel: intern(r[2]) as string, source: intern(r[3]) as string, medium: intern(r[4]) as string, campaign: intern(r[5]) }
    if (extra !== null) t[extra] = extra === 'landing' ? landingPage(r[6]) : intern(r[6])
    for (const list of lastOwners as AttributionTouch[][]) list.push(t)
  }
  for (const [leadId, deal] of await reportDealsPg(c, siteId)) leads.get(leadId)?.deals.push(deal)
  const spend = await loadSpendPg(c, siteId, opts)
  return { journeys, spend }
}

/**
 * Every deal of the site with its stage history and the lead it belongs to: its own, or for a
 * pending deal the lead its email or external key now identifies (deals of no lead are left out).
 */
export async function reportDealsPg(c: Client, siteId: string): Promise<Array<[leadId: string, deal: JourneyDeal]>> {
  const out: Array<[string, JourneyDeal]> = []
  const deals = new Map<string, { dealId: string; amount: number | null; stages: Array<{ stage: Stage; ts: number }> }>()
  const dealRows = await c.query({
    text: `SELECT d.id, COALESCE(d.lead_id, ie.lead_id, ix.lead_id), d.amount FROM deals d
           LEFT JOIN lead_identities ie ON d.lead_id IS NULL AND ie.site_id = d.site_id AND ie.kind = 'email' AND ie.hash = d.email_hash
           LEFT JOIN lead_identities ix ON d.lead_id IS NULL AND ix.site_id = d.site_id AND ix.kind = 'external' AND ix.hash = d.external_hash
           WHERE d.site_id = $1`,
    values: [siteId],
    rowMode: 'array',
  })
  for (const r of dealRows.rows as unknown[][]) {
    if (r[1] == null) continue
    const d = { dealId: String(r[0]), amount: num(r[2]), stages: [] as Array<{ stage: Stage; ts: number }> }
    deals.set(d.dealId, d)
    out.push([String(r[1]), d])
  }
  for (const r of (await c.query({ text: 'SELECT deal_id, stage, ts FROM deal_stages WHERE site_id = $1', values: [siteId], rowMode: 'array' })).rows as unknown[][]) {
    deals.get(String(r[0]))?.stages.push({ stage: String(r[1]) as Stage, ts: Number(r[2]) })
  }
  return out
}

/** The site's spend rows for the days of [touchesFrom, touchesTo]. */
export async function loadSpendPg(c: Client, siteId: string, opts: ReportLoadOptions): Promise<SpendRow[]> {
  const day = (ts: number): string => new Date(ts).toISOString().slice(0, 10)
  const spendRows = await c.query({
    text: 'SELECT date, source, medium, campaign, amount FROM spend WHERE site_id = $1 AND date >= $2 AND date <= $3',
    values: [siteId, opts.touchesFrom === null ? '0000-01-01' : day(Math.max(opts.touchesFrom, 0)), opts.touchesTo === null ? '9999-12-31' : day(opts.touchesTo)],
    rowMode: 'array',
  })
  return (spendRows.rows as unknown[][]).map((r) => ({
    date: String(r[0]), source: String(r[1]), medium: r[2] === '' ? null : String(r[2]), campaign: r[3] === '' ? null : String(r[3]), amount: Number(r[4]),
  }))
}
