// Reports end to end: a parsed query → one bounded load from the store → the pure engine
// (SPEC §6). Shared by the HTTP routes and `closeloop report`.

import { buildModelsComparison, buildReport, type AttributionReport, type Dimension, type ModelsComparison } from '../attribution/index.js'
import { DEFAULTS, type ConversionKind, type ModelName, type SpendRow } from '../attribution/types.js'
import { classifyChannel } from '../ingest/channel.js'
import { clError } from '../errors.js'
import type { Site, Store } from '../store/types.js'
import { FILTER_KEYS, type FilterKey } from '../outcomes/schemas.js'
import type { ReportLoadOptions, ReportTableData } from '../outcomes/types.js'
import { Engine, ratio, type JourneyOutcome, type TouchTable } from '../attribution/index.js'
import { keyColumn } from '../attribution/keys.js'
import type { ReportMetrics } from '../attribution/types.js'

const DAY = 86_400_000

export type ReportFilter = Partial<Record<FilterKey, string>>

export interface ReportQuery extends ReportFilter {
  by: Dimension
  conversion: ConversionKind
  from?: { t: number; day: boolean }
  to?: { t: number; day: boolean }
  lookbackDays?: number
  halfLifeDays?: number
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

// A key no stored value can equal (stored text never holds NUL): touches outside a drill-down filter.
const OUTSIDE = '\u0000outside'

function filterOf(q: ReportQuery): Array<[FilterKey, string]> {
  return FILTER_KEYS.flatMap((k) => (q[k] === undefined ? [] : [[k, q[k] as string] as [FilterKey, string]]))
}

/**
 * Drill-down: touches outside the filter keep their place in every path (credit shares do not
 * change) but their `by` value becomes OUTSIDE, whose row is dropped. by=source_medium renames
 * source and medium, so spend of a source/medium goes to its touches inside the filter. Works on
 * the key columns: no touch object is copied.
 */
function applyFilter(table: TouchTable, by: Dimension, filter: Array<[FilterKey, string]>): TouchTable {
  if (by === 'week' || by === 'month') throw clError('VALIDATION', 'drill-down filters need a touch dimension, not week/month')
  const n = table.ts.length
  const inside = new Uint8Array(n).fill(1)
  for (const [k, v] of filter) {
    const col = keyColumn(table, k)
    const id = col.keys.indexOf(v)
    for (let i = 0; i < n; i++) if (col.ids[i] !== id) inside[i] = 0
  }
  const cache = new Map(table.cache)
  cache.delete('source_medium')
  for (const f of by === 'source_medium' ? (['source', 'medium'] as const) : [by]) {
    const col = keyColumn(table, f)
    const out = col.keys.length
    const ids = Int32Array.from(col.ids, (id, i) => (inside[i] === 1 ? id : out))
    cache.set(f, { ids, keys: [...col.keys, OUTSIDE] })
  }
  // A journey without touches belongs to no channel, source or campaign: not to a drill-down.
  const journeys: JourneyOutcome[] = []
  const offsets: number[] = []
  for (let j = 0; j < table.journeys.length; j++) {
    if (table.offsets[j + 1] === table.offsets[j]) continue
    journeys.push(table.journeys[j])
    offsets.push(table.offsets[j])
  }
  offsets.push(n)
  return { journeys, offsets: Int32Array.from(offsets), ts: table.ts, direct: table.direct, cache, lists: table.lists }
}

function outside(key: string): boolean {
  return key.includes(OUTSIDE)
}

function totalsOf(rows: ReadonlyArray<ReportMetrics>): ReportMetrics {
  const sum = (f: 'touches' | 'leads' | 'conversions' | 'revenue' | 'spend'): number => rows.reduce((s, r) => s + r[f], 0)
  const t = { touches: sum('touches'), leads: sum('leads'), conversions: sum('conversions'), revenue: sum('revenue'), spend: sum('spend') }
  return {
    ...t,
    roas: ratio(t.revenue, t.spend),
    cac: ratio(t.spend, t.conversions),
    costPerLead: ratio(t.spend, t.leads),
    avgDealSize: ratio(t.revenue, t.conversions),
    conversionRate: ratio(t.conversions, t.leads),
  }
}

// One load serves every report of the same data: concurrent requests share it, and so do requests
// right after it (a dashboard asks for several reports at once, and the SQLite load is synchronous,
// so the second request is only read once the first load is done). A load is reused only while no
// write has been committed since (Store.dataVersion: this process's writes, and for SQLite other
// processes' too), and for at most REUSE_MS, which bounds what a PostgreSQL collector can miss of
// other collectors' writes.
//
// Each load is counted: one reference while it can be reused, one per report reading it. When the
// last goes, the store gets it back (ReportTableData.release) and may build the next table in its
// arrays. A report holds its reference from before its await to the end of its synchronous use.
const REUSE_MS = 10_000

interface Load {
  jobs: string
  at: number
  data: Promise<ReportTableData>
  /** The data once loaded: released at once then, so the next load can build in its arrays. */
  value?: ReportTableData
  refs: number
}

const loads = new WeakMap<Store, Map<string, Load>>()

function unref(load: Load): void {
  if (--load.refs > 0) return
  if (load.value) load.value.release?.()
  else load.data.then((d) => d.release?.(), () => undefined)
}

/** Removes an entry from the reuse map (and its reference), when it is still the one there. */
function forget(map: Map<string, Load>, key: string, load: Load): void {
  if (map.get(key) !== load) return
  map.delete(key)
  unref(load)
}

function shared(store: Store, siteId: string, opts: ReportLoadOptions): Load {
  let byKey = loads.get(store)
  if (!byKey) loads.set(store, (byKey = new Map()))
  const key = `${siteId}\u0000${opts.touchesFrom}\u0000${opts.touchesTo}\u0000${opts.extra}`
  const jobs = store.dataVersion()
  const now = Date.now()
  const hit = byKey.get(key)
  if (hit && hit.jobs === jobs && now - hit.at < REUSE_MS) return hit
  // Only the newest load of a key is kept; others are dropped when they expire or go stale.
  for (const [k, v] of byKey) if (v.jobs !== jobs || now - v.at >= REUSE_MS) forget(byKey, k, v)
  const map = byKey
  const entry: Load = { jobs, at: now, data: store.loadReportTable(siteId, opts), refs: 1 }
  entry.data.then((d) => (entry.value = d), () => forget(map, key, entry))
  expire(map, key, entry.at)
  map.set(key, entry)
  return entry
}

/**
 * Not kept in memory past its reuse window, requests or not. The timer must not hold the data: a
 * busy collector starts a load per write, and each would stay alive for REUSE_MS. (Its own
 * function, so the closure's scope holds the map, key and time only, never the load.)
 */
function expire(map: Map<string, Load>, key: string, at: number): void {
  setTimeout(() => {
    const entry = map.get(key)
    if (entry && entry.at === at && Date.now() - entry.at >= REUSE_MS) forget(map, key, entry)
  }, REUSE_MS + 1).unref()
}

type Loaded = ReportTableData & { filtered: boolean }

/** Loads (or reuses) the report input and hands it to `use`, which must not keep the table past its return. */
async function withLoad<R>(store: Store, site: Site, q: ReportQuery, w: Window, use: (data: Loaded) => R): Promise<R> {
  const lookbackMs = (q.lookbackDays ?? DEFAULTS.lookbackDays) * DAY
  const filter = filterOf(q)
  const extras = new Set([q.by, ...filter.map(([k]) => k)].filter((k) => k === 'content' || k === 'term' || k === 'landing'))
  if (extras.size > 1) throw clError('VALIDATION', 'at most one of content, term and landing may be used at once')
  const entry = shared(store, site.id, {
    // A path reaches back lookbackDays before its conversion; nothing older can earn credit.
    touchesFrom: w.from === null ? null : w.from - lookbackMs,
    touchesTo: w.to,
    extra: ([...extras][0] as 'content' | 'term' | 'landing' | undefined) ?? null,
  })
  entry.refs++
  try {
    const data = await entry.data
    return use(filter.length === 0 ? { ...data, filtered: false } : { ...data, table: applyFilter(data.table, q.by, filter), filtered: true })
  } finally {
    unref(entry)
  }
}

/** What buildReport and buildModelsComparison share: the query, its window and the loaded data. */
function engineInput(site: Site, q: ReportQuery, w: Window, data: Loaded) {
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
  }
}

