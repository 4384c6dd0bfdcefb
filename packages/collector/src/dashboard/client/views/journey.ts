// A lead's journey: every touch of every visitor the lead used, then its deals. Without a chosen
// lead: the newest leads, and a search by e-mail or ID. The chosen lead lives in the URL hash (its
// ID only, never the e-mail). Everything here is tracked, attacker-controlled text (e-mails too);
// it reaches the DOM only as text nodes.

import { ApiError, api } from '../api.js'
import { h, replace } from '../dom.js'
import { hashTo } from '../hash.js'
import { date, money, num } from '../format.js'
import { dataTable } from '../table.js'
import { LEAD_COLUMNS, phase, type LeadSummary } from './lead-columns.js'
import type { LeadList, LeadView, StoredTouch } from '../types.js'
import { accountLabel } from './account.js'

/** How many of the newest leads the list shows. */
export const RECENT_LEADS = 20


const journeyHash = (id: string): string => hashTo('journey', id)

/** Resolves once the lead of the URL, or the recent list, is shown, so the view counts as rendered only then. */
export async function journeyView(el: HTMLElement, currency: string, initialId = ''): Promise<void> {
  const message = h('p', { class: 'status', role: 'status', 'data-field': 'search-status' })
  const out = h('div', { class: 'journey' })
  replace(el, h('h2', null, 'Lead journey'), searchForms(message), message, out)
  if (initialId) await show(out, initialId, currency)
  else await recent(out)
}

function searchForms(message: HTMLElement): HTMLElement[] {
  // Plain text, not type=email: the collector accepts addresses the browser's check refuses
  // (non-ASCII local parts), and it answers CL_ERR_BAD_EMAIL itself.
  const email = h('input', { id: 'lead-email', name: 'email', type: 'text', inputmode: 'email', required: true, autocomplete: 'off', spellcheck: 'false' })
  const byEmail = h('form', { class: 'filters', role: 'search', 'aria-label': 'Search by e-mail' },
    h('div', null, h('label', { for: 'lead-email' }, 'Find a lead by e-mail'), email),
    h('button', { type: 'submit' }, 'Find'))
  byEmail.addEventListener('submit', (ev) => {
    ev.preventDefault()
    void findByEmail(email.value.trim(), message)
  })
  const id = h('input', { id: 'lead-id', name: 'lead', type: 'search', required: true, autocomplete: 'off', spellcheck: 'false' })
  const byId = h('form', { class: 'filters', role: 'search', 'aria-label': 'Search by lead ID' },
    h('div', null, h('label', { for: 'lead-id' }, 'Lead ID'), id),
    h('button', { type: 'submit' }, 'Show journey'))
  byId.addEventListener('submit', (ev) => {
    ev.preventDefault()
    if (id.value.trim()) location.hash = journeyHash(id.value.trim())
  })
  return [h('div', { class: 'lead-search' }, byEmail, byId)]
}

async function findByEmail(email: string, message: HTMLElement): Promise<void> {
  if (!email) return
  replace(message, 'Searching…')
  message.classList.remove('error')
  let found: LeadList
  try {
    found = await api.leadByEmail(email)
  } catch (err) {
    message.classList.add('error')
    replace(message, err instanceof ApiError && err.code === 'CL_ERR_BAD_EMAIL' ? 'That is not an e-mail address.' : `Could not search: ${(err as Error).message}`)
    return
  }
  const lead = found.leads[0]
  if (!lead) return replace(message, 'No lead with this e-mail.')
  replace(message)
  // Only the ID goes into the URL; main.ts renders the journey on the hash change.
  location.hash = journeyHash(lead.id)
}

async function recent(out: HTMLElement): Promise<void> {
  replace(out, h('p', { class: 'status', role: 'status' }, 'Loading the newest leads…'))
  const { leads } = await api.recentLeads(RECENT_LEADS)
  replace(out, dataTable<LeadSummary>({
    caption: 'Recent leads, newest first', name: 'recent-leads', rows: leads, empty: 'No leads yet.',
    columns: LEAD_COLUMNS,
  }))
}

async function show(out: HTMLElement, id: string, currency: string): Promise<void> {
  replace(out, h('p', { class: 'status', role: 'status' }, 'Loading…'))
  const back = h('p', null, h('a', { href: journeyHash(''), 'data-link': 'recent-leads' }, '← Recent leads'))
  let view: LeadView
  try {
    view = await api.lead(id)
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err
    replace(out, back, h('p', { class: 'error', role: 'alert' }, err instanceof ApiError && err.status === 404 ? 'No lead with that ID.' : `Could not load the lead: ${(err as Error).message}`))
    return
  }
  const { lead } = view
  const account = lead.accountId ? await accountLink(lead.accountId) : null
  const traits = Object.entries(lead.traits ?? {})
  const identified = lead.identifiedAt ?? lead.createdAt
  replace(out,
    back,
    h('h3', { class: 'lead-title', 'data-field': 'lead-email' }, lead.email ?? 'Lead without an e-mail'),
    account,
    h('dl', { class: 'lead' },
      h('dt', null, 'Lead ID'), h('dd', { 'data-field': 'lead-id' }, lead.id),
      lead.phone ? [h('dt', null, 'Phone'), h('dd', null, lead.phone)] : null,
      lead.externalId ? [h('dt', null, 'External ID'), h('dd', null, lead.externalId)] : null,
      h('dt', null, 'Identified'), h('dd', null, date(identified)),
      h('dt', null, 'Visitors'), h('dd', null, view.visitorIds.join(', ')),
      traits.flatMap(([k, v]) => [h('dt', null, `Trait: ${k}`), h('dd', { 'data-trait': k }, typeof v === 'string' ? v : JSON.stringify(v))])),
    dataTable<StoredTouch>({
      caption: 'Touches, oldest first', name: `lead-${lead.id}-touches`, rows: view.touches,
      columns: [
        { label: 'Time', value: (t) => new Date(t.ts).toISOString(), format: (t) => date(t.ts) },
        { label: 'Phase', value: (t) => phase(t.ts, lead.identifiedAt) },
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
      caption: 'Deals', name: `lead-${lead.id}-deals`, rows: view.deals ?? [], empty: 'No deals.',
      columns: [
        { label: 'Deal', value: (d) => d.dealId },
        { label: 'Stage', value: (d) => d.stage },
        { label: 'Amount', numeric: true, value: (d) => d.amount, format: (d) => money(d.amount, currency) },
        { label: 'Stage history', value: (d) => (d.history ?? []).map((s) => `${s.stage} ${date(s.ts)}`).join('; ') },
      ],
    }))
}

/**
 * "Account: <name>" linking to the lead's account. The lead carries only the account's ID, so its
 * name is asked for; if that fails the link still leads there, named by the ID.
 */
async function accountLink(accountId: string): Promise<HTMLElement> {
  let label = accountId
  try {
    label = accountLabel((await api.account(accountId)).account)
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err
  }
  return h('p', { class: 'account-link' }, h('a', { href: hashTo('account', accountId), 'data-link': 'account' }, `Account: ${label}`))
}
