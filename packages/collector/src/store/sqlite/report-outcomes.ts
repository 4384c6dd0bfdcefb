// A site's leads, deals and visitor links as the report cache holds them (SiteOutcomes): loaded in
// a few scans, then refreshed in place for the leads and deals that writes touched.

import type { AttributionTouch, Journey, JourneyDeal } from '../../attribution/types.js'
import type { JourneyOutcome } from '../../attribution/table.js'
import { dealLeads, numOrNull as num, type Row } from '../rows.js'
import type { LogOutcomes, VisitorIndex } from '../touch-log.js'
import type { Prepared } from './statements.js'
import type { Stage } from '../types.js'

export const REPORT_OUTCOME_SQL = {
  // Report load: a handful of scans per site, never a query per lead.
  reportLeads: 'SELECT id, identified_at, account_id FROM leads WHERE site_id = ?',
  reportLinks: 'SELECT visitor_id, lead_id FROM lead_visitors WHERE site_id = ?',
  reportDeals: `SELECT d.id, COALESCE(d.lead_id, ie.lead_id, ix.lead_id) AS lead_id, d.amount FROM deals d
     LEFT JOIN lead_identities ie ON d.lead_id IS NULL AND ie.site_id = d.site_id AND ie.kind = 'email' AND ie.hash = d.email_hash
     LEFT JOIN lead_identities ix ON d.lead_id IS NULL AND ix.site_id = d.site_id AND ix.kind = 'external' AND ix.hash = d.external_hash
     WHERE d.site_id = ?`,
  reportStages: 'SELECT deal_id, stage, ts FROM deal_stages WHERE site_id = ?',
  // The same, for one lead or one deal (the report cache refreshes what a write touched).
  reportLead: 'SELECT identified_at, account_id FROM leads WHERE id = ? AND site_id = ?',
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
  // A deal's other known people, in order (migration 6).
  reportContacts: 'SELECT deal_id, lead_id FROM deal_leads WHERE site_id = ? AND lead_id IS NOT NULL ORDER BY deal_id, position',
  reportDealContacts: 'SELECT lead_id FROM deal_leads WHERE site_id = ? AND deal_id = ? AND lead_id IS NOT NULL ORDER BY position',
} as const


export type ReportOutcomeStatements = Prepared<typeof REPORT_OUTCOME_SQL>

type LeadJourney = Journey & { touches: AttributionTouch[]; deals: JourneyDeal[] }

/** Every lead of the site with its deals (and their stage history), by lead ID, in three scans. */
export function leadJourneys(s: ReportOutcomeStatements, siteId: string): Map<string, LeadJourney> {
  const leads = new Map<string, LeadJourney>()
  for (const r of s.reportLeads.iterate(siteId) as Iterable<Row>) {
    const j: LeadJourney = { id: String(r.id), identifiedAt: Number(r.identified_at), touches: [], deals: [] }
    if (r.account_id != null) j.account = String(r.account_id)
    leads.set(j.id, j)
  }
  const deals = new Map<string, JourneyDeal & { stages: Array<{ stage: Stage; ts: number }> }>()
  const primary = new Map<string, string>()
  for (const r of s.reportDeals.iterate(siteId) as Iterable<Row>) {
    if (r.lead_id == null) continue
    const lead = leads.get(String(r.lead_id))
    if (!lead) continue
    const d: JourneyDeal & { stages: Array<{ stage: Stage; ts: number }> } = { dealId: String(r.id), amount: num(r.amount), stages: [] }
    deals.set(d.dealId, d)
    primary.set(d.dealId, lead.id)
    lead.deals.push(d)
  }
  const others = new Map<string, string[]>()
  for (const r of s.reportContacts.iterate(siteId) as Iterable<Row>) {
    const id = String(r.deal_id)
    if (!primary.has(id) || !leads.has(String(r.lead_id))) continue
    const list = others.get(id)
    if (list) list.push(String(r.lead_id))
    else others.set(id, [String(r.lead_id)])
  }
  for (const [id, list] of others) {
    const all = dealLeads(primary.get(id) as string, list)
    if (all) (deals.get(id) as { leads?: string[] }).leads = all
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
export function loadOutcomesSync(s: ReportOutcomeStatements, siteId: string, visitors: VisitorIndex): SiteOutcomes {
  const leads = leadJourneys(s, siteId)
  const leadIndex = new Map<string, number>()
  const dealOwner = new Map<string, number>()
  const outcomes: JourneyOutcome[] = []
  for (const [id, j] of leads) {
    const l = outcomes.length
    leadIndex.set(id, l)
    outcomes.push({ id, identifiedAt: j.identifiedAt, deals: j.deals, account: j.account ?? null })
    for (const d of j.deals) dealOwner.set(d.dealId, l)
  }
  // Nearly every lead has one visitor: a one-element literal holds it, where `[]` and a push
  // reserve room for 17.
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

function dealOf(s: ReportOutcomeStatements, siteId: string, r: Row, primary: string, out: SiteOutcomes): JourneyDeal {
  const stages = (s.reportDealStages.all(siteId, r.id) as Row[]).map((x) => ({ stage: String(x.stage) as Stage, ts: Number(x.ts) }))
  const others = (s.reportDealContacts.all(siteId, r.id) as Row[]).map((x) => String(x.lead_id))
  const leads = dealLeads(primary, others.filter((o) => out.leadIndex.has(o)))
  return leads ? { dealId: String(r.id), amount: num(r.amount), stages, leads } : { dealId: String(r.id), amount: num(r.amount), stages }
}

/** Copy-on-write: tables built earlier keep the outcome objects they were built with. */
function setDeals(out: SiteOutcomes, l: number, deals: JourneyDeal[]): void {
  out.leads[l] = { ...out.leads[l], deals }
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
  s: ReportOutcomeStatements, siteId: string, out: SiteOutcomes, visitors: VisitorIndex, leadIds: Iterable<string>, dealIds: Iterable<string>,
): void {
  const dirtyDeals = new Set(dealIds)
  const refreshLead = (leadId: string): boolean => {
    const row = s.reportLead.get(leadId, siteId) as Row | undefined
    if (!row) return false
    let l = out.leadIndex.get(leadId)
    if (l === undefined) {
      l = out.leads.length
      out.leadIndex.set(leadId, l)
      out.leads.push({ id: leadId, identifiedAt: Number(row.identified_at), deals: [] })
      out.visitorsOf.push([])
    }
    out.visitorsOf[l] = (s.reportLeadVisitors.all(siteId, leadId) as Row[]).map((r) => visitors.id(String(r.visitor_id)))
    const deals = (s.reportLeadDeals.all({ site: siteId, lead: leadId }) as Row[]).map((r) => dealOf(s, siteId, r, leadId, out))
    const now = new Set(deals.map((d) => d.dealId))
    // A deal that left this lead is placed again from its own row.
    for (const d of out.leads[l].deals ?? []) if (!now.has(d.dealId)) { out.dealOwner.delete(d.dealId); dirtyDeals.add(d.dealId) }
    for (const d of deals) {
      takeDeal(out, d.dealId, l)
      out.dealOwner.set(d.dealId, l)
      dirtyDeals.delete(d.dealId)
    }
    out.leads[l] = { id: leadId, identifiedAt: Number(row.identified_at), deals, account: row.account_id == null ? null : String(row.account_id) }
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
    deals.push(dealOf(s, siteId, row, leadId as string, out))
    setDeals(out, l, deals)
    out.dealOwner.set(dealId, l)
  }
}
