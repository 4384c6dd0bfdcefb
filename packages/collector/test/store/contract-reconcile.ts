// Contract case: drill-down reports reconcile. On random journeys, deals and spend written through
// the store, every drill-down level's rows add up to their parent row (touches, leads, conversions,
// revenue, spend), `(unattributed)` appears at the top level only, and totals equal the sum of the
// rows — for every model and every touch dimension, through the real report functions.

import { describe, expect, it } from 'vitest'
import { MODELS, TOUCH_DIMENSIONS, UNATTRIBUTED_KEY, type ConversionKind, type ModelName, type TouchDimension } from '../../src/attribution/types.js'
import type { DealWrite } from '../../src/outcomes/types.js'
import { attributionReport, modelsReport, type ReportQuery } from '../../src/reports/query.js'
import type { Site, Store, Touch } from '../../src/store/types.js'
import { rng } from '../unit/attribution/helpers.js'
import { emailKey, event, makeSite, rid } from './fixtures.js'

const DAY = 86_400_000
const T = Date.UTC(2026, 2, 1)
const ITERATIONS = 24
const FIELDS = ['touches', 'leads', 'conversions', 'revenue', 'spend'] as const
const EXTRAS = new Set<string>(['content', 'term', 'landing'])

// Channels, sources and mediums as the tracker classifies them; `brand` runs on Google and Bing.
const ORIGINS: Array<[channel: string, source: string, medium: string]> = [
  ['Paid Search', 'google', 'cpc'],
  ['Paid Search', 'bing', 'cpc'],
  ['Organic Search', 'google', 'organic'],
  ['Email', 'newsletter', 'email'],
  ['Paid Social', 'linkedin', 'paid_social'],
  ['Direct', '(direct)', '(none)'],
]
const CAMPAIGNS = ['brand', 'generic', null]
const CONTENTS = ['ad-a', 'ad-b', null]
const TERMS = ['crm', null]
const LANDINGS = ['https://example.com/', 'https://example.com/pricing', null]
const KINDS: ConversionKind[] = ['won', 'opportunity', 'lead', 'sql']

interface Data {
  site: Site
  query: Pick<ReportQuery, 'conversion' | 'from' | 'to' | 'lookbackDays'>
}

/** A small random site: visitors with touches (some after or long before their conversions), leads across devices, untouched leads, deals, spend (some matching no touch). */
async function randomSite(store: Store, seed: number): Promise<Data> {
  const r = rng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
  const { site } = await makeSite(store)
  const at = () => T + Math.floor(r() * 60 * DAY)
  const visitors = Array.from({ length: 3 + Math.floor(r() * 6) }, () => rid())
  const events = visitors.flatMap((v) => Array.from({ length: Math.floor(r() * 5) }, () => {
    const ts = at()
    const [channel, source, medium] = pick(ORIGINS)
    const t: Touch = { ts, channel, source, medium, campaign: pick(CAMPAIGNS), content: pick(CONTENTS), term: pick(TERMS), landing: pick(LANDINGS) }
    return event(site.id, v, ts, { touch: t })
  }))
  if (events.length > 0) await store.ingest(events)
  // A visitor that never sent a page view: its lead has no touch at all.
  visitors.push(rid())
  const deals: DealWrite[] = []
  let person = 0
  for (const v of visitors) {
    if (r() < 0.3) continue
    // Now and then two visitors are one person.
    const email = r() < 0.25 && person > 0 ? `p${person - 1}@x.example` : `p${person++}@x.example`
    const identified = at()
    const { leadId } = await store.identify({ siteId: site.id, visitorId: v, keys: [emailKey(email)], ts: identified })
    for (let d = Math.floor(r() * 3); d > 0; d--) {
      const dealId = `d-${rid(8)}`
      const amount = 100 * (1 + Math.floor(r() * 50))
      const opened = identified + Math.floor(r() * 20 * DAY)
      const base = { dealId, match: { leadId, keys: [] }, crmStage: 'x', amount, originalAmount: amount, originalCurrency: null }
      deals.push({ ...base, stage: r() < 0.5 ? 'opportunity' : 'sql', ts: opened })
      if (r() < 0.6) deals.push({ ...base, stage: 'won', ts: opened + Math.floor(r() * 15 * DAY) })
    }
  }
  if (deals.length > 0) await store.upsertDeals(site.id, deals)
  const spend = Array.from({ length: 2 + Math.floor(r() * 6) }, () => {
    const [, source, medium] = r() < 0.15 ? ['', 'tiktok', 'paid_social'] : pick(ORIGINS)
    const amount = 10 * (1 + Math.floor(r() * 100))
    const day = new Date(at()).toISOString().slice(0, 10)
    return { date: day, source, medium: r() < 0.2 ? '' : medium, campaign: pick(CAMPAIGNS) ?? '', amount, originalAmount: amount, originalCurrency: null }
  })
  await store.upsertSpend(site.id, spend)
  const windowed = r() < 0.5
  return {
    site,
    query: {
      conversion: KINDS[seed % KINDS.length],
      ...(windowed ? { from: { t: T + 15 * DAY, day: true }, to: { t: T + 70 * DAY, day: true } } : {}),
      lookbackDays: pick([7, 30, 90]),
    },
  }
}

