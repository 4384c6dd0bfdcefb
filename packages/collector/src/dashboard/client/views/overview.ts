// Headline figures and the channel table. Revenue, ROAS, CAC and deal size come from the report of
// the chosen conversion (won by default); pipeline from the `opportunity` report of the same query,
// so both are the API's own numbers. Drill-down: channel → source / medium → campaign. Below the
// headline, the B2B revenue KPIs of the won report (`kpis`), each with its definition a click away.

import { api } from '../api.js'
import { h, replace } from '../dom.js'
import { cacOf, count, money, num, pct, ratio } from '../format.js'
import { dataTable, type Column } from '../table.js'
import type { AttributionReport, AttributionResponse, ConversionKind, Kpis, ReportQuery, ReportRow } from '../types.js'
import { CONVERSION_LABELS } from './filters.js'
import { change, previousPeriod } from '../period.js'

export interface MergedRow {
  key: string
  /** Filters that select this row's children. */
  filter: Record<string, string>
  won: ReportRow | null
  opp: ReportRow | null
}

export function mergeRows(won: ReportRow[], opp: ReportRow[], filter: Record<string, string>, by: string): MergedRow[] {
  const byKey = new Map<string, MergedRow>()
  const get = (key: string) => {
    let r = byKey.get(key)
    if (!r) byKey.set(key, (r = { key, filter: { ...filter, [by]: key }, won: null, opp: null }))
    return r
  }
  for (const r of won) get(r.key).won = r
  for (const r of opp) get(r.key).opp = r
  // Won report order first (revenue, then conversions), then pipeline-only keys by pipeline.
  return [...byKey.values()].sort((a, b) =>
    (b.won?.revenue ?? 0) - (a.won?.revenue ?? 0) || (b.won?.conversions ?? 0) - (a.won?.conversions ?? 0) ||
    (b.opp?.revenue ?? 0) - (a.opp?.revenue ?? 0) || (a.key < b.key ? -1 : 1))
}

export async function loadLevel(q: ReportQuery, by: string, filter: Record<string, string>) {
  const [won, opp] = await Promise.all([
    api.report(q, by, filter),
    api.report({ ...q, conversion: 'opportunity' }, by, filter),
  ])
  return { won, opp, rows: mergeRows(won.rows, opp.rows, filter, by) }
}

/** What coverage means, next to its figure: a low value is a tracking gap, not a reporting bug. */
export const COVERAGE_EXPLAINED = {
  short: 'share of conversions with a non-direct tracked touch; the rest are in Direct (direct visits only) or (unattributed) (no tracked visit)',
  long: 'Coverage: the share of conversions with at least one non-direct tracked touch in the lookback window. ' +
    'It is below 100% when leads came in only by direct visits (credited to Direct) or without any tracked visit ' +
    '(offline, typed into the CRM, tracker blocked, or first touch older than the lookback: reported as (unattributed)).',
}

interface Figures { won: AttributionReport; opp: AttributionReport }

/** The KPI tiles, with what each figure means (as docs/attribution.md defines them). */
export const KPI_TILES: Array<{ id: keyof Pick<Kpis, 'marketingSourcedRevenue' | 'marketingInfluencedRevenue'>; label: string; definition: string }> = [
  {
    id: 'marketingSourcedRevenue', label: 'Marketing-sourced revenue',
    definition: 'Won revenue in the range from deals whose path (within the lookback) has a tracked non-direct touch (an ad, a search, ' +
      'an e-mail, a referral…) at or before the lead was created: marketing brought the lead in.',
  },
  {
    id: 'marketingInfluencedRevenue', label: 'Marketing-influenced revenue',
    definition: 'Won revenue in the range from deals where anyone at the account (the deal\'s own people when there is no account) ' +
      'had a tracked non-direct touch before the deal closed: marketing touched the deal, whoever brought the lead in.',
  },
]

function kpiTiles(report: AttributionResponse): HTMLElement {
  return h('dl', { class: 'headline kpis', 'aria-label': 'Marketing revenue' }, KPI_TILES.map((t) => {
    const value = report.kpis[t.id]
    return h('div', { class: 'figure' },
      h('dt', null, t.label),
      h('dd', { 'data-figure': t.id, 'data-value': String(value) }, money(value, report.currency)),
      h('dd', { class: 'note' }, h('details', null,
        h('summary', null, 'What is this?'),
        h('p', { 'data-definition': t.id }, t.definition))))
  }))
}

