// Every write of the SQLite store as data: a `WriteOp` names what to do, `runWrite` does it inside
// the current group-commit transaction (its own savepoint). Being plain data (no closures), an op
// and what it returns could be passed to a writer on another thread by structured clone.
//
// What a write changes that the in-memory report input holds (report-cache.ts) is returned
// beside its result as a `CacheDelta`, applied by the store once the transaction is durable.

import { clError } from '../../errors.js'
import type { FxRate } from '../../outcomes/currency.js'
import type { DealWrite, SpendWrite } from '../../outcomes/types.js'
import { siteFromRow, boundPayload, utcDayStart, type Row } from '../rows.js'
import { identifySync } from './identify.js'
import { ingestBatch } from './ingest.js'
import { assignAccountSync } from './accounts.js'
import { runCrmWrite, type CrmWrite } from './crm.js'
import { eraseDealsSync, getDealsSync, linkPendingDealsSync, upsertDealsSync } from './deals.js'
import { eraseConversionsSync, queueConversionsSync, runDestinationWrite, stagesOfDeals, type DestinationWrite } from './destinations.js'
import type { DestinationRegistry, StageReached } from '../../integrations/destinations/plan.js'
import { numOrNull } from '../rows.js'
import type { OutcomeStatements } from './outcome-statements.js'
import { anySuppressed, eraseSync } from './privacy.js'
import { upsertRatesSync, upsertSpendSync } from './spend.js'
import type { Statements } from './statements.js'
import type { IdentifyInput, IdentityKey, IngestEvent, NewSite, PersonSelector, RejectedEvent, Site, DroppedCount } from '../types.js'

export type SitePatch = Partial<Pick<Site, 'origins' | 'cookieDomain' | 'currency' | 'settings' | 'name'>>

export type WriteOp =
  | { op: 'createSite'; id: string; input: NewSite }
  | { op: 'updateSite'; id: string; patch: SitePatch }
  | { op: 'ingest'; events: IngestEvent[] }
  | { op: 'recordRejected'; rows: RejectedEvent[] }
  | { op: 'countDropped'; rows: DroppedCount[] }
  | { op: 'identify'; input: IdentifyInput }
  | { op: 'erase'; siteId: string; who: PersonSelector; hashes: string[] }
  | { op: 'upsertDeals'; siteId: string; deals: DealWrite[] }
  | { op: 'linkPendingDeals'; siteId: string; leadId: string; keys: IdentityKey[] }
  | { op: 'upsertSpend'; siteId: string; rows: SpendWrite[] }
  | { op: 'upsertRates'; siteId: string; rates: FxRate[] }
  | { op: 'crm'; write: CrmWrite }
  | { op: 'retention'; siteId: string; before: number }
  | { op: 'pruneRejected'; before: number }
  | { op: 'destinations'; write: DestinationWrite }

/**
 * A touch as the report cache holds it (content, term and landing for a log that holds one of
 * them). Not a Touch: a flat tuple of only the columns reports read, as the cache holds every touch.
 */
export type CachedTouch = [
  siteId: string, visitor: string, ts: number, channel: string, source: string, medium: string, campaign: string | null,
  content: string | null, term: string | null, landing: string | null,
]

/** What committed writes changed for the report cache. */
export interface CacheDelta {
  /** Touches stored, in commit order. */
  touches: CachedTouch[]
  /** Leads whose identify time, visitors or deals changed, per site. */
  leads: Array<[siteId: string, leadIds: string[]]>
  /** Deals written, per site. */
  deals: Array<[siteId: string, dealIds: string[]]>
  /** Sites whose touches, leads and deals were deleted (erasure). */
  erased: string[]
}

export const emptyDelta = (): CacheDelta => ({ touches: [], leads: [], deals: [], erased: [] })

export interface WriteContext {
  s: Statements
  outcomes: OutcomeStatements
  /** Changes of the batch so far: the job adds its own (cut back by the caller if it rolls back). */
  delta: CacheDelta
  /** Decides which conversion rows a stage change queues (default: this build's adapters). */
  destinations?: DestinationRegistry
}

/** Every stage the lead's deals reached, e.g. when an identify linked deals that were waiting for it. */
function stagesOfLead(o: OutcomeStatements, siteId: string, leadId: string): StageReached[] {
  return stagesOfDeals(getDealsSync(o, siteId, leadId).flatMap((d) => d.history.map((h) => ({ leadId, stage: h.stage, ts: h.ts, amount: h.amount ?? d.amount }))))
}

