// Revenue over time by channel: a uPlot line chart plus the same numbers as a table (the
// accessible and exportable form of the chart).

import type uPlot from 'uplot'
import { api } from '../api.js'
import { h, replace } from '../dom.js'
import { money } from '../format.js'
import { dataTable, type Column } from '../table.js'
import type { ReportQuery, SeriesReport } from '../types.js'
import { CONVERSION_LABELS } from './filters.js'

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f', '#854d0e', '#475569']

let chart: uPlot | null = null

export async function chartView(el: HTMLElement, q: ReportQuery, period: 'week' | 'month', onPeriod: (p: 'week' | 'month') => void): Promise<void> {
  const data = await api.series(q, period)
  const select = h('select', { id: 'f-period', name: 'period' },
    h('option', { value: 'week', selected: period === 'week' }, 'Week'),
    h('option', { value: 'month', selected: period === 'month' }, 'Month'))
  select.addEventListener('change', () => onPeriod(select.value as 'week' | 'month'))
  const plot = h('div', { class: 'chart', role: 'img', 'aria-label': `${CONVERSION_LABELS[q.conversion].one} revenue by channel per ${period}; the table below has the same figures` })
  replace(el,
    h('h2', null, 'Revenue over time by channel'),
    h('div', { class: 'filters' }, h('div', null, h('label', { for: 'f-period' }, 'Period'), select)),
    plot,
    seriesTable(data))
  chart?.destroy()
  chart = null
  if (data.periods.length === 0) return
  // Loaded on first use: uPlot is most of the client's bytes and only this view needs it.
  const { default: UPlot } = await import('uplot')
  const xs = data.periods.map((p) => Date.parse(`${p}T00:00:00Z`) / 1000)
  chart = new UPlot({
    width: Math.max(320, Math.min(1100, el.clientWidth || 900)),
    height: 320,
    scales: { x: { time: true } },
    series: [
      {},
      ...data.channels.map((c, i) => ({ label: c.channel, stroke: PALETTE[i % PALETTE.length], width: 2, value: (_u: uPlot, v: number | null) => money(v, data.currency) })),
    ],
    axes: [{}, { size: 80, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => money(t, data.currency)) }],
  }, [xs, ...data.channels.map((c) => c.revenue)], plot)
}

function seriesTable(data: SeriesReport): HTMLElement {
  const columns: Column<{ period: string; values: number[] }>[] = [
    { label: data.period === 'week' ? 'Week of' : 'Month', value: (r) => r.period },
    ...data.channels.map((c, i): Column<{ period: string; values: number[] }> => ({
      label: c.channel, numeric: true, value: (r) => r.values[i], format: (r) => money(r.values[i], data.currency),
    })),
  ]
  return dataTable({
    caption: `${CONVERSION_LABELS[data.conversion].one} revenue by channel per ${data.period}`,
    name: `revenue-by-${data.period}`,
    columns,
    rows: data.periods.map((period, j) => ({ period, values: data.channels.map((c) => c.revenue[j] ?? 0) })),
  })
}
