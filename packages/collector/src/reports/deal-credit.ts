// What one deal's attribution says, for writing it back to the CRM: the channel and the campaign
// credited most for the deal under the report defaults (model, journey mode of the site, lookback).
// The deal's own journeys are read (its people, and its account's for account journeys) and run
// through the same pure engine as reports, so the values are what a report over that deal shows.

import { CONVERSIONS, DEFAULTS, Engine, journeyTable, NOT_SET_KEY, UNATTRIBUTED_KEY, type ConversionKind, type Journey, type JourneyMode, type ModelName } from '../attribution/index.js'
import type { Deal } from '../outcomes/types.js'
import type { LeadJourney, Site, Store } from '../store/types.js'

/** The model reports use when none is asked for (the attribution API's default). */
export const DEFAULT_MODEL: ModelName = 'linear'

export interface DealCredit {
  channel: string | null
  campaign: string | null
  model: ModelName
  /** The conversion the path was cut at: the furthest the deal reached. */
  conversion: ConversionKind
}

function journeyOf(lj: LeadJourney, deal: Deal | null, leadIds: readonly string[]): Journey {
  return {
    id: lj.lead.id,
    identifiedAt: lj.lead.identifiedAt,
    account: lj.lead.accountId,
    touches: lj.touches.map((t) => ({ ts: t.ts, channel: t.channel, source: t.source, medium: t.medium, campaign: t.campaign ?? null })),
    deals: deal === null ? [] : [{
      dealId: deal.dealId, amount: deal.amount, stages: deal.history.map((h) => ({ stage: h.stage, ts: h.ts })),
      ...(leadIds.length > 1 ? { leads: leadIds } : {}),
    }],
  }
}

/** The key with most credit, or null when only an unattributed or unset value has any. */
function top(keys: readonly string[], credit: Float64Array): string | null {
  let best = -1
  for (let k = 0; k < credit.length; k++) {
    if (keys[k] === UNATTRIBUTED_KEY || keys[k] === NOT_SET_KEY || credit[k] <= 1e-12) continue
    // Ties go to the first key in path order (the interner's), which is stable between runs.
    if (best < 0 || credit[k] > credit[best] + 1e-12) best = k
  }
  return best < 0 ? null : keys[best]
}

/**
 * The deal's most-credited channel and campaign, or null when the deal is not stored on a lead
 * or reached no conversion stage (sql, opportunity, won) yet. `leadIds`: the deal's known people.
 */
export async function dealCredit(store: Store, site: Site, dealId: string, leadIds: readonly string[], model: ModelName = DEFAULT_MODEL): Promise<DealCredit | null> {
  let primary: LeadJourney | null = null
  let deal: Deal | null = null
  for (const id of leadIds) {
    deal = (await store.getDeals(site.id, id)).find((d) => d.dealId === dealId) ?? null
    if (deal !== null) {
      primary = await store.getLead(site.id, deal.leadId ?? id)
      break
    }
  }
  if (primary === null || deal === null) return null
  const mode: JourneyMode = site.settings.journey ?? 'deal'
  const people = [primary.lead.id, ...leadIds.filter((id) => id !== primary.lead.id)]
  const ids = new Set(mode === 'lead' ? [primary.lead.id] : people)
  if (mode === 'account' && primary.lead.accountId !== null) {
    for (const id of (await store.getAccount(site.id, primary.lead.accountId))?.leadIds ?? []) ids.add(id)
  }
  const journeys: Journey[] = []
  for (const id of ids) {
    const lj = id === primary.lead.id ? primary : await store.getLead(site.id, id)
    if (lj !== null) journeys.push(journeyOf(lj, id === primary.lead.id ? deal : null, mode === 'lead' ? [] : people))
  }
  const table = journeyTable(journeys, mode)
  const channels = new Engine(table, { by: 'channel', lookbackDays: DEFAULTS.lookbackDays })
  const campaigns = new Engine(table, { by: 'campaign', lookbackDays: DEFAULTS.lookbackDays })
  // The furthest conversion the deal reached: its path is cut there, as a report of that conversion does.
  for (const kind of [...CONVERSIONS].reverse()) {
    if (kind === 'lead' || channels.conversions(kind).count === 0) continue
    return {
      channel: top(channels.keys.keys, channels.credit(model, kind).conversions),
      campaign: top(campaigns.keys.keys, campaigns.credit(model, kind).conversions),
      model,
      conversion: kind,
    }
  }
  return null
}