export function runWrite(ctx: WriteContext, w: WriteOp): unknown {
  const { s, outcomes, delta } = ctx
  const now = Date.now()
  switch (w.op) {
    case 'createSite': {
      const input = w.input
      if (s.sites.byName.get(input.name)) throw clError('VALIDATION', `A site named "${input.name}" already exists`)
      s.sites.insert.run(
        w.id, input.name, input.publicKey, JSON.stringify(input.origins), input.cookieDomain ?? null,
        input.currency ?? 'USD', JSON.stringify(input.settings ?? {}), now,
      )
      s.sites.insertKey.run(input.secretKeyId, w.id, input.secretKeyHash, now)
      return siteFromRow(s.sites.byId.get(w.id) as Row)
    }
    case 'updateSite': {
      const row = s.sites.byId.get(w.id) as Row | undefined
      if (!row) throw clError('NOT_FOUND', 'Unknown site')
      const next = { ...siteFromRow(row), ...w.patch }
      s.sites.update.run(next.name, JSON.stringify(next.origins), next.cookieDomain, next.currency, JSON.stringify(next.settings), w.id)
      return siteFromRow(s.sites.byId.get(w.id) as Row)
    }
    case 'ingest':
      return ingestBatch(s, w.events, (e) => {
        const t = e.touch
        delta.touches.push([e.siteId, e.visitorId, e.ts, t.channel, t.source, t.medium, t.campaign ?? null, t.content ?? null, t.term ?? null, t.landing ?? null])
      })
    case 'recordRejected':
      for (const r of w.rows) s.ingest.insertRejected.run(r.siteId, r.receivedAt, r.code, boundPayload(r.payload))
      return undefined
    case 'countDropped':
      for (const r of w.rows) s.ingest.countDropped.run(r.siteId, utcDayStart(r.receivedAt), r.reason, r.count)
      return undefined
    case 'identify': {
      const input = w.input
      if (input.suppression && anySuppressed(s, input.siteId, input.suppression)) throw clError('SUPPRESSED')
      const outcome = identifySync(s, input, now)
      // A browser's identify of an existing lead links its visitor and nothing else (linkOnly).
      const authoritative = !input.linkOnly || outcome.created
      const accountId = authoritative ? assignAccountSync(outcomes, input.siteId, outcome.leadId, input, now) : undefined
      if (outcome.journey && accountId !== undefined) outcome.journey.lead.accountId = accountId
      // Deals that arrived before their person are linked in the same transaction.
      const contactDeals: string[] = []
      const linked = authoritative ? linkPendingDealsSync(outcomes, input.siteId, outcome.leadId, input.keys, now, (id) => contactDeals.push(id)) : 0
      // Conversions in the same transaction: the lead itself (a new lead reaches `lead`), and the stages of deals it was waiting for.
      const reached: StageReached[] = outcome.created ? [{ leadId: outcome.leadId, stage: 'lead', ts: input.ts, amount: null }] : []
      if (linked > 0) reached.push(...stagesOfLead(outcomes, input.siteId, outcome.leadId))
      queueConversionsSync(outcomes, ctx.destinations, input.siteId, reached, now)
      delta.leads.push([input.siteId, [outcome.leadId]])
      if (contactDeals.length > 0) delta.deals.push([input.siteId, contactDeals])
      return outcome
    }
    case 'retention':
      // The report cache holds the site's touches: it reloads them (as after an erasure).
      delta.erased.push(w.siteId)
      return {
        touches: s.privacy.oldTouches.run(w.siteId, w.before).changes,
        events: s.privacy.oldEvents.run(w.siteId, w.before).changes,
      }
    case 'pruneRejected':
      return s.privacy.oldRejected.run(w.before).changes
    case 'erase':
      delta.erased.push(w.siteId)
      return eraseSync(s, w.siteId, w.who, w.hashes, now, (leadIds) => {
        // The person's conversion rows go with them: none is sent after the erasure.
        eraseConversionsSync(outcomes, w.siteId, leadIds)
        return eraseDealsSync(outcomes, w.siteId, leadIds, w.who.emailHash, w.who.externalIdHash)
      })
    case 'upsertDeals': {
      const placed: string[] = []
      const results = upsertDealsSync(outcomes, w.siteId, w.deals, now, (ids) => placed.push(...ids))
      // A new stage of a known lead queues its conversions in this same transaction.
      const reached: StageReached[] = []
      results.forEach((r, i) => {
        if (!r.changed || r.leadId === null || r.unknownLead || r.accountConflict) return
        const d = w.deals[i]
        const amount = d.amount ?? numOrNull((outcomes.deal.get(w.siteId, d.dealId) as Row | undefined)?.amount)
        reached.push({ leadId: r.leadId, stage: d.stage, ts: d.ts, amount })
      })
      queueConversionsSync(outcomes, ctx.destinations, w.siteId, reached, now)
      delta.deals.push([w.siteId, results.map((r) => r.dealId)])
      if (placed.length > 0) delta.leads.push([w.siteId, placed])
      return results
    }
    case 'linkPendingDeals': {
      const contactDeals: string[] = []
      const linked = linkPendingDealsSync(outcomes, w.siteId, w.leadId, w.keys, now, (id) => contactDeals.push(id))
      if (linked > 0) queueConversionsSync(outcomes, ctx.destinations, w.siteId, stagesOfLead(outcomes, w.siteId, w.leadId), now)
      delta.leads.push([w.siteId, [w.leadId]])
      if (contactDeals.length > 0) delta.deals.push([w.siteId, contactDeals])
      return linked
    }
    case 'upsertSpend':
      return upsertSpendSync(outcomes, w.siteId, w.rows, now)
    case 'upsertRates':
      return upsertRatesSync(outcomes, w.siteId, w.rates, now)
    case 'crm':
      return runCrmWrite(outcomes, w.write)
    case 'destinations':
      return runDestinationWrite(outcomes, w.write)
  }
}
