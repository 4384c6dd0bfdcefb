// Reports end to end: a parsed query → one bounded load from the store (load-cache.ts) → the
// pure engine, its markov solves off the event loop (solver.ts). Shared by the HTTP routes and
// `closeloop report`.

import { buildKpis, buildModelsComparison, buildReport, creditKeys, Engine, journeyOutline, journeyTable, type AttributionReport, type ChainSolver, type Dimension, type DrillDown, type JourneyOutline, type Kpis, type ModelsComparison } from '../attribution/index.js'
import { DEFAULTS, type ConversionKind, type JourneyMode, type ModelName, type SpendRow } from '../attribution/types.js'
import { classifyChannel } from '../ingest/channel.js'
import { DEFAULTS as CONFIG_DEFAULTS } from '../config.js'
import { clError } from '../errors.js'
import type { Site, Store } from '../store/types.js'
import type { ReportTableData } from '../outcomes/types.js'
import { drillDown, filterOf, type ReportFilter } from './drill-down.js'
import { withLoad } from './load-cache.js'
import { withSolver, type SolveOptions } from './solver.js'

const DAY = 86_400_000

/** How a report may solve (default: the configured budget's default). */
export type ReportOptions = Partial<SolveOptions>

function solveOptions(opts: ReportOptions): SolveOptions {
  return { budgetMs: opts.budgetMs ?? CONFIG_DEFAULTS.reportBudgetMs, inlineUnits: opts.inlineUnits }
}

export interface ReportQuery extends ReportFilter {
  by: Dimension
  conversion: ConversionKind
  from?: { t: number; day: boolean }
  to?: { t: number; day: boolean }
  lookbackDays?: number
  halfLifeDays?: number
  /** Default: the site's setting, else `deal`. */
  journey?: JourneyMode
  ltvMonths?: number
}

interface Window {
  from: number | null
  to: number | null
}

/** The conversion window of a query, in epoch ms (null = unbounded). */
export function window(q: Pick<ReportQuery, 'from' | 'to'>): Window {
  const from = q.from ? q.from.t : null
  // A bare day as `to` includes that whole day.
  const to = q.to ? (q.to.day ? q.to.t + DAY - 1 : q.to.t) : null
  if (from !== null && to !== null && from > to) throw clError('VALIDATION', 'from must not be after to')
  return { from, to }
}

function spendChannel(row: SpendRow): string {
  return classifyChannel({ source: row.source, medium: row.medium ?? '', campaign: row.campaign ?? '' })
}

/** The loaded data as the query's journey mode sees it, and as account journeys (the KPIs). */
type Loaded = ReportTableData & { drill?: DrillDown; journey: JourneyMode; accounts: () => JourneyOutline }

function journeyOf(site: Site, q: Pick<ReportQuery, 'journey'>): JourneyMode {
  return q.journey ?? site.settings.journey ?? 'deal'
}

/** The input of query q from the load cache, its drill-down applied, handed to `use` (which must not keep the table past its return). */
async function withQueryLoad<R>(store: Store, site: Site, q: ReportQuery, w: Window, use: (data: Loaded) => R): Promise<R> {
  const lookbackMs = (q.lookbackDays ?? DEFAULTS.lookbackDays) * DAY
  const filter = filterOf(q)
  if (filter.length > 0 && (q.by === 'week' || q.by === 'month')) throw clError('VALIDATION', 'drill-down filters need a touch dimension, not week/month')
  const extras = new Set([q.by, ...filter.map(([k]) => k)].filter((k) => k === 'content' || k === 'term' || k === 'landing'))
  if (extras.size > 1) throw clError('VALIDATION', 'at most one of content, term and landing may be used at once')
  return withLoad(store, site.id, {
    // A path reaches back lookbackDays before its conversion; nothing older can earn credit.
    touchesFrom: w.from === null ? null : w.from - lookbackMs,
    touchesTo: w.to,
    extra: ([...extras][0] as 'content' | 'term' | 'landing' | undefined) ?? null,
  }, (data) => {
    const journey = journeyOf(site, q)
    const table = journeyTable(data.table, journey)
    // The KPIs need account journeys' outline only: no copy of the table's columns in other modes.
    return use({ ...data, table, journey, drill: drillDown(table, filter), accounts: () => (journey === 'account' ? table : journeyOutline(data.table, 'account')) })
  })
}

function kpisOf(site: Site, q: ReportQuery, w: Window, data: Loaded, model: ModelName, rows: ReadonlyArray<{ key: string; spend: number }>, solver: ChainSolver): Kpis {
  return buildKpis({
    journeys: data.table, accounts: data.accounts(), model, by: q.by, from: w.from, to: w.to,
    lookbackDays: q.lookbackDays, halfLifeDays: q.halfLifeDays, drill: data.drill, ltvMonths: q.ltvMonths, rows, solver,
  })
}

