// Every model side by side for the same query: revenue and conversions (won deals by default)
// credited to each channel under each model (`GET /v1/reports/models?by=channel`).

import { api } from '../api.js'
import { h, replace } from '../dom.js'
import { count, money } from '../format.js'
import { dataTable, type Column } from '../table.js'
import type { ModelsComparison, ReportQuery } from '../types.js'
import { CONVERSION_LABELS, MODEL_LABELS } from './filters.js'

type Row = ModelsComparison['rows'][number]

export async function modelsView(el: HTMLElement, q: ReportQuery): Promise<void> {
  const report = await api.models(q, 'channel')
  const label = (m: string) => MODEL_LABELS[m as keyof typeof MODEL_LABELS] ?? m
  const cols = (what: 'revenue' | 'conversions'): Column<Row>[] => [
    { label: 'Channel', value: (r) => r.key },
    ...report.models.map((m): Column<Row> => ({
      label: label(m), numeric: true,
      value: (r) => r.models[m]?.[what] ?? 0,
      format: (r) => what === 'revenue' ? money(r.models[m]?.revenue ?? 0, report.currency) : count(r.models[m]?.conversions ?? 0),
    })),
  ]
  const kind = CONVERSION_LABELS[report.conversion]
  replace(el,
    h('h2', null, 'All models side by side'),
    dataTable({ caption: `${kind.one} revenue by channel under each model`, name: 'models-revenue', columns: cols('revenue'), rows: report.rows }),
    dataTable({ caption: `${kind.many} (fractional credit) by channel under each model`, name: 'models-conversions', columns: cols('conversions'), rows: report.rows }))
}
