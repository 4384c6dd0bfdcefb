// Pure report builders: journeys + spend + options → the attribution report, or every
// model side by side. No I/O; the routes and the CLI load the data and call these.

import { checkConversion, checkModel, Engine, type KeyCredits } from './engine.js'
import { keyColumn } from './keys.js'
import type { RangeSet } from './paths.js'
import { allocateSpend } from './spend.js'
import {
  DEFAULTS,
  MODELS,
  type AttributionReport,
  type ComparisonRow,
  type ConversionKind,
  type Coverage,
  type DrillDown,
  type ModelColumn,
  type ModelName,
  type ModelsComparison,
  type ReportInput,
  type ReportMetrics,
  type ReportRow,
} from './types.js'

/** a / b, or null when b is 0 (never Infinity or NaN). */
export function ratio(a: number, b: number): number | null {
  return b > 0 && Number.isFinite(a) ? a / b : null
}

function at(a: Float64Array | Int32Array, i: number): number {
  return i < a.length ? a[i] : 0
}

function iso(t: number): string | null {
  return Number.isFinite(t) ? new Date(t).toISOString() : null
}

/** The credited figures of one key under one model and the ratios derived from them (spend is the key's). */
function modelColumn(leads: number, conversions: number, revenue: number, spend: number): ModelColumn {
  return {
    leads,
    conversions,
    revenue,
    roas: ratio(revenue, spend),
    cac: ratio(spend, conversions),
    costPerLead: ratio(spend, leads),
    avgDealSize: ratio(revenue, conversions),
    conversionRate: ratio(conversions, leads),
  }
}

function metrics(touches: number, leads: number, conversions: number, revenue: number, spend: number): ReportMetrics {
  const { roas, cac, costPerLead, avgDealSize, conversionRate } = modelColumn(leads, conversions, revenue, spend)
  return { touches, leads, conversions, revenue, spend, roas, cac, costPerLead, avgDealSize, conversionRate }
}

/** Touches in [from, to] per key, and the paid-touch UTM completeness. */
function touchStats(engine: Engine): { perKey: Int32Array; total: number; utmCompleteness: number | null } {
  const { table, touchKeys, from, to } = engine
  const channel = keyColumn(table, 'channel'), source = keyColumn(table, 'source'), medium = keyColumn(table, 'medium'), campaign = keyColumn(table, 'campaign')
  // Per distinct value, not per touch: is the channel paid, is the field tagged.
  const paid = Uint8Array.from(channel.keys, (k) => (isPaidChannel(k) ? 1 : 0))
  const sTagged = Uint8Array.from(source.keys, (k) => (tagged(k) ? 1 : 0))
  const mTagged = Uint8Array.from(medium.keys, (k) => (tagged(k) ? 1 : 0))
  const cTagged = Uint8Array.from(campaign.keys, (k) => (tagged(k) ? 1 : 0))
  const perKey = new Int32Array(engine.keys.size)
  let total = 0
  let paidTouches = 0
  let complete = 0
  // Merged copies (journeys.ts) are not counted again.
  for (let i = 0, n = table.baseTouches ?? table.ts.length; i < n; i++) {
    const t = table.ts[i]
    if (t < from || t > to) continue
    perKey[touchKeys[i]]++
    total++
    if (paid[channel.ids[i]] === 0) continue
    paidTouches++
    complete += sTagged[source.ids[i]] & mTagged[medium.ids[i]] & cTagged[campaign.ids[i]]
  }
  return { perKey, total, utmCompleteness: ratio(complete, paidTouches) }
}

/** GA4's paid channel groups. */
export function isPaidChannel(channel: string): boolean {
  return channel === 'Cross-network' || channel === 'Display' || channel.startsWith('Paid ')
}

/** A UTM value that says something: not empty, `(not set)` or `(none)`. */
export function tagged(v: string): boolean {
  const t = v.trim()
  return t !== '' && t !== '(not set)' && t !== '(none)'
}

function coverage(engine: Engine, kind: ConversionKind): Coverage {
  const p = engine.paths(kind)
  let covered = 0
  let revenue = 0
  let coveredRevenue = 0
  for (let c = 0; c < p.count; c++) {
    revenue += p.revenue[c]
    if (p.length[c] > 0 && p.keepDirect[c] === 0) {
      covered++
      coveredRevenue += p.revenue[c]
    }
  }
  return { conversions: ratio(covered, p.count), revenue: ratio(coveredRevenue, revenue) }
}