export async function attributionReport(store: Store, site: Site, q: ReportQuery & { model: ModelName }): Promise<AttributionReport> {
  const w = window(q)
  return withLoad(store, site, q, w, (data) => {
    const report = buildReport({ model: q.model, ...engineInput(site, q, w, data) })
    if (!data.filtered) return report
    // Spend that matched no touch cannot be placed inside a drill-down: only attributed rows stay.
    const rows = report.rows.filter((r) => !outside(r.key) && (r.touches > 0 || r.leads > 0 || r.conversions > 0))
    return { ...report, rows, totals: totalsOf(rows) }
  })
}

export async function modelsReport(store: Store, site: Site, q: ReportQuery): Promise<ModelsComparison> {
  const w = window(q)
  return withLoad(store, site, q, w, (data) => {
    const report = buildModelsComparison(engineInput(site, q, w, data))
    return data.filtered ? { ...report, rows: report.rows.filter((r) => !outside(r.key) && (r.touches > 0 || Object.values(r.models).some((m) => m.conversions > 0))) } : report
  })
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
export async function seriesReport(store: Store, site: Site, q: ReportQuery & { model: ModelName; period: 'week' | 'month' }, now = Date.now()): Promise<SeriesReport> {
  const w = window(q)
  const to = w.to ?? now
  const from = w.from ?? to - 90 * DAY
  if (Math.ceil((to - from) / (7 * DAY)) > 520) throw clError('VALIDATION', 'a series covers at most 10 years')
  return withLoad(store, site, { ...q, by: 'channel' }, { from, to }, (data) => {
    const table = data.table
    const periods: string[] = []
    const credits: Array<Map<string, number>> = []
    for (let start = periodStart(from, q.period); start <= to; start = nextPeriod(start, q.period)) {
      const engine = new Engine(table, { by: 'channel', from: Math.max(start, from), to: Math.min(nextPeriod(start, q.period) - 1, to), lookbackDays: q.lookbackDays, halfLifeDays: q.halfLifeDays })
      const c = engine.credit(q.model, q.conversion)
      const byKey = new Map<string, number>()
      for (let k = 0; k < c.revenue.length; k++) if (c.revenue[k] !== 0) byKey.set(engine.keys.keys[k], c.revenue[k])
      periods.push(new Date(start).toISOString().slice(0, 10))
      credits.push(byKey)
    }
    const totals = new Map<string, number>()
    for (const m of credits) for (const [k, v] of m) totals.set(k, (totals.get(k) ?? 0) + v)
    const channels = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([channel]) => ({ channel, revenue: credits.map((m) => m.get(channel) ?? 0) }))
    return { model: q.model, period: q.period, conversion: q.conversion, currency: site.currency, periods, channels }
  })
}
