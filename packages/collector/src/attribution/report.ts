// Pure report builders (SPEC §6): journeys + spend + options → the attribution report, or every
// model side by side. No I/O; the routes and the CLI load the data and call these.

import { checkConversion, checkModel, Engine, type KeyCredits } from './engine.js'
import { keyColumn } from './keys.js'
import { allocateSpend } from './spend.js'
import {
  DEFAULTS,
  MODELS,
  type AttributionReport,
  type ComparisonRow,
  type ConversionKind,
  type Coverage,
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
  for (let i = 0; i < table.ts.length; i++) {
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
  const engine = new Engine(input.journeys, input)
  return { conversion, engine, currency: input.currency ?? DEFAULTS.currency }
}

export function buildReport(input: ReportInput): AttributionReport {
  const model = checkModel(input.model)
  const { conversion, engine, currency } = setup(input)
  const credits = engine.credit(model, conversion)
  const leads: KeyCredits = conversion === 'lead' ? credits : engine.credit(model, 'lead')
  const touches = touchStats(engine)
  const spend = allocateSpend(engine, input.spend ?? [], input.spendChannel)
  const total = conversionTotals(engine, conversion)

  const rows: ReportRow[] = []
  for (let k = 0; k < engine.keys.size; k++) {
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
    totals: metrics(touches.total, conversionTotals(engine, 'lead').count, total.count, total.revenue, spend.total),
    rows,
  }
}

/** Every model on the same data, side by side (journeys compiled and paths cut once). */
export function buildModelsComparison(input: Omit<ReportInput, 'model'>): ModelsComparison {
  const { conversion, engine, currency } = setup(input)
  const credits = {} as Record<ModelName, KeyCredits>
  const leads = {} as Record<ModelName, KeyCredits>
  // `leads` is credited by each model, as in buildReport (the lead paths are cut once for all).
  for (const m of MODELS) {
    credits[m] = engine.credit(m, conversion)
    leads[m] = conversion === 'lead' ? credits[m] : engine.credit(m, 'lead')
  }
  const touches = touchStats(engine)
  const spend = allocateSpend(engine, input.spend ?? [], input.spendChannel)
  const rows: ComparisonRow[] = []
  for (let k = 0; k < engine.keys.size; k++) {
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
    totals: metrics(touches.total, conversionTotals(engine, 'lead').count, total.count, total.revenue, spend.total),
    rows,
  }
}