/** What buildReport and buildModelsComparison share: the query, its window and the loaded data. */
function engineInput(site: Site, q: ReportQuery, w: Window, data: Loaded, solver: ChainSolver) {
  return {
    by: q.by,
    conversion: q.conversion,
    from: w.from,
    to: w.to,
    lookbackDays: q.lookbackDays,
    halfLifeDays: q.halfLifeDays,
    journeys: data.table,
    spend: data.spend,
    currency: site.currency,
    spendChannel,
    drill: data.drill,
    solver,
  }
}

export async function attributionReport(store: Store, site: Site, q: ReportQuery & { model: ModelName }, opts: ReportOptions = {}): Promise<AttributionReport & { journey: JourneyMode; kpis: Kpis }> {
  const w = window(q)
  return withSolver(solveOptions(opts), (solver) => withQueryLoad(store, site, q, w, (data) => {
    const report = buildReport({ model: q.model, ...engineInput(site, q, w, data, solver) })
    return { ...report, journey: data.journey, kpis: kpisOf(site, q, w, data, q.model, report.rows, solver) }
  }))
}

/** The models side by side; ltvToCac of its KPIs is linear's (the row order). */
export async function modelsReport(store: Store, site: Site, q: ReportQuery, opts: ReportOptions = {}): Promise<ModelsComparison & { journey: JourneyMode; kpis: Kpis }> {
  const w = window(q)
  return withSolver(solveOptions(opts), (solver) => withQueryLoad(store, site, q, w, (data) => {
    const report = buildModelsComparison(engineInput(site, q, w, data, solver))
    return { ...report, journey: data.journey, kpis: kpisOf(site, q, w, data, 'linear', report.rows, solver) }
  }))
}

export interface SeriesReport {
  model: ModelName
  period: 'week' | 'month'
  conversion: ConversionKind
  currency: string
  /** Period starts (UTC), YYYY-MM-DD, ascending. */
  periods: string[]
  /** Credited revenue per channel and period, channels by total revenue. */
  channels: Array<{ channel: string; revenue: number[] }>
}

function periodStart(ts: number, period: 'week' | 'month'): number {
  const d = new Date(ts)
  if (period === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
  return day - (((d.getUTCDay() + 6) % 7) * DAY)
}

function nextPeriod(start: number, period: 'week' | 'month'): number {
  if (period === 'week') return start + 7 * DAY
  const d = new Date(start)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

/**
 * Revenue over time by channel (dashboard chart): journeys are compiled once and each period is a
 * window of the same engine, so a period's figures equal `attribution?by=channel&from=…&to=…`.
 * Without from/to: the last 90 days up to now.
 */
export async function seriesReport(store: Store, site: Site, q: ReportQuery & { model: ModelName; period: 'week' | 'month' }, now = Date.now(), opts: ReportOptions = {}): Promise<SeriesReport> {
  const w = window(q)
  const to = w.to ?? now
  const from = w.from ?? to - 90 * DAY
  if (Math.ceil((to - from) / (7 * DAY)) > 520) throw clError('VALIDATION', 'a series covers at most 10 years')
  return withSolver(solveOptions(opts), (solver) => withQueryLoad(store, site, { ...q, by: 'channel' }, { from, to }, (data) => {
    const table = data.table
    const periods: string[] = []
    const credits: Array<Map<string, number>> = []
    for (let start = periodStart(from, q.period); start <= to; start = nextPeriod(start, q.period)) {
      const engine = new Engine(table, { by: 'channel', from: Math.max(start, from), to: Math.min(nextPeriod(start, q.period) - 1, to), lookbackDays: q.lookbackDays, halfLifeDays: q.halfLifeDays, inside: data.drill?.inside, solver })
      const c = creditKeys(engine, q.model, q.conversion, data.drill)
      const byKey = new Map<string, number>()
      for (let k = 0; k < c.revenue.length; k++) if (c.revenue[k] !== 0 && k !== engine.outside) byKey.set(engine.keys.keys[k], c.revenue[k])
      periods.push(new Date(start).toISOString().slice(0, 10))
      credits.push(byKey)
    }
    const totals = new Map<string, number>()
    for (const m of credits) for (const [k, v] of m) totals.set(k, (totals.get(k) ?? 0) + v)
    const channels = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([channel]) => ({ channel, revenue: credits.map((m) => m.get(channel) ?? 0) }))
    return { model: q.model, period: q.period, conversion: q.conversion, currency: site.currency, periods, channels }
  }))
}