/** Exact totals of a conversion kind (not the sum of fractional credits, which carries rounding). */
function conversionTotals(engine: Engine, kind: ConversionKind): { count: number; revenue: number } {
  const p = engine.paths(kind)
  let revenue = 0
  for (let c = 0; c < p.count; c++) revenue += p.revenue[c]
  return { count: p.count, revenue }
}

function byRevenueThenConversions(a: { key: string; revenue: number; conversions: number }, b: typeof a): number {
  return b.revenue - a.revenue || b.conversions - a.conversions || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}

function setup(input: ReportInput | Omit<ReportInput, 'model'>) {
  const conversion = checkConversion(input.conversion ?? DEFAULTS.conversion)
  const engine = new Engine(input.journeys, { ...input, inside: input.drill?.inside })
  return { conversion, engine, currency: input.currency ?? DEFAULTS.currency }
}

function finite(t: number): number | null {
  return Number.isFinite(t) ? t : null
}

/**
 * Credits of a model, drill-downs included. Most models credit each touch on its own, so the
 * touches inside a filter carry exactly their share of the parent row. markov and shapley credit
 * keys, not touches, so a finer key would change the shares: in a drill-down they are computed by
 * the root dimension of the filter (the top level it was drilled from) and each root key's credit
 * is split over its path touches — shapley per conversion equally over the key's touches on the
 * path; markov over the key's touches on converting paths (revenue in proportion to their paths'
 * revenue), or on non-converting paths when it has none on a converting one.
 */
export function creditKeys(engine: Engine, model: ModelName, kind: ConversionKind, drill?: DrillDown): KeyCredits {
  if (!drill || (model !== 'markov' && model !== 'shapley')) return engine.credit(model, kind)
  const root = new Engine(engine.table, { by: drill.filter[0][0], from: finite(engine.from), to: finite(engine.to), lookbackDays: engine.lookbackDays, halfLifeDays: engine.halfLifeDays, solver: engine.solver })
  const paths = root.paths(kind)
  const rk = root.touchKeys, keys = engine.touchKeys, direct = engine.table.direct
  const out: KeyCredits = { conversions: new Float64Array(engine.keys.size), revenue: new Float64Array(engine.keys.size) }
  // Walks the path touches of range c (direct rule applied).
  const each = (set: RangeSet, c: number, f: (i: number) => void): void => {
    const keep = set.keepDirect[c]
    for (let i = set.start[c], e = set.end[c]; i < e; i++) if (direct[i] <= keep) f(i)
  }
  if (model === 'shapley') {
    const count = new Int32Array(root.keys.size)
    for (let c = 0; c < paths.count; c++) {
      if (paths.length[c] === 0) continue
      let distinct = 0
      each(paths, c, (i) => { if (count[rk[i]]++ === 0) distinct++ })
      const rev = paths.revenue[c]
      each(paths, c, (i) => {
        const share = 1 / (distinct * count[rk[i]])
        out.conversions[keys[i]] += share
        out.revenue[keys[i]] += share * rev
      })
      each(paths, c, (i) => { count[rk[i]] = 0 })
    }
    return out
  }
  const credit = root.credit('markov', kind)
  const n = root.keys.size
  const touches = new Float64Array(n), revenue = new Float64Array(n), idle = new Float64Array(n)
  for (let c = 0; c < paths.count; c++) each(paths, c, (i) => { touches[rk[i]]++; revenue[rk[i]] += paths.revenue[c] })
  const nulls = root.nullPaths(kind)
  for (let c = 0; c < nulls.count; c++) each(nulls, c, (i) => { idle[rk[i]]++ })
  for (let c = 0; c < paths.count; c++) {
    each(paths, c, (i) => {
      const k = rk[i]
      out.conversions[keys[i]] += at(credit.conversions, k) / touches[k]
      out.revenue[keys[i]] += at(credit.revenue, k) * (revenue[k] > 0 ? paths.revenue[c] / revenue[k] : 1 / touches[k])
    })
  }
  // A state only on non-converting paths can still earn credit (it leads to converting states).
  for (let c = 0; c < nulls.count; c++) {
    each(nulls, c, (i) => {
      const k = rk[i]
      if (touches[k] > 0) return
      out.conversions[keys[i]] += at(credit.conversions, k) / idle[k]
      out.revenue[keys[i]] += at(credit.revenue, k) / idle[k]
    })
  }
  return out
}