type Figures = Record<(typeof FIELDS)[number], number>

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b))
}

/** Differences between the sum of `rows` and `parent`, as readable lines. */
function mismatches(label: string, rows: readonly Figures[], parent: Figures, fields: readonly (keyof Figures)[] = FIELDS): string[] {
  const out: string[] = []
  for (const f of fields) {
    const sum = rows.reduce((s, x) => s + x[f], 0)
    if (!close(sum, parent[f])) out.push(`${label}: ${f} of the rows ${sum} ≠ ${parent[f]}`)
  }
  return out
}

/** Dimensions that may follow `used` (the store loads at most one of content, term and landing). */
function nextDims(used: readonly TouchDimension[]): TouchDimension[] {
  return TOUCH_DIMENSIONS.filter((d) => !used.includes(d) && new Set([...used, d].filter((x) => EXTRAS.has(x))).size <= 1)
}

export function reconcileContract(getStore: () => Store): void {
  describe('drill-down reports', () => {
    it('reconcile: every level\'s rows add up to their parent row, for every model and touch dimension', async () => {
      const store = getStore()
      const failures: string[] = []
      for (let seed = 1; seed <= ITERATIONS; seed++) {
        const { site, query } = await randomSite(store, seed)
        const r = rng(seed * 7919)
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
        for (const model of MODELS) {
          for (const d1 of TOUCH_DIMENSIONS) {
            const report = (by: TouchDimension, filter: Partial<Record<TouchDimension, string>>) =>
              attributionReport(store, site, { ...filter, ...query, by, model } as ReportQuery & { model: ModelName })
            const tag = `seed ${seed} ${model} ${query.conversion} by ${d1}`
            const top = await report(d1, {})
            failures.push(...mismatches(`${tag} totals`, top.rows, top.totals))
            const parents = top.rows.filter((x) => x.key !== UNATTRIBUTED_KEY)
            for (const parent of [pick(parents), pick(parents)]) {
              if (!parent) continue
              const d2 = pick(nextDims([d1]))
              const level2 = await report(d2, { [d1]: parent.key })
              const tag2 = `${tag}=${parent.key} › by ${d2}`
              failures.push(...mismatches(tag2, level2.rows, parent), ...mismatches(`${tag2} totals`, level2.rows, level2.totals))
              if (level2.rows.some((x) => x.key === UNATTRIBUTED_KEY)) failures.push(`${tag2}: has an ${UNATTRIBUTED_KEY} row`)
              const child = pick(level2.rows)
              if (!child) continue
              const d3 = pick(nextDims([d1, d2]))
              const level3 = await report(d3, { [d1]: parent.key, [d2]: child.key })
              const tag3 = `${tag2}=${child.key} › by ${d3}`
              failures.push(...mismatches(tag3, level3.rows, child), ...mismatches(`${tag3} totals`, level3.rows, level3.totals))
              if (level3.rows.some((x) => x.key === UNATTRIBUTED_KEY)) failures.push(`${tag3}: has an ${UNATTRIBUTED_KEY} row`)
            }
          }
        }
        // The models comparison: each model's column adds up to its parent row too.
        const d1 = pick(TOUCH_DIMENSIONS)
        const top = await modelsReport(store, site, { ...query, by: d1 })
        const parent = pick(top.rows.filter((x) => x.key !== UNATTRIBUTED_KEY))
        if (parent) {
          const d2 = pick(nextDims([d1]))
          const level2 = await modelsReport(store, site, { [d1]: parent.key, ...query, by: d2 } as ReportQuery)
          for (const model of MODELS) {
            const figures = (x: typeof parent): Figures => ({ touches: x.touches, spend: x.spend, leads: x.models[model].leads, conversions: x.models[model].conversions, revenue: x.models[model].revenue })
            failures.push(...mismatches(`seed ${seed} models ${model} by ${d1}=${parent.key} › by ${d2}`, level2.rows.map(figures), figures(parent)))
          }
          if (level2.rows.some((x) => x.key === UNATTRIBUTED_KEY)) failures.push(`seed ${seed} models by ${d1}=${parent.key} › by ${d2}: has an ${UNATTRIBUTED_KEY} row`)
        }
      }
      expect(failures.slice(0, 12), `${failures.length} mismatches`).toEqual([])
    }, 120_000)
  })
}
