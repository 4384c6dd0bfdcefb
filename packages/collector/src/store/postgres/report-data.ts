// The whole report input of a PostgreSQL site as journey objects (Store.loadReportData), and the
// deals and spend that the report table (report.ts) reads too: a handful of queries on the pool,
// rows as arrays, never a query per lead.

import type pg from 'pg'
import type { AttributionTouch, Journey, JourneyDeal, SpendRow } from '../../attribution/types.js'
import type { ReportData, ReportLoadOptions } from '../../outcomes/types.js'
import { dealLeads, landingPage, numOrNull as num } from '../rows.js'
import type { Stage } from '../types.js'

type Client = pg.PoolClient | pg.Pool

export async function loadReportDataPg(c: Client, siteId: string, opts: ReportLoadOptions): Promise<ReportData> {
  const journeys: Journey[] = []
  const leads = new Map<string, Journey & { id: string; identifiedAt: number; touches: AttributionTouch[]; deals: JourneyDeal[] }>()
  for (const r of (await c.query({ text: 'SELECT id, identified_at, account_id FROM leads WHERE site_id = $1', values: [siteId], rowMode: 'array' })).rows as unknown[][]) {
    const j: Journey & { id: string; identifiedAt: number; touches: AttributionTouch[]; deals: JourneyDeal[] } = { id: String(r[0]), identifiedAt: Number(r[1]), touches: [], deals: [] }
    if (r[2] != null) j.account = String(r[2])
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
  const deals = new Map<string, JourneyDeal & { stages: Array<{ stage: Stage; ts: number }> }>()
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
  // The deals' other known people, in order (migration 6); leads the site has.
  const primary = new Map(out.map(([lead, d]) => [d.dealId, lead]))
  const others = new Map<string, string[]>()
  const contacts = await c.query({
    text: `SELECT dl.deal_id, dl.lead_id FROM deal_leads dl JOIN leads l ON l.id = dl.lead_id AND l.site_id = dl.site_id
           WHERE dl.site_id = $1 ORDER BY dl.deal_id, dl.position`,
    values: [siteId],
    rowMode: 'array',
  })
  for (const r of contacts.rows as unknown[][]) {
    const id = String(r[0])
    if (!primary.has(id)) continue
    const list = others.get(id)
    if (list) list.push(String(r[1]))
    else others.set(id, [String(r[1])])
  }
  for (const [id, list] of others) {
    const all = dealLeads(primary.get(id) as string, list)
    if (all) (deals.get(id) as JourneyDeal).leads = all
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
