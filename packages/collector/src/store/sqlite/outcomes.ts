// Deals, spend, exchange rates and the report load for SQLite (migration 2). Statements are
// prepared once after migrations; writes run inside the store's group-commit transaction.

import type { Journey, JourneyDeal, SpendRow, AttributionTouch } from '../../attribution/types.js'
import type { FxRate } from '../../outcomes/currency.js'
import type { Deal, DealStageEntry, DealWrite, DealWriteResult, ReportData, ReportLoadOptions, SpendWrite, TouchExtra } from '../../outcomes/types.js'
import type { JourneyOutcome } from '../../attribution/table.js'
import type { Row } from '../rows.js'
import type { LogOutcomes, TouchLog, VisitorIndex } from '../touch-log.js'
import type { Db, Stmt } from './statements.js'
import type { IdentityKey, Stage } from '../types.js'

const SQL = {
  touchCount: 'SELECT count(*) AS n FROM touches WHERE site_id = ?',
  leadExists: 'SELECT 1 FROM leads WHERE id = ? AND site_id = ?',
  identityLead: 'SELECT lead_id FROM lead_identities WHERE site_id = ? AND kind = ? AND hash = ?',
  deal: 'SELECT * FROM deals WHERE site_id = ? AND id = ?',
  insertDeal: `INSERT INTO deals (site_id, id, lead_id, email_hash, external_hash, stage, stage_ts, amount, original_amount, original_currency, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  updateDeal: `UPDATE deals SET lead_id = ?, email_hash = ?, external_hash = ?, stage = ?, stage_ts = ?, amount = ?,
            original_amount = ?, original_currency = ?, updated_at = ? WHERE site_id = ? AND id = ?`,
  /** The history entry in force at a time: the latest at or before it. */
  stageAt: `SELECT stage, amount FROM deal_stages WHERE site_id = ? AND deal_id = ? AND ts <= ?
     ORDER BY ts DESC, id DESC LIMIT 1`,
  insertStage: 'INSERT INTO deal_stages (site_id, deal_id, stage, crm_stage, ts, amount, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  linkByEmail: 'UPDATE deals SET lead_id = ?, updated_at = ? WHERE site_id = ? AND lead_id IS NULL AND email_hash = ?',
  linkByExternal: 'UPDATE deals SET lead_id = ?, updated_at = ? WHERE site_id = ? AND lead_id IS NULL AND external_hash = ?',
  dealsOfLead: 'SELECT * FROM deals WHERE site_id = ? AND lead_id = ? ORDER BY created_at, id',
  // Erasure: the person's deals, linked or still waiting for them by key hash, with their history.
  dealIdsOfLead: 'SELECT id FROM deals WHERE site_id = ? AND lead_id = ?',
  pendingByEmail: 'SELECT id FROM deals WHERE site_id = ? AND lead_id IS NULL AND email_hash = ?',
  pendingByExternal: 'SELECT id FROM deals WHERE site_id = ? AND lead_id IS NULL AND external_hash = ?',
  deleteDeal: 'DELETE FROM deals WHERE site_id = ? AND id = ?',
  deleteStages: 'DELETE FROM deal_stages WHERE site_id = ? AND deal_id = ?',
  stagesOfDeal: 'SELECT stage, crm_stage, ts, amount FROM deal_stages WHERE site_id = ? AND deal_id = ? ORDER BY ts, id',
  spendExists: 'SELECT 1 FROM spend WHERE site_id = ? AND date = ? AND source = ? AND medium = ? AND campaign = ?',
  upsertSpend: `INSERT INTO spend (site_id, date, source, medium, campaign, amount, original_amount, original_currency, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (site_id, date, source, medium, campaign) DO UPDATE SET amount = excluded.amount,
       original_amount = excluded.original_amount, original_currency = excluded.original_currency, updated_at = excluded.updated_at`,
  upsertRate: `INSERT INTO fx_rates (site_id, currency, date, rate, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (site_id, currency, date) DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at`,
  rates: 'SELECT currency, date, rate FROM fx_rates WHERE site_id = ? ORDER BY currency, date',
  // Report load: a handful of scans per site, never a query per lead.
  reportLeads: 'SELECT id, identified_at FROM leads WHERE site_id = ?',
  reportLinks: 'SELECT visitor_id, lead_id FROM lead_visitors WHERE site_id = ?',
  reportDeals: `SELECT d.id, COALESCE(d.lead_id, ie.lead_id, ix.lead_id) AS lead_id, d.amount FROM deals d
     LEFT JOIN lead_identities ie ON d.lead_id IS NULL AND ie.site_id = d.site_id AND ie.kind = 'email' AND ie.hash = d.email_hash
     LEFT JOIN lead_identities ix ON d.lead_id IS NULL AND ix.site_id = d.site_id AND ix.kind = 'external' AND ix.hash = d.external_hash
     WHERE d.site_id = ?`,
  reportStages: 'SELECT deal_id, stage, ts FROM deal_stages WHERE site_id = ?',
  // The same, for one lead or one deal (the report cache refreshes what a write touched).
  reportLead: 'SELECT identified_at FROM leads WHERE id = ? AND site_id = ?',
  reportLeadVisitors: 'SELECT visitor_id FROM lead_visitors WHERE site_id = ? AND lead_id = ?',
  // Deals whose COALESCE(lead_id, email identity's lead, external identity's lead) is this lead (reportDeals).
  reportLeadDeals: `SELECT d.id, d.amount FROM deals d WHERE d.site_id = $site AND d.lead_id = $lead
     UNION ALL
     SELECT d.id, d.amount FROM lead_identities i JOIN deals d ON d.site_id = i.site_id AND d.lead_id IS NULL AND d.email_hash = i.hash
       WHERE i.lead_id = $lead AND i.site_id = $site AND i.kind = 'email'
     UNION ALL
     SELECT d.id, d.amount FROM lead_identities i JOIN deals d ON d.site_id = i.site_id AND d.lead_id IS NULL AND d.external_hash = i.hash
       WHERE i.lead_id = $lead AND i.site_id = $site AND i.kind = 'external'
         AND NOT EXISTS (SELECT 1 FROM lead_identities ie WHERE ie.site_id = d.site_id AND ie.kind = 'email' AND ie.hash = d.email_hash)`,
  reportDeal: `SELECT d.id, COALESCE(d.lead_id, ie.lead_id, ix.lead_id) AS lead_id, d.amount FROM deals d
     LEFT JOIN lead_identities ie ON d.lead_id IS NULL AND ie.site_id = d.site_id AND ie.kind = 'email' AND ie.hash = d.email_hash
     LEFT JOIN lead_identities ix ON d.lead_id IS NULL AND ix.site_id = d.site_id AND ix.kind = 'external' AND ix.hash = d.external_hash
     WHERE d.site_id = ? AND d.id = ?`,
  reportDealStages: 'SELECT stage, ts FROM deal_stages WHERE site_id = ? AND deal_id = ?',
  reportSpend: 'SELECT date, source, medium, campaign, amount FROM spend WHERE site_id = ? AND date >= ? AND date <= ?',
} as const


export type LoopStatements = { [K in keyof typeof SQL]: Stmt } & { touches: Record<'base' | 'extras' | TouchExtra, Stmt> }

function touchScan(db: Db, extra: string): Stmt {
  return db.prepare(`SELECT visitor_id, ts, channel, source, medium, campaign${extra} FROM touches WHERE site_id = ? AND ts >= ? AND ts <= ?`).raw(true)
}

export function prepareLoopStatements(db: Db): LoopStatements {
  const out = {} as Record<string, Stmt>
  for (const [name, sql] of Object.entries(SQL)) out[name] = db.prepare(sql)
  return {
    ...(out as { [K in keyof typeof SQL]: Stmt }),
    touches: {
      base: touchScan(db, ''), extras: touchScan(db, ', content, term, landing'),
      content: touchScan(db, ', content'), term: touchScan(db, ', term'), landing: touchScan(db, ', landing'),
    },
  }
}

function num(v: unknown): number | null {
  return v == null ? null : Number(v)
}

function keyHash(keys: readonly IdentityKey[], kind: IdentityKey['kind']): string | null {
  return keys.find((k) => k.kind === kind)?.hash ?? null
}

function upsertDeal(s: LoopStatements, siteId: string, w: DealWrite, now: number): DealWriteResult {
  let leadId = w.match.leadId
  if (leadId !== null && !s.leadExists.get(leadId, siteId)) {
    return { dealId: w.dealId, leadId: null, stage: w.stage, changed: false, unknownLead: true }
  }
  if (leadId === null) {
    for (const kind of ['email', 'external'] as const) {
      const hash = keyHash(w.match.keys, kind)
      const row = hash === null ? undefined : (s.identityLead.get(siteId, kind, hash) as Row | undefined)
      if (row) { leadId = String(row.lead_id); break }
    }
  }
  const emailHash = keyHash(w.match.keys, 'email')
  const externalHash = keyHash(w.match.keys, 'external')
  // A repeat of the stage (and amount) in force at that time is a retry or a no-op, not history.
  const prev = s.stageAt.get(siteId, w.dealId, w.ts) as Row | undefined
  const changed = !prev || prev.stage !== w.stage || (w.amount !== null && num(prev.amount) !== w.amount)
  if (changed) s.insertStage.run(siteId, w.dealId, w.stage, w.crmStage, w.ts, w.amount, now)

  const row = s.deal.get(siteId, w.dealId) as Row | undefined
  if (!row) {
    s.insertDeal.run(siteId, w.dealId, leadId, emailHash, externalHash, w.stage, w.ts, w.amount, w.originalAmount, w.originalCurrency, now, now)
    return { dealId: w.dealId, leadId, stage: w.stage, changed }
  }
  // An explicit leadId re-points the deal; a key match only fills a missing link.
  const nextLead = w.match.leadId ?? (row.lead_id == null ? leadId : String(row.lead_id))
  const newer = w.ts >= Number(row.stage_ts)
  const stage = newer ? w.stage : (String(row.stage) as Stage)
  const stageTs = newer ? w.ts : Number(row.stage_ts)
  const takeAmount = w.amount !== null && newer
  s.updateDeal.run(
    nextLead, emailHash ?? row.email_hash ?? null, externalHash ?? row.external_hash ?? null, stage, stageTs,
    takeAmount ? w.amount : num(row.amount), takeAmount ? w.originalAmount : num(row.original_amount),
    takeAmount ? w.originalCurrency : (row.original_currency ?? null), now, siteId, w.dealId,
  )
  return { dealId: w.dealId, leadId: nextLead, stage, changed }
}

export function upsertDealsSync(s: LoopStatements, siteId: string, deals: readonly DealWrite[], now: number): DealWriteResult[] {
  return deals.map((w) => upsertDeal(s, siteId, w, now))
}

export function linkPendingDealsSync(s: LoopStatements, siteId: string, leadId: string, keys: readonly IdentityKey[], now: number): number {
  let n = 0
  // Nearly every identify has no deal waiting: the read touches only the small partial index,
  // where the UPDATE would open the deals table and all of its indexes (~15 µs at 1M touchpoints).
  for (const k of keys) {
    if (k.kind === 'email' && s.pendingByEmail.get(siteId, k.hash) !== undefined) n += s.linkByEmail.run(leadId, now, siteId, k.hash).changes
    else if (k.kind === 'external' && s.pendingByExternal.get(siteId, k.hash) !== undefined) n += s.linkByExternal.run(leadId, now, siteId, k.hash).changes
  }
  return n
}

export function getDealsSync(s: LoopStatements, siteId: string, leadId: string): Deal[] {
  return (s.dealsOfLead.all(siteId, leadId) as Row[]).map((r) => ({
    dealId: String(r.id),
    leadId: r.lead_id == null ? null : String(r.lead_id),
    stage: String(r.stage) as Stage,
    amount: num(r.amount),
    originalAmount: num(r.original_amount),
    originalCurrency: r.original_currency == null ? null : String(r.original_currency),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    history: (s.stagesOfDeal.all(siteId, r.id) as Row[]).map((h): DealStageEntry => ({
      stage: String(h.stage) as Stage, crmStage: String(h.crm_stage), ts: Number(h.ts), amount: num(h.amount),
    })),
  }))
}

export function upsertSpendSync(s: LoopStatements, siteId: string, rows: readonly SpendWrite[], now: number): { inserted: number; updated: number } {
  let inserted = 0
  let updated = 0
  for (const r of rows) {
    if (s.spendExists.get(siteId, r.date, r.source, r.medium, r.campaign)) updated++
    else inserted++
    s.upsertSpend.run(siteId, r.date, r.source, r.medium, r.campaign, r.amount, r.originalAmount, r.originalCurrency, now)
  }
  return { inserted, updated }
}

export function upsertRatesSync(s: LoopStatements, siteId: string, rates: readonly FxRate[], now: number): number {
  for (const r of rates) s.upsertRate.run(siteId, r.currency, r.date ?? '', r.rate, now)
  return rates.length
}

export function listRatesSync(s: LoopStatements, siteId: string): FxRate[] {
  return (s.rates.all(siteId) as Row[]).map((r) => ({ currency: String(r.currency), date: r.date === '' ? null : String(r.date), rate: Number(r.rate) }))
}

const MIN_TS = -8.64e15
const MAX_TS = 8.64e15

function isoDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10)
}

type LeadJourney = Journey & { touches: AttributionTouch[]; deals: JourneyDeal[] }

/** Every lead of the site with its deals (and their stage history), by lead ID, in three scans. */
function leadJourneys(s: LoopStatements, siteId: string): Map<string, LeadJourney> {
  const leads = new Map<string, LeadJourney>()
  for (const r of s.reportLeads.iterate(siteId) as Iterable<Row>) {
    const j = { id: String(r.id), identifiedAt: Number(r.identified_at), touches: [] as AttributionTouch[], deals: [] as JourneyDeal[] }
    leads.set(j.id, j)
  }
  const deals = new Map<string, JourneyDeal & { stages: Array<{ stage: Stage; ts: number }> }>()
  for (const r of s.reportDeals.iterate(siteId) as Iterable<Row>) {
    if (r.lead_id == null) continue
    const lead = leads.get(String(r.lead_id))
    if (!lead) continue
    const d = { dealId: String(r.id), amount: num(r.amount), stages: [] as Array<{ stage: Stage; ts: number }> }
    deals.set(d.dealId, d)
    lead.deals.push(d)
  }
  for (const r of s.reportStages.iterate(siteId) as Iterable<Row>) {
    deals.get(String(r.deal_id))?.stages.push({ stage: String(r.stage) as Stage, ts: Number(r.ts) })
  }
  return leads
}

/** A site's report outcomes with what the report cache needs to refresh them in place. */
export interface SiteOutcomes extends LogOutcomes {
  /** Lead ID → index in `leads` / `visitorsOf`. */
  leadIndex: Map<string, number>
  /** Deal ID → index of the lead whose journey holds it. */
  dealOwner: Map<string, number>
}

/**
 * The site's leads, deals and visitor links against a TouchLog's visitor index (visitors only
 * seen in links are added to it): the report input besides the touches themselves.
 */
export function loadOutcomesSync(s: LoopStatements, siteId: string, visitors: VisitorIndex): SiteOutcomes {
  const leads = leadJourneys(s, siteId)
  const leadIndex = new Map<string, number>()
  const dealOwner = new Map<string, number>()
  const outcomes: JourneyOutcome[] = []
  for (const [id, j] of leads) {
    const l = outcomes.length
    leadIndex.set(id, l)
    outcomes.push({ identifiedAt: j.identifiedAt, deals: j.deals })
    for (const d of j.deals) dealOwner.set(d.dealId, l)
  }
  // Nearly every lead has one visitor: a one-element literal holds it in ~40 bytes, where `[]` and a
  // push reserve room for 17 (17 MB over 100k leads).
  const visitorsOf: number[][] = new Array(outcomes.length)
  for (const r of s.reportLinks.iterate(siteId) as Iterable<Row>) {
    const l = leadIndex.get(String(r.lead_id))
    if (l === undefined) continue
    const v = visitors.id(String(r.visitor_id))
    const held = visitorsOf[l]
    if (held === undefined) visitorsOf[l] = [v]
    else held.push(v)
  }
  for (let l = 0; l < visitorsOf.length; l++) visitorsOf[l] ??= []
  return { leads: outcomes, visitorsOf, leadIndex, dealOwner }
}

function dealOf(s: LoopStatements, siteId: string, r: Row): JourneyDeal {
  const stages = (s.reportDealStages.all(siteId, r.id) as Row[]).map((x) => ({ stage: String(x.stage) as Stage, ts: Number(x.ts) }))
  return { dealId: String(r.id), amount: num(r.amount), stages }
}

/** Copy-on-write: tables built earlier keep the outcome objects they were built with. */
function setDeals(out: SiteOutcomes, l: number, deals: JourneyDeal[]): void {
  out.leads[l] = { identifiedAt: out.leads[l].identifiedAt, deals }
}

function takeDeal(out: SiteOutcomes, dealId: string, except: number): void {
  const prev = out.dealOwner.get(dealId)
  if (prev === undefined || prev === except) return
  setDeals(out, prev, (out.leads[prev].deals ?? []).filter((d) => d.dealId !== dealId))
  out.dealOwner.delete(dealId)
}

/**
 * Brings `out` up to date for leads that identify touched (their identify time, visitors and
 * deals) and deals that were written, so it equals what loadOutcomesSync would load now.
 */
export function refreshOutcomesSync(
  s: LoopStatements, siteId: string, out: SiteOutcomes, visitors: VisitorIndex, leadIds: Iterable<string>, dealIds: Iterable<string>,
): void {
  const dirtyDeals = new Set(dealIds)
  const refreshLead = (leadId: string): boolean => {
    const row = s.reportLead.get(leadId, siteId) as Row | undefined
    if (!row) return false
    let l = out.leadIndex.get(leadId)
    if (l === undefined) {
      l = out.leads.length
      out.leadIndex.set(leadId, l)
      out.leads.push({ identifiedAt: Number(row.identified_at), deals: [] })
      out.visitorsOf.push([])
    }
    out.visitorsOf[l] = (s.reportLeadVisitors.all(siteId, leadId) as Row[]).map((r) => visitors.id(String(r.visitor_id)))
    const deals = (s.reportLeadDeals.all({ site: siteId, lead: leadId }) as Row[]).map((r) => dealOf(s, siteId, r))
    const now = new Set(deals.map((d) => d.dealId))
    // A deal that left this lead is placed again from its own row.
    for (const d of out.leads[l].deals ?? []) if (!now.has(d.dealId)) { out.dealOwner.delete(d.dealId); dirtyDeals.add(d.dealId) }
    for (const d of deals) {
      takeDeal(out, d.dealId, l)
      out.dealOwner.set(d.dealId, l)
      dirtyDeals.delete(d.dealId)
    }
    out.leads[l] = { identifiedAt: Number(row.identified_at), deals }
    return true
  }
  for (const leadId of new Set(leadIds)) refreshLead(leadId)
  for (const dealId of dirtyDeals) {
    const row = s.reportDeal.get(siteId, dealId) as Row | undefined
    const leadId = row?.lead_id == null ? null : String(row.lead_id)
    const l = leadId === null ? undefined : out.leadIndex.get(leadId)
    if (leadId !== null && l === undefined && refreshLead(leadId)) continue // its deals came with it
    takeDeal(out, dealId, -1)
    if (!row || l === undefined) continue
    const deals = (out.leads[l].deals ?? []).filter((d) => d.dealId !== dealId)
    deals.push(dealOf(s, siteId, row))
    setDeals(out, l, deals)
    out.dealOwner.set(dealId, l)
  }
}

/** Every touch of the site in [from, to] (at most `limit`) appended to `log`, in storage (visitor, time) order. */
export function scanTouchesSync(s: LoopStatements, siteId: string, log: TouchLog, from: number | null, to: number | null, limit = Infinity): void {
  const extras = log.extras !== null
  const rows = (extras ? s.touches.extras : s.touches.base).iterate(siteId, from ?? MIN_TS, to ?? MAX_TS) as Iterable<unknown[]>
  for (const r of rows) {
    if (extras) log.append(r[0] as string, Number(r[1]), r[2] as string, r[3] as string, r[4] as string, r[5] as string | null, r[6] as string | null, r[7] as string | null, landingPage(r[8]))
    else log.append(r[0] as string, Number(r[1]), r[2] as string, r[3] as string, r[4] as string, r[5] as string | null)
    if (log.size >= limit) break
  }
  log.trim()
}



/**
 * The whole report input as journey objects in five scans (Store.loadReportData, the contract
 * reports are checked against; reports themselves use the TouchLog path). Touches come in table
 * order and are grouped by visitor in memory (no ORDER BY over a million rows; the engine sorts
 * each journey, usually a no-op). Repeated strings (channel, source, medium, campaign) are
 * interned so a million touches share a few thousand string objects.
 */
export function loadReportDataSync(s: LoopStatements, siteId: string, opts: ReportLoadOptions): ReportData {
  const leads = leadJourneys(s, siteId)
  const journeys: Journey[] = [...leads.values()]
  // visitor → the journey(s) its touches belong to (a shared device may belong to several leads).
  const owners = new Map<string, Array<AttributionTouch[]>>()
  for (const r of s.reportLinks.iterate(siteId) as Iterable<Row>) {
    const lead = leads.get(String(r.lead_id))
    if (!lead) continue
    const v = String(r.visitor_id)
    const list = owners.get(v)
    if (list) list.push(lead.touches)
    else owners.set(v, [lead.touches])
  }

  const pool = new Map<string, string>()
  const intern = (v: unknown): string | null => {
    if (v === null || v === undefined) return null
    const str = v as string
    const hit = pool.get(str)
    if (hit !== undefined) return hit
    if (pool.size < 200_000) pool.set(str, str)
    return str
  }
  const extra = opts.extra ?? null
  const stmt = extra === null ? s.touches.base : s.touches[extra]
  let lastVisitor = ''
  let lastOwners: Array<AttributionTouch[]> | undefined
  for (const r of stmt.iterate(siteId, opts.touchesFrom ?? MIN_TS, opts.touchesTo ?? MAX_TS) as Iterable<unknown[]>) {
    const visitor = r[0] as string
    if (visitor !== lastVisitor) {
      lastVisitor = visitor
      lastOwners = owners.get(visitor)
      if (!lastOwners) {
        const touches: AttributionTouch[] = []
        journeys.push({ id: `v:${visitor}`, touches })
        owners.set(visitor, (lastOwners = [touches]))
      }
    }
    const t: AttributionTouch = {
      ts: Number(r[1]),
      channel: intern(r[2]) as string,
      source: intern(r[3]) as string,
      medium: intern(r[4]) as string,
      campaign: intern(r[5]),
    }
    if (extra !== null) t[extra] = extra === 'landing' ? landingPage(r[6]) : intern(r[6])
    for (const list of lastOwners as Array<AttributionTouch[]>) list.push(t)
  }

  return { journeys, spend: loadSpendSync(s, siteId, opts) }
}

/** The site's spend on the days of [touchesFrom, touchesTo]. */
export function loadSpendSync(s: LoopStatements, siteId: string, opts: ReportLoadOptions): SpendRow[] {
  const spend: SpendRow[] = []
  const fromDay = opts.touchesFrom === null ? '0000-01-01' : isoDay(Math.max(opts.touchesFrom, 0))
  const toDay = opts.touchesTo === null ? '9999-12-31' : isoDay(opts.touchesTo)
  for (const r of s.reportSpend.iterate(siteId, fromDay, toDay) as Iterable<Row>) {
    spend.push({
      date: String(r.date),
      source: String(r.source),
      medium: r.medium === '' ? null : String(r.medium),
      campaign: r.campaign === '' ? null : String(r.campaign),
      amount: Number(r.amount),
    })
  }
  return spend
}

/** GA4's "Landing page": the URL without query string or fragment (query strings carry click IDs). */
export function landingPage(v: unknown): string | null {
  if (typeof v !== 'string' || v === '') return null
  const cut = v.search(/[?#]/)
  return cut < 0 ? v : v.slice(0, cut)
}

/** Deletes the deals of these leads and the pending deals waiting for these key hashes (SPEC §7). */
export function eraseDealsSync(s: LoopStatements, siteId: string, leadIds: readonly string[], emailHash?: string, externalHash?: string): number {
  const ids = new Set<string>()
  for (const leadId of leadIds) for (const r of s.dealIdsOfLead.all(siteId, leadId) as Row[]) ids.add(String(r.id))
  if (emailHash) for (const r of s.pendingByEmail.all(siteId, emailHash) as Row[]) ids.add(String(r.id))
  if (externalHash) for (const r of s.pendingByExternal.all(siteId, externalHash) as Row[]) ids.add(String(r.id))
  for (const id of ids) {
    s.deleteStages.run(siteId, id)
    s.deleteDeal.run(siteId, id)
  }
  return ids.size
}
