// Which conversion rows a stage change queues: for each destination of the site that sends the
// stage, one row per (destination, lead, stage), pending when the platform can match the lead
// (the adapter's matchable), else recorded as unmatched with why (the dashboard's "what is
// missing"). Pure: both stores call it inside the transaction of the change, with what they read.

import { createHash } from 'node:crypto'
import type { ConversionOutboxRow, DestinationRecord, Stage, UnmatchedReason } from '../../store/types.js'
import type { AdapterRegistry } from '../adapter-registry.js'
import type { ClickRef, Destination, DestinationAdapter, DestinationKind, LeadMatchContext, PlatformMatch } from './adapter.js'
import { destinationRegistry } from './registry.js'

export type DestinationRegistry = AdapterRegistry<DestinationKind, DestinationAdapter>

/** The click parameters each platform issues: a lead with one of them that the adapter refuses was clicked outside the window. */
export const PLATFORM_CLICK_TYPES: Readonly<Record<DestinationKind, readonly string[]>> = {
  'google-ads': ['gclid', 'gbraid', 'wbraid'],
  'google-ads-feed': ['gclid', 'gbraid', 'wbraid'],
  'microsoft-ads-feed': ['msclkid'],
  meta: ['fbclid'],
  linkedin: ['li_fat_id'],
}

/** A lead reaching a stage, as a deal write or an identify found it. */
export interface StageReached {
  leadId: string
  stage: Stage
  /** When the stage was reached, epoch ms. */
  ts: number
  /** The deal amount in the site currency (null: none, or the `lead` stage). */
  amount: number | null
}

/** What the store read about the lead. */
export interface LeadFacts {
  /** Visitors linked to the lead: none means the tracker never ran for them with consent. */
  visitors: number
  hasEmail: boolean
  hasPhone: boolean
  /** Click IDs of the lead's touches up to the stage time, newest first. */
  clicks: ClickRef[]
}

/** An outbox row as planned, before it is stored: the stored row's own fields, and how it matches. */
export type PlannedRow = Pick<ConversionOutboxRow, 'key' | 'destinationId' | 'leadId' | 'stage' | 'conversionName' | 'value' | 'revenue' | 'currency' | 'occurredAt'> & {
  status: 'pending' | 'unmatched'
  reason: UnmatchedReason | null
  match: PlatformMatch | null
}

/** The row's key, sent as the platform's order/event ID: the same (destination, lead, stage) always has the same key. */
export function conversionKey(destinationId: string, leadId: string, stage: Stage): string {
  return 'cl_' + createHash('sha256').update(`${destinationId}\n${leadId}\n${stage}`).digest('hex').slice(0, 32)
}

/**
 * The destination as its adapter's matchable sees it. Matching runs inside the store's write
 * transaction, where secrets cannot be decrypted: options are parsed as stored (secret values
 * still ciphertexts), so matchable decides from the lead and the non-secret options only.
 */
function asDestination(record: DestinationRecord, adapter: DestinationAdapter): Destination<unknown> {
  let options: unknown
  try {
    options = adapter.parseOptions(record.options)
  } catch {
    options = record.options
  }
  return { id: record.id, siteId: record.siteId, kind: adapter.kind, options, send: record.send }
}

/** Why a lead the platform cannot match is missing, for the figures. */
function unmatchedReason(kind: DestinationKind, facts: LeadFacts): UnmatchedReason {
  if (facts.visitors === 0) return 'no_consent'
  const types = PLATFORM_CLICK_TYPES[kind]
  return facts.clicks.some((c) => types.includes(c.type)) ? 'outside_window' : 'no_click_id'
}

/** The rows one stage reach queues; destinations whose kind this build lacks are skipped. */
export function planConversions(
  destinations: readonly DestinationRecord[], reached: StageReached, facts: LeadFacts, currency: string,
  registry: DestinationRegistry = destinationRegistry,
): PlannedRow[] {
  const out: PlannedRow[] = []
  for (const d of destinations) {
    const action = d.send[reached.stage]
    if (action === undefined || !registry.isKind(d.kind) || !registry.available().includes(d.kind)) continue
    const adapter = registry.get(d.kind)
    const lead: LeadMatchContext = { leadId: reached.leadId, convertedAt: reached.ts, clicks: facts.clicks, hasEmail: facts.hasEmail, hasPhone: facts.hasPhone }
    // No visitor: the person never let the tracker run (consent pending or denied, GPC, blocked).
    const match = facts.visitors === 0 ? null : adapter.matchable(lead, asDestination(d, adapter))
    out.push({
      key: conversionKey(d.id, reached.leadId, reached.stage), destinationId: d.id, leadId: reached.leadId, stage: reached.stage,
      conversionName: action.name, value: action.value ?? reached.amount, revenue: reached.amount, currency, occurredAt: reached.ts,
      status: match === null ? 'unmatched' : 'pending', reason: match === null ? unmatchedReason(adapter.kind, facts) : null, match,
    })
  }
  return out
}