function headline({ won, opp }: Figures, prev: Figures, days: number): HTMLElement {
  const c = won.currency
  const kind = CONVERSION_LABELS[won.conversion]
  const figure = (id: string, label: string, value: number | null, before: number | null, text: string, note?: string, explain?: typeof COVERAGE_EXPLAINED) =>
    h('div', { class: 'figure', title: explain?.long },
      h('dt', null, label),
      h('dd', { 'data-figure': id, 'data-value': value === null ? '' : String(value) }, text),
      h('dd', { class: 'note change', 'data-change': id, 'data-previous': before === null ? '' : String(before) }, change(value, before, days, id === 'coverage')),
      note ? h('dd', { class: 'note' }, note) : null,
      explain ? h('dd', { class: 'note', 'data-explain': id }, explain.short) : null)
  const t = won.totals
  const p = prev.won.totals
  const cac = cacOf(t.cac, t.spend)
  return h('dl', { class: 'headline', 'aria-label': 'Headline figures' },
    figure('spend', 'Spend', t.spend, p.spend, money(t.spend, c)),
    figure('pipeline', 'Pipeline', opp.totals.revenue, prev.opp.totals.revenue, money(opp.totals.revenue, c), `${count(opp.totals.conversions)} opportunities`),
    figure('revenue', `${kind.one} revenue`, t.revenue, p.revenue, money(t.revenue, c), `${count(t.conversions)} ${kind.many.toLowerCase()}`),
    figure('roas', 'ROAS', t.roas, p.roas, ratio(t.roas)),
    figure('cac', 'CAC', cac, cacOf(p.cac, p.spend), money(cac, c)),
    figure('avgDealSize', 'Average deal size', t.avgDealSize, p.avgDealSize, money(t.avgDealSize, c)),
    figure('coverage', 'Coverage', won.coverage.conversions, prev.won.coverage.conversions, pct(won.coverage.conversions), `${pct(won.coverage.revenue)} of revenue`, COVERAGE_EXPLAINED))
}

export function channelColumns(currency: string, keyLabel: string, conversion: ConversionKind = 'won'): Column<MergedRow>[] {
  const kind = CONVERSION_LABELS[conversion]
  const v = (f: (r: MergedRow) => number | null) => f
  const figure = (r: MergedRow) => r.won ?? r.opp
  const cols: Array<[string, (r: MergedRow) => number | null, (n: number | null) => string]> = [
    ['Touches', v((r) => figure(r)?.touches ?? 0), (n) => num(n)],
    ['Leads', v((r) => figure(r)?.leads ?? 0), count],
    ['Opportunities', v((r) => r.opp?.conversions ?? 0), count],
    ['Pipeline', v((r) => r.opp?.revenue ?? 0), (n) => money(n, currency)],
    [kind.many, v((r) => r.won?.conversions ?? 0), count],
    [`${kind.one} revenue`, v((r) => r.won?.revenue ?? 0), (n) => money(n, currency)],
    ['Spend', v((r) => figure(r)?.spend ?? 0), (n) => money(n, currency)],
    ['ROAS', v((r) => r.won?.roas ?? null), ratio],
    ['CAC', v((r) => cacOf(r.won?.cac ?? null, figure(r)?.spend)), (n) => money(n, currency)],
    ['Avg deal size', v((r) => r.won?.avgDealSize ?? null), (n) => money(n, currency)],
  ]
  return [
    { label: keyLabel, value: (r) => r.key },
    ...cols.map(([label, value, f]): Column<MergedRow> => ({ label, value, format: (r) => f(value(r)), numeric: true })),
  ]
}

const DRILL = ['source_medium', 'campaign'] as const

export async function overviewView(el: HTMLElement, q: ReportQuery): Promise<void> {
  const previous = previousPeriod(q)
  // The previous period's totals, for the change shown under each headline figure.
  const [top, prevWon, prevOpp] = await Promise.all([
    loadLevel(q, 'channel', {}),
    api.report(previous.query, 'channel'),
    api.report({ ...previous.query, conversion: 'opportunity' }, 'channel'),
  ])
  const table = dataTable<MergedRow>({
    caption: 'Revenue by channel',
    name: 'channels',
    columns: channelColumns(top.won.currency, 'Channel / source / medium / campaign', q.conversion),
    rows: top.rows,
    expand: (row, depth) => {
      const by = DRILL[depth]
      if (!by) return null
      return async () => (await loadLevel(q, by, row.filter)).rows
    },
  })
  replace(el,
    h('h2', { class: 'visually-hidden' }, 'Overview'),
    headline(top, { won: prevWon, opp: prevOpp }, previous.days),
    kpiTiles(top.won),
    table)
}
