// Data quality: how much of the paid traffic is tagged well enough to attribute, what is not,
// possible duplicate leads, and events the collector rejected, by code.

import { api } from '../api.js'
import { h, replace } from '../dom.js'
import { num, pct } from '../format.js'
import { dataTable } from '../table.js'
import type { ReportQuery } from '../types.js'

export async function qualityView(el: HTMLElement, q: ReportQuery): Promise<void> {
  const r = await api.quality(q)
  replace(el,
    h('h2', null, 'Data quality'),
    h('dl', { class: 'headline', 'aria-label': 'Data quality figures' },
      h('div', { class: 'figure' }, h('dt', null, 'UTM completeness'), h('dd', { 'data-figure': 'utmCompleteness', 'data-value': r.utmCompleteness }, pct(r.utmCompleteness)),
        h('dd', { class: 'note' }, 'paid touches with source, medium and campaign')),
      h('div', { class: 'figure' }, h('dt', null, 'Paid touches'), h('dd', { 'data-figure': 'paidTouches', 'data-value': r.paidTouches }, num(r.paidTouches))),
      h('div', { class: 'figure' }, h('dt', null, 'Rejected events'), h('dd', { 'data-figure': 'rejected', 'data-value': r.rejected.reduce((s, x) => s + x.count, 0) }, num(r.rejected.reduce((s, x) => s + x.count, 0))))),
    dataTable({
      caption: 'Untagged paid traffic (paid touches missing source, medium or campaign)', name: 'untagged-paid', rows: r.untaggedPaid, empty: 'All paid touches are fully tagged.',
      columns: [
        { label: 'Source', value: (x) => x.source },
        { label: 'Medium', value: (x) => x.medium },
        { label: 'Click ID type', value: (x) => x.clickIdType },
        { label: 'Touches', numeric: true, value: (x) => x.touches, format: (x) => num(x.touches) },
      ],
    }),
    dataTable({
      caption: 'Possible duplicate leads', name: 'duplicate-leads', rows: r.duplicateLeads, empty: 'No duplicate leads found.',
      columns: [
        { label: 'Leads', value: (x) => x.leadIds.join(' ') },
        { label: 'Reason', value: (x) => x.reason },
      ],
    }),
    dataTable({
      caption: 'Rejected events by code', name: 'rejected-events', rows: r.rejected, empty: 'No rejected events.',
      columns: [
        { label: 'Code', value: (x) => x.code },
        { label: 'Events', numeric: true, value: (x) => x.count, format: (x) => num(x.count) },
      ],
    }))
}