/** Totals of a drill-down: the sum of its rows (exact counts belong to the top level only). */
function sumOf(rows: ReadonlyArray<Pick<ReportMetrics, 'touches' | 'leads' | 'conversions' | 'revenue' | 'spend'>>): ReportMetrics {
  const sum = (f: 'touches' | 'leads' | 'conversions' | 'revenue' | 'spend'): number => rows.reduce((s, r) => s + r[f], 0)
  return metrics(sum('touches'), sum('leads'), sum('conversions'), sum('revenue'), sum('spend'))
}

export function buildReport(input: ReportInput): AttributionReport {
  const model = checkModel(input.model)
  const { conversion, engine, currency } = setup(input)
  const drill = input.drill
  const credits = creditKeys(engine, model, conversion, drill)
  const leads: KeyCredits = conversion === 'lead' ? credits : creditKeys(engine, model, 'lead', drill)
  const touches = touchStats(engine)
  const spend = allocateSpend(engine, input.spend ?? [], input.spendChannel, drill)
  const total = conversionTotals(engine, conversion)

  const rows: ReportRow[] = []
  for (let k = 0; k < engine.keys.size; k++) {
    if (k === engine.outside) continue
    const row = metrics(
      at(touches.perKey, k),
      at(leads.conversions, k),
      at(credits.conversions, k),
      at(credits.revenue, k),
      at(spend.byKey, k),
    )
    if (row.touches === 0 && row.leads === 0 && row.conversions === 0 && row.revenue === 0 && row.spend === 0) continue
    rows.push({ key: engine.keys.keys[k], ...row })
  }
  rows.sort(byRevenueThenConversions)

  return {
    model,
    by: engine.by,
    conversion,
    from: iso(engine.from),
    to: iso(engine.to),
    lookbackDays: engine.lookbackDays,
    currency,
    coverage: coverage(engine, conversion),
    utmCompleteness: touches.utmCompleteness,
    totals: drill ? sumOf(rows) : metrics(touches.total, conversionTotals(engine, 'lead').count, total.count, total.revenue, spend.total),
    rows,
  }
}

/** Every model on the same data, side by side (journeys compiled and paths cut once). */
export function buildModelsComparison(input: Omit<ReportInput, 'model'>): ModelsComparison {
  const { conversion, engine, currency } = setup(input)
  const credits = {} as Record<ModelName, KeyCredits>
  const leads = {} as Record<ModelName, KeyCredits>
  // `leads` is credited by each model, as in buildReport (the lead paths are cut once for all).
  const drill = input.drill
  for (const m of MODELS) {
    credits[m] = creditKeys(engine, m, conversion, drill)
    leads[m] = conversion === 'lead' ? credits[m] : creditKeys(engine, m, 'lead', drill)
  }
  const touches = touchStats(engine)
  const spend = allocateSpend(engine, input.spend ?? [], input.spendChannel, drill)
  const rows: ComparisonRow[] = []
  for (let k = 0; k < engine.keys.size; k++) {
    if (k === engine.outside) continue
    const spendK = at(spend.byKey, k)
    const models = {} as Record<ModelName, ModelColumn>
    let any = at(touches.perKey, k) > 0 || spendK !== 0
    for (const m of MODELS) {
      const col = modelColumn(at(leads[m].conversions, k), at(credits[m].conversions, k), at(credits[m].revenue, k), spendK)
      if (col.leads !== 0 || col.conversions !== 0 || col.revenue !== 0) any = true
      models[m] = col
    }
    if (any) rows.push({ key: engine.keys.keys[k], touches: at(touches.perKey, k), spend: spendK, models })
  }
  rows.sort((a, b) => byRevenueThenConversions({ key: a.key, ...a.models.linear }, { key: b.key, ...b.models.linear }))
  const total = conversionTotals(engine, conversion)
  return {
    by: engine.by,
    conversion,
    from: iso(engine.from),
    to: iso(engine.to),
    lookbackDays: engine.lookbackDays,
    currency,
    models: MODELS,
    coverage: coverage(engine, conversion),
    utmCompleteness: touches.utmCompleteness,
    // A drill-down's credited figures depend on the model: its totals are those of linear (the row order).
    totals: drill ? sumOf(rows.map((r) => ({ touches: r.touches, spend: r.spend, ...r.models.linear }))) : metrics(touches.total, conversionTotals(engine, 'lead').count, total.count, total.revenue, spend.total),
    rows,
  }
}
