// An account (B2B company): who it is, its contacts with their original sources, all their
// journeys interleaved in time, and the deals naming any of them (GET /v1/accounts/:id). Reached
// from a lead's journey (`#account/<account ID>`). Names, e-mails and touch fields are tracked,
// attacker-controlled text; they reach the DOM only as text nodes.

import { ApiError, api } from '../api.js'
import { h, replace } from '../dom.js'
import { hashTo } from '../hash.js'
import { date, money, num } from '../format.js'
import { dataTable } from '../table.js'
import { LEAD_COLUMNS, phase } from './lead-columns.js'
import type { AccountBody } from '../types.js'

type Contact = AccountBody['leads'][number]
type AccountTouch = AccountBody['touches'][number]
type AccountDeal = AccountBody['deals'][number]

const SOURCES: Record<string, string> = { crm: 'CRM company', domain: 'E-mail domain' }

/** What the page calls an account: its CRM name, else its e-mail domain. */
export function accountLabel(account: AccountBody['account']): string {
  return account.name ?? account.domain ?? account.id
}

/** Resolves once the account (or the not-found message) is shown. */
export async function accountView(el: HTMLElement, currency: string, id: string): Promise<void> {
  const back = h('p', null, h('a', { href: hashTo('journey', ''), 'data-link': 'recent-leads' }, '← Recent leads'))
  replace(el, h('h2', null, 'Account'), back, h('p', { class: 'status', role: 'status' }, 'Loading…'))
  let body: AccountBody
  try {
    body = await api.account(id)
  } catch (err) {
    // Unknown and malformed IDs (404, 400) are a plain answer, not a failure of the page.
    if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 400)) throw err
    replace(el, h('h2', null, 'Account'), back, h('p', { class: 'status', role: 'status', 'data-field': 'account-status' }, 'No account with that ID.'))
    return
  }
  const { account, leads, touches, deals } = body
  const byId = new Map(leads.map((l) => [l.id, l]))
  // A deal's people may include leads of other accounts (or beyond the first 500): shown by ID.
  const person = (leadId: string) => byId.get(leadId)?.email ?? leadId
  replace(el,
    h('h2', null, 'Account'),
    back,
    h('h3', { class: 'lead-title', 'data-field': 'account-name' }, accountLabel(account)),
    h('dl', { class: 'lead' },
      h('dt', null, 'Source'), h('dd', { 'data-field': 'account-source', 'data-value': account.source }, SOURCES[account.source] ?? account.source),
      account.domain ? [h('dt', null, 'Domain'), h('dd', { 'data-field': 'account-domain' }, account.domain)] : null,
      h('dt', null, 'Contacts'), h('dd', { 'data-field': 'account-lead-count', 'data-value': body.leadCount },
        body.leadCount > leads.length ? `${num(body.leadCount)} (the oldest ${num(leads.length)} shown)` : num(body.leadCount)),
      h('dt', null, 'Account ID'), h('dd', { 'data-field': 'account-id' }, account.id)),
    dataTable<Contact>({
      caption: 'Contacts, oldest first', name: 'account-contacts', rows: leads, empty: 'No contacts.',
      columns: LEAD_COLUMNS,
    }),
    dataTable<AccountTouch>({
      caption: 'Touches of all contacts, oldest first', name: 'account-touches', rows: touches, empty: 'No touches.',
      columns: [
        { label: 'Time', value: (t) => new Date(t.ts).toISOString(), format: (t) => date(t.ts) },
        { label: 'Contact', value: (t) => person(t.leadId), link: (t) => hashTo('journey', t.leadId) },
        { label: 'Phase', value: (t) => phase(t.ts, byId.get(t.leadId)?.identifiedAt) },
        { label: 'Channel', value: (t) => t.channel },
        { label: 'Source / medium', value: (t) => `${t.source} / ${t.medium}` },
        { label: 'Campaign', value: (t) => t.campaign },
        { label: 'Landing page', value: (t) => t.landing },
      ],
    }),
    dataTable<AccountDeal>({
      caption: 'Deals', name: 'account-deals', rows: deals, empty: 'No deals.',
      columns: [
        { label: 'Deal', value: (d) => d.dealId },
        { label: 'Stage', value: (d) => d.stage },
        { label: 'Amount', numeric: true, value: (d) => d.amount, format: (d) => money(d.amount, currency) },
        { label: 'People', value: (d) => d.leadIds.map(person).join(', ') },
      ],
    }))
}
