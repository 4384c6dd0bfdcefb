// A lead's journey: every touch of every visitor the lead used, then its deals. Everything here
// is tracked, attacker-controlled text; it reaches the DOM only as text nodes.

import { ApiError, api } from '../api.js'
import { h, replace } from '../dom.js'
import { date, money } from '../format.js'
import { dataTable } from '../table.js'
import type { LeadView, StoredTouch } from '../types.js'

/** Resolves once the lead of the URL (if any) is shown, so the view counts as rendered only then. */
export async function journeyView(el: HTMLElement, currency: string, initialId = ''): Promise<void> {
  const input = h('input', { id: 'lead-id', name: 'lead', type: 'search', value: initialId, required: true, autocomplete: 'off', spellcheck: 'false' })
  const out = h('div', { class: 'journey' })
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find a lead' },
    h('div', null, h('label', { for: 'lead-id' }, 'Lead ID'), input),
    h('button', { type: 'submit' }, 'Show journey'))
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    void show(out, input.value.trim(), currency)
  })
  replace(el, h('h2', null, 'Lead journey'), form, out)
  if (initialId) await show(out, initialId, currency)
}

async function show(out: HTMLElement, id: string, currency: string): Promise<void> {
  if (!id) return
  replace(out, h('p', { class: 'status', role: 'status' }, 'Loading…'))
  let view: LeadView
  try {
    view = await api.lead(id)
  } catch (err) {
    replace(out, h('p', { class: 'error', role: 'alert' }, err instanceof ApiError && err.status === 404 ? 'No lead with that ID.' : `Could not load the lead: ${(err as Error).message}`))
    return
  }
  const traits = Object.entries(view.lead.traits ?? {})
  replace(out,
    h('dl', { class: 'lead' },
      h('dt', null, 'Lead'), h('dd', { 'data-field': 'lead-id' }, view.lead.id),
      h('dt', null, 'Identified'), h('dd', null, date(view.lead.identifiedAt ?? view.lead.createdAt)),
      h('dt', null, 'Visitors'), h('dd', null, view.visitorIds.join(', ')),
      traits.flatMap(([k, v]) => [h('dt', null, `Trait: ${k}`), h('dd', { 'data-trait': k }, typeof v === 'string' ? v : JSON.stringify(v))])),
    dataTable<StoredTouch>({
      caption: 'Touches, oldest first', name: `lead-${view.lead.id}-touches`, rows: view.touches,
      columns: [
        { label: 'Time', value: (t) => new Date(t.ts).toISOString(), format: (t) => date(t.ts) },
        { label: 'Channel', value: (t) => t.channel },
        { label: 'Source', value: (t) => t.source },
        { label: 'Medium', value: (t) => t.medium },
        { label: 'Campaign', value: (t) => t.campaign },
        { label: 'Term', value: (t) => t.term },
        { label: 'Content', value: (t) => t.content },
        { label: 'Click ID type', value: (t) => t.click_id_type },
        { label: 'Referrer', value: (t) => t.referrer },
        { label: 'Landing page', value: (t) => t.landing },
        { label: 'Visitor', value: (t) => t.visitorId },
      ],
    }),
    dataTable({
      caption: 'Deals', name: `lead-${view.lead.id}-deals`, rows: view.deals ?? [], empty: 'No deals.',
      columns: [
        { label: 'Deal', value: (d) => d.dealId },
        { label: 'Stage', value: (d) => d.stage },
        { label: 'Amount', numeric: true, value: (d) => d.amount, format: (d) => money(d.amount, currency) },
        { label: 'Stage history', value: (d) => (d.history ?? []).map((s) => `${s.stage} ${date(s.ts)}`).join('; ') },
      ],
    }))
}
