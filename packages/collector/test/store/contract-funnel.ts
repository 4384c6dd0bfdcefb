// Contract case: the funnel report. Random leads, touches and deals written through the store;
// GET /v1/reports/funnel's function must equal a plain funnel computed from what was written
// (test/unit/attribution/funnel-naive.ts), for every dimension and journey mode. Both stores are
// checked against the same seeded data, so SQLite and PostgreSQL give equal funnels.

import { describe, expect, it } from 'vitest'
import { buildFunnel, FUNNEL_DIMENSIONS, JOURNEY_MODES, type AttributionTouch, type Journey, type JourneyDeal, type Stage } from '../../src/attribution/index.js'
import type { DealWrite } from '../../src/outcomes/types.js'
import { funnelReport } from '../../src/reports/funnel.js'
import type { Store, Touch } from '../../src/store/types.js'
import { naiveFunnel } from '../unit/attribution/funnel-naive.js'
import { rng } from '../unit/attribution/helpers.js'
import { emailKey, event, makeSite, rid } from './fixtures.js'

const DAY = 86_400_000
const T = Date.UTC(2026, 2, 1)
const ORIGINS: Array<[channel: string, source: string, medium: string]> = [
  ['Paid Search', 'google', 'cpc'],
  ['Organic Search', 'google', 'organic'],
  ['Email', 'newsletter', 'email'],
  ['Paid Social', 'linkedin', 'paid_social'],
  ['Direct', '(direct)', '(none)'],
  ['Direct', '(direct)', '(none)'],
]
const CAMPAIGNS = ['brand', 'generic', null]
const STAGES: Stage[] = ['lead', 'mql', 'sql', 'opportunity', 'won', 'lost']

type Rows = Array<[key: string, counts: number[], rates: Array<number | null>, medians: Array<number | null>]>

function rowsOf(f: ReturnType<typeof buildFunnel>): Rows {
  return [...f.rows, f.total].map((r) => [r.key, Object.values(r.counts), r.steps.map((s) => s.rate), r.steps.map((s) => s.medianDays)])
}

export function funnelContract(getStore: () => Store): void {
  describe('funnel report', () => {
    it('equals a plain funnel of the written data, for every dimension and journey mode', async () => {
      const store = getStore()
      const failures: string[] = []
      for (let seed = 1; seed <= 12; seed++) {
        const r = rng(seed)
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
        const { site } = await makeSite(store)
        const at = () => T + Math.floor(r() * 40) * DAY
        const journeys: Journey[] = []
        const byLead = new Map<string, Journey & { deals: JourneyDeal[] }>()
        const leadIds: string[] = []
        const events = []
        const people: Array<{ visitor: string; touches: AttributionTouch[] }> = []
        for (let v = 0; v < 4 + Math.floor(r() * 8); v++) {
          const visitor = rid()
          const touches: AttributionTouch[] = []
          for (let k = Math.floor(r() * 4); k > 0; k--) {
            const [channel, source, medium] = pick(ORIGINS)
            const t: Touch = { ts: at(), channel, source, medium, campaign: pick(CAMPAIGNS) }
            touches.push({ ...t })
            events.push(event(site.id, visitor, t.ts, { touch: t }))
          }
          people.push({ visitor, touches })
        }
        if (events.length > 0) await store.ingest(events)
        for (const [i, p] of people.entries()) {
          if (r() < 0.2) { journeys.push({ id: `v:${p.visitor}`, touches: p.touches }); continue }
          // Now and then at a touch's very time: that touch is at or before the identify.
          const identifiedAt = p.touches.length > 0 && r() < 0.4 ? pick(p.touches).ts : at()
          // Half of the leads in one of two companies (accounts), for journey=account.
          const company = r() < 0.5 ? pick(['Acme', 'Globex']) : null
          const { leadId } = await store.identify({ siteId: site.id, visitorId: p.visitor, keys: [emailKey(`p${i}-${seed}@x.example`)], ts: identifiedAt, company })
          const j = { id: leadId, identifiedAt, touches: p.touches, deals: [] as JourneyDeal[], account: company }
          journeys.push(j)
          byLead.set(leadId, j)
          leadIds.push(leadId)
        }
        const writes: DealWrite[] = []
        for (const leadId of leadIds) {
          for (let d = Math.floor(r() * 3); d > 0; d--) {
            const dealId = `d-${rid(8)}`
            // Distinct stages (a repeated stage with the same amount is no change), in any order.
            const stages = STAGES.filter(() => r() < 0.4)
            if (stages.length === 0) continue
            const other = r() < 0.3 ? pick(leadIds) : null
            const contacts = other && other !== leadId ? [{ leadId: other, keys: [] }] : undefined
            const deal: JourneyDeal = { dealId, amount: 100, stages: [] }
            for (const stage of stages) {
              const ts = at() + Math.floor(r() * DAY)
              ;(deal.stages as Array<{ stage: Stage; ts: number }>).push({ stage, ts })
              writes.push({ dealId, match: { leadId, keys: [] }, contacts, stage, crmStage: stage, amount: 100, originalAmount: 100, originalCurrency: null, ts })
            }
            byLead.get(leadId)!.deals.push(deal)
          }
        }
        if (writes.length > 0) await store.upsertDeals(site.id, writes)
        const windowed = r() < 0.5
        const from = windowed ? T + 10 * DAY : null
        const to = windowed ? T + 30 * DAY - 1 : null
        for (const by of FUNNEL_DIMENSIONS) {
          for (const journey of JOURNEY_MODES) {
            const tag = `seed ${seed} by ${by} ${journey}`
            const got = await funnelReport(store, site, { by, journey, ...(windowed ? { from: { t: from as number, day: false }, to: { t: to as number, day: false } } : {}) })
            const naive = naiveFunnel(journeys, by, from, to, journey)
            const want: Rows = [...naive.values()].map((n) => [n.key, n.counts, n.rates, n.medianDays])
            const sort = (x: Rows) => [...x].sort((a, b) => (a[0] < b[0] ? -1 : 1))
            const have = rowsOf(got).filter((x) => x[0] !== '(total)' || naive.size > 0)
            if (JSON.stringify(sort(have)) !== JSON.stringify(sort(want))) failures.push(`${tag}: ${JSON.stringify(sort(have))} ≠ ${JSON.stringify(sort(want))}`)
          }
        }
        // The journey-object load gives the same funnel as the report table.
        const data = await store.loadReportData(site.id, { touchesFrom: null, touchesTo: null })
        const table = await store.loadReportTable(site.id, { touchesFrom: null, touchesTo: null })
        expect(rowsOf(buildFunnel({ journeys: data.journeys, by: 'source' }))).toEqual(rowsOf(buildFunnel({ journeys: table.table, by: 'source' })))
        table.release?.()
      }
      expect(failures.slice(0, 6), `${failures.length} mismatches`).toEqual([])
    }, 120_000)
  })
}
