// Ad platforms: per destination and stage, what was sent back (sent, pending, failed with the
// platforms' reasons, not sendable and why), and the share of won revenue that could be sent back
// with what is missing: no click ID of the platform, a click outside its window, no consent.

import { api } from '../api.js'
import { h, replace } from '../dom.js'
import { date, money, num, pct } from '../format.js'
import { dataTable } from '../table.js'
import type { DestinationStatus } from '../types.js'

const KIND_LABEL: Record<string, string> = {
  'google-ads': 'Google Ads (API)', 'google-ads-feed': 'Google Ads (feed)', 'microsoft-ads-feed': 'Microsoft Advertising (feed)', meta: 'Meta', linkedin: 'LinkedIn',
}

// What each reason a lead could not be sent means.
const MISSING: Array<{ reason: 'no_click_id' | 'outside_window' | 'no_consent'; label: string }> = [
  { reason: 'no_click_id', label: 'No click ID of this platform' },
  { reason: 'outside_window', label: 'Click outside the platform\'s window' },
  { reason: 'no_consent', label: 'No consent (the tracker never ran for them)' },
]
const REASON_LABEL: Record<string, string> = Object.fromEntries(MISSING.map((m) => [m.reason, m.label]))

function destinationSection(d: DestinationStatus, currency: string): HTMLElement {
  const name = `destination-${d.id}`
  const won = d.won
  return h('section', { class: 'destination', 'data-destination': d.id },
    h('h3', null, `${KIND_LABEL[d.kind] ?? d.kind} · ${d.id}`),
    d.feed === null ? null : h('p', { class: 'note' }, `Feed: ${d.feed} (HTTP Basic, credentials from destinations add)`),
    d.failing ? h('p', { class: 'error', role: 'alert', 'data-field': 'failing' }, `Failing since ${date(d.lastErrorAt)}: ${d.lastError ?? ''}`) : null,
    won === null ? null : h('dl', { class: 'headline', 'aria-label': `Won revenue sent back to ${d.id}` },
      h('div', { class: 'figure' }, h('dt', null, 'Won revenue sendable'), h('dd', { 'data-figure': 'sendableShare', 'data-value': won.sendableShare ?? '' }, pct(won.sendableShare)),
        h('dd', { class: 'note' }, `${money(won.sent + won.pending, currency)} of ${money(won.total, currency)}`)),
      h('div', { class: 'figure' }, h('dt', null, 'Sent'), h('dd', { 'data-figure': 'wonSent', 'data-value': won.sent }, money(won.sent, currency))),
      h('div', { class: 'figure' }, h('dt', null, 'Failed'), h('dd', { 'data-figure': 'wonFailed', 'data-value': won.failed }, money(won.failed, currency)))),
    dataTable({
      caption: 'Conversions by stage', name: `${name}-stages`, rows: d.stages, empty: 'Nothing queued yet.',
      columns: [
        { label: 'Stage', value: (s) => s.stage },
        { label: 'Sent as', value: (s) => s.conversionName },
        { label: 'Sent', numeric: true, value: (s) => s.sent, format: (s) => num(s.sent) },
        { label: 'Pending', numeric: true, value: (s) => s.pending, format: (s) => num(s.pending) },
        { label: 'Failed', numeric: true, value: (s) => s.failed, format: (s) => num(s.failed) },
        { label: 'Not sendable', numeric: true, value: (s) => s.unmatched, format: (s) => num(s.unmatched) },
      ],
    }),
    dataTable({
      caption: 'Reasons (failed, retrying, not sendable)', name: `${name}-reasons`, empty: 'No failures.',
      rows: d.stages.flatMap((s) => s.reasons.map((r) => ({ stage: s.stage, ...r }))),
      columns: [
        { label: 'Stage', value: (r) => r.stage },
        { label: 'Status', value: (r) => (r.status === 'unmatched' ? 'not sendable' : r.status === 'pending' ? 'retrying' : r.status) },
        { label: 'Reason', value: (r) => r.reason, format: (r) => REASON_LABEL[r.reason] ?? r.reason },
        { label: 'Rows', numeric: true, value: (r) => r.rows, format: (r) => num(r.rows) },
      ],
    }),
    won === null ? null : dataTable({
      caption: 'Won revenue that could not be sent back', name: `${name}-missing`, empty: 'Every won lead could be sent.',
      rows: MISSING.map((m) => ({ ...m, revenue: won.missing[m.reason] })).filter((m) => m.revenue > 0),
      columns: [
        { label: 'What is missing', value: (m) => m.label },
        { label: 'Won revenue', numeric: true, value: (m) => m.revenue, format: (m) => money(m.revenue, currency) },
        { label: 'Share', numeric: true, value: (m) => (won.total > 0 ? m.revenue / won.total : null), format: (m) => pct(won.total > 0 ? m.revenue / won.total : null) },
      ],
    }))
}

export async function destinationsView(el: HTMLElement): Promise<void> {
  const r = await api.destinations()
  replace(el,
    h('h2', null, 'Ad platforms'),
    r.destinations.length === 0
      ? h('p', { class: 'empty' }, 'No destinations yet: closeloop destinations add --site NAME --kind google-ads-feed --send won="Closed deal"')
      : null,
    ...r.destinations.map((d) => destinationSection(d, r.currency)))
}
