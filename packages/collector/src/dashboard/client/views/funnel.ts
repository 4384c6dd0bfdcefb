// The lead funnel (`GET /v1/reports/funnel`): leads identified in the date range, by their original
// channel or campaign, counted at each stage they reached, with stage-to-stage conversion rates and
// median days between stages (a second table). `by` lives in the hash (`#funnel/campaign`).

import { api } from '../api.js'
import { h, replace } from '../dom.js'
import { count, num, pct } from '../format.js'
import { dataTable, type Column } from '../table.js'
import type { FunnelDimension, FunnelReport, FunnelRow, FunnelStage, ReportQuery } from '../types.js'

export const FUNNEL_BY: Array<[FunnelDimension, string]> = [
  ['channel', 'Channel'], ['campaign', 'Campaign'], ['source_medium', 'Source / medium'], ['source', 'Source'], ['medium', 'Medium'],
]

export const STAGE_LABELS: Record<FunnelStage, string> = { lead: 'Leads', mql: 'MQL', sql: 'SQL', opportunity: 'Opportunities', won: 'Won' }

export function byOf(id: string): FunnelDimension {
  return FUNNEL_BY.some(([b]) => b === id) ? id as FunnelDimension : 'channel'
}

/** Days with one decimal; "—" when no lead reached both stages. */
export const days = (d: number | null): string => (d === null ? '—' : `${num(d, 1)} d`)

const STEP: Record<FunnelStage, string> = { lead: 'Lead', mql: 'MQL', sql: 'SQL', opportunity: 'Opp.', won: 'Won' }
const stepLabel = (report: FunnelReport, i: number) => `${STEP[report.stages[i]]} → ${STEP[report.stages[i + 1]]}`

/** Counts at each stage, then the conversion rate of each step, in the API's order. */
export function funnelColumns(report: FunnelReport, keyLabel: string): Column<FunnelRow>[] {
  const cols: Column<FunnelRow>[] = [{ label: keyLabel, value: (r) => r.key }]
  for (const s of report.stages) cols.push({ label: STAGE_LABELS[s], value: (r) => r.counts[s], format: (r) => count(r.counts[s]), numeric: true })
  report.stages.slice(1).forEach((_, i) => {
    cols.push({ label: stepLabel(report, i), value: (r) => r.steps[i].rate, format: (r) => pct(r.steps[i].rate), numeric: true })
  })
  return cols
}

/** Median days of each step. */
export function velocityColumns(report: FunnelReport, keyLabel: string): Column<FunnelRow>[] {
  return [
    { label: keyLabel, value: (r) => r.key },
    ...report.stages.slice(1).map((_, i): Column<FunnelRow> => ({ label: stepLabel(report, i), value: (r) => r.steps[i].medianDays, format: (r) => days(r.steps[i].medianDays), numeric: true })),
  ]
}

export async function funnelView(el: HTMLElement, q: ReportQuery, by: FunnelDimension, onBy: (by: FunnelDimension) => void): Promise<void> {
  const report = await api.funnel(q, by)
  const label = FUNNEL_BY.find(([b]) => b === by)?.[1] ?? by
  const select = h('select', { id: 'funnel-by', name: 'by' }, FUNNEL_BY.map(([b, l]) => h('option', { value: b, selected: b === by }, l)))
  select.addEventListener('change', () => onBy(select.value as FunnelDimension))
  const t = report.total
  const headline = h('dl', { class: 'headline', 'aria-label': 'Funnel totals' }, report.stages.map((s, i) =>
    h('div', { class: 'figure' },
      h('dt', null, STAGE_LABELS[s]),
      h('dd', { 'data-figure': `funnel-${s}`, 'data-value': String(t.counts[s]) }, count(t.counts[s])),
      i === 0 ? null : h('dd', { class: 'note' }, `${pct(t.steps[i - 1].rate)} of ${STAGE_LABELS[report.stages[i - 1]]}, median ${days(t.steps[i - 1].medianDays)}`))))
  replace(el,
    h('h2', null, 'Lead funnel'),
    h('p', { class: 'note' }, 'Leads identified in the date range, by the first non-direct touch at or before their identify (their original source). ' +
      'A lead counts at a stage when one of its deals reached it or a later one; rates are of the stage before, days are medians over the leads that reached both.'),
    h('div', { class: 'filters' }, h('div', null, h('label', { for: 'funnel-by' }, 'Group by'), select)),
    headline,
    dataTable<FunnelRow>({ caption: `Leads at each stage and conversion from the stage before, by ${label.toLowerCase()}`, name: 'funnel', columns: funnelColumns(report, label), rows: [...report.rows, report.total] }),
    dataTable<FunnelRow>({ caption: `Median days between stages, by ${label.toLowerCase()}`, name: 'funnel-days', columns: velocityColumns(report, label), rows: [...report.rows, report.total] }))
}
