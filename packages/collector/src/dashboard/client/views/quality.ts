// Data quality: how much of the paid traffic is tagged well enough to attribute, what is not,
// possible duplicate leads, events the collector did not store (by reason; rejected ones by code),
// and each CRM connection's last event, last sync, errors and write-backs.

import { api } from '../api.js'
import { h, replace } from '../dom.js'
import { date, num, pct } from '../format.js'
import { dataTable } from '../table.js'
import type { ReportQuery } from '../types.js'

// What each reason means and what to do about it.
const DROP_REASONS: Array<{ reason: 'bot' | 'origin' | 'suppressed' | 'invalid'; label: string; hint: string }> = [
  { reason: 'bot', label: 'Bot user agent', hint: 'headless browsers too; to test with one: closeloop sites update --name N --keep-bots' },
  { reason: 'origin', label: 'Origin not allowed', hint: 'the page\'s origin is not in the site\'s list: closeloop sites update --origin' },
  { reason: 'suppressed', label: 'Erased person', hint: 'dropped by design' },
  { reason: 'invalid', label: 'Invalid', hint: 'by code in the table below' },
]

export async function qualityView(el: HTMLElement, q: ReportQuery): Promise<void> {
  const [r, crm] = await Promise.all([api.quality(q), api.crmConnections()])
  const notStored = DROP_REASONS.reduce((s, d) => s + r.dropped[d.reason], 0)
  replace(el,
    h('h2', null, 'Data quality'),
    h('dl', { class: 'headline', 'aria-label': 'Data quality figures' },
      h('div', { class: 'figure' }, h('dt', null, 'UTM completeness'), h('dd', { 'data-figure': 'utmCompleteness', 'data-value': r.utmCompleteness }, pct(r.utmCompleteness)),
        h('dd', { class: 'note' }, 'paid touches with source, medium and campaign')),
      h('div', { class: 'figure' }, h('dt', null, 'Paid touches'), h('dd', { 'data-figure': 'paidTouches', 'data-value': r.paidTouches }, num(r.paidTouches))),
      h('div', { class: 'figure' }, h('dt', null, 'Rejected events'), h('dd', { 'data-figure': 'rejected', 'data-value': r.rejected.reduce((s, x) => s + x.count, 0) }, num(r.rejected.reduce((s, x) => s + x.count, 0)))),
      h('div', { class: 'figure' }, h('dt', null, 'Events not stored'), h('dd', { 'data-figure': 'notStored', 'data-value': notStored }, num(notStored)),
        h('dd', { class: 'note' }, 'bots, other origins, erased people, invalid'))),
    dataTable({
      caption: 'Events not stored, by reason (unknown site keys have no site: see /metrics)', name: 'dropped-events',
      rows: DROP_REASONS.map((d) => ({ ...d, count: r.dropped[d.reason] })).filter((d) => d.count > 0), empty: 'Every event received was stored.',
      columns: [
        { label: 'Reason', value: (x) => x.label },
        { label: 'Events', numeric: true, value: (x) => x.count, format: (x) => num(x.count) },
        { label: 'What to do', value: (x) => x.hint },
      ],
    }),
    dataTable({
      caption: 'CRM connections: deals coming in, attribution written back (closeloop crm list shows the same)', name: 'crm-connections',
      rows: crm.connections, empty: 'No CRM connected: closeloop crm add (see docs/crm/).',
      columns: [
        { label: 'CRM', value: (x) => x.kind },
        { label: 'Connection', value: (x) => x.id },
        { label: 'Last event', value: (x) => x.lastEventAt ?? 0, format: (x) => (x.lastEventAt === null ? 'never' : date(x.lastEventAt)) },
        { label: 'Last sync', value: (x) => x.lastSyncAt ?? 0, format: (x) => (x.lastSyncAt === null ? 'never' : date(x.lastSyncAt)) },
        { label: 'Errors', numeric: true, value: (x) => x.errors, format: (x) => num(x.errors) },
        { label: 'Last error', value: (x) => (x.lastError === null ? '' : `${date(x.lastErrorAt)}: ${x.lastError}`) },
        // Attribution written back into the CRM's fields (only with write-back on).
        { label: 'Written back', numeric: true, value: (x) => x.writeBacks.sent, format: (x) => num(x.writeBacks.sent) },
        { label: 'Pending', numeric: true, value: (x) => x.writeBacks.pending, format: (x) => num(x.writeBacks.pending) },
        { label: 'Failed', numeric: true, value: (x) => x.writeBacks.failed, format: (x) => num(x.writeBacks.failed) },
        { label: 'Last write-back error', value: (x) => (x.writeBacks.lastError === null ? '' : `${date(x.writeBacks.lastErrorAt)}: ${x.writeBacks.lastError}`) },
      ],
    }),
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
