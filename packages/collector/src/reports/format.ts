// Reports as text for the CLI: an aligned table for people, CSV for spreadsheets, JSON for tools.

import type { Kpis } from '../attribution/kpis.js'
import type { AttributionReport, JourneyMode, ModelsComparison } from '../attribution/types.js'
import { formatCsv } from '../outcomes/csv.js'

/** What the report queries add to the engine's report: the journey mode and the KPIs. */
export interface ReportExtras {
  journey?: JourneyMode
  kpis?: Kpis
}

export type ReportFormat = 'table' | 'csv' | 'json'

const COLUMNS = ['touches', 'leads', 'conversions', 'revenue', 'spend', 'roas', 'cac', 'costPerLead', 'avgDealSize', 'conversionRate'] as const
/** The per-model columns of `--model all` (touches and spend are the row's). */
const MODEL_COLUMNS = ['leads', 'conversions', 'revenue', 'roas', 'cac', 'costPerLead', 'avgDealSize', 'conversionRate'] as const

function fixed(v: number | null, digits: number): string {
  return v === null ? '-' : v.toFixed(digits)
}

/** Control characters of tracked text would rewrite the terminal; show them escaped. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).slice(0, 80)
}

function align(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  return rows.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ').trimEnd()).join('\n') + '\n'
}

/** The LTV:CAC of a row, or null (no spend, or no KPIs). */
function ltvToCac(kpis: Kpis | undefined, key: string): number | null {
  return kpis?.ltvToCac[key] ?? null
}

/** The lines under a table: whose journeys, marketing-sourced and -influenced revenue, the LTV window. */
function kpiBlock(r: ReportExtras, currency: string): string[] {
  if (!r.kpis) return []
  const k = r.kpis
  return [
    `journeys: ${r.journey ?? 'deal'}; won revenue marketing-sourced ${fixed(k.marketingSourcedRevenue, 2)} ${currency}, marketing-influenced ${fixed(k.marketingInfluencedRevenue, 2)} ${currency}`,
    `ltv:cac = won accounts' lifetime value (${k.ltvMonths} months) credited to the row / its spend`,
    '',
  ]
}

export function formatReport(r: AttributionReport & ReportExtras, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n'
  const kpis = r.kpis
  if (format === 'csv') {
    // The row KPI is a column; the report-wide ones are in the table and JSON formats.
    const ltv = kpis ? ['ltvToCac'] : []
    return formatCsv([
      [r.by, ...COLUMNS, ...ltv],
      ...r.rows.map((row) => [row.key, ...COLUMNS.map((c) => row[c]), ...(kpis ? [ltvToCac(kpis, row.key)] : [])]),
      ['(total)', ...COLUMNS.map((c) => r.totals[c]), ...(kpis ? [null] : [])],
    ])
  }
  // With no spend matched CAC is shown as unknown, as the dashboard does, not as a free 0.00.
  const head = [r.by, 'touches', 'leads', 'conv', `revenue ${r.currency}`, `spend ${r.currency}`, 'roas', 'cac', ...(kpis ? ['ltv:cac'] : [])]
  const line = (key: string, m: AttributionReport['totals'], total = false): string[] => [
    printable(key), String(m.touches), fixed(m.leads, 1), fixed(m.conversions, 2), fixed(m.revenue, 2), fixed(m.spend, 2), fixed(m.roas, 2), fixed(m.spend ? m.cac : null, 2),
    ...(kpis ? [fixed(total ? null : ltvToCac(kpis, key), 2)] : []),
  ]
  const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)
  const window = `${r.from ?? '…'} → ${r.to ?? '…'}`
  return [
    `${r.model} attribution of ${r.conversion} by ${r.by}, ${window}, lookback ${r.lookbackDays} days`,
    '',
    align([head, ...r.rows.map((row) => line(row.key, row)), line('(total)', r.totals, true)]),
    `coverage: ${pct(r.coverage.conversions)} of conversions, ${pct(r.coverage.revenue)} of revenue have a non-direct touch; UTM completeness of paid touches: ${pct(r.utmCompleteness)}`,
    ...kpiBlock(r, r.currency),
    '',
  ].join('\n')
}

export function formatModels(r: ModelsComparison & ReportExtras, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n'
  const kpis = r.kpis
  if (format === 'csv') {
    // ltvToCac of the models comparison is linear's credit.
    const head = [r.by, 'touches', 'spend', ...r.models.flatMap((m) => MODEL_COLUMNS.map((c) => `${m}_${c}`)), ...(kpis ? ['linear_ltvToCac'] : [])]
    return formatCsv([head, ...r.rows.map((row) => [
      row.key, row.touches, row.spend, ...r.models.flatMap((m) => MODEL_COLUMNS.map((c) => row.models[m][c])), ...(kpis ? [ltvToCac(kpis, row.key)] : []),
    ])])
  }
  const head = [r.by, ...r.models.map((m) => `${m} ${r.currency}`), ...(kpis ? ['ltv:cac (linear)'] : [])]
  return [
    `revenue of ${r.conversion} by ${r.by} under every model`,
    '',
    align([head, ...r.rows.map((row) => [printable(row.key), ...r.models.map((m) => fixed(row.models[m].revenue, 0)), ...(kpis ? [fixed(ltvToCac(kpis, row.key), 2)] : [])])]),
    ...kpiBlock(r, r.currency),
  ].join('\n')
}
