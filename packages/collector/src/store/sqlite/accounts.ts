// Accounts for SQLite: placing a lead in its account (identify, deals) inside the group-commit
// transaction, and reading an account with its leads and deals. The rules are store/accounts.ts.

import { companyAccount, dealAccountConflict, nextAccount, type AccountKey, type CurrentAccount } from '../accounts.js'
import { dealFromRowSync, type DealStatements } from './deals.js'
import type { Row } from '../rows.js'
import type { Prepared } from './statements.js'
import type { Account, AccountDeal, AccountSource, AccountView, IdentifyInput } from '../types.js'

export const ACCOUNT_SQL = {
  insertAccount: `INSERT INTO accounts (site_id, id, domain, name, source, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  // Both by primary key, whatever the statistics say: as a join, SQLite planned it over the partial
  // index leads_account (every placed lead of the site per identify, quadratic in leads).
  leadAccount: `SELECT id, source FROM accounts
     WHERE site_id = :site AND id = (SELECT account_id FROM leads WHERE id = :lead AND site_id = :site)`,
  setLeadAccount: 'UPDATE leads SET account_id = ? WHERE id = ? AND site_id = ?',
  account: 'SELECT * FROM accounts WHERE site_id = ? AND id = ?',
  leadsOfAccount: 'SELECT id FROM leads WHERE site_id = ? AND account_id = ? ORDER BY created_at, id',
  contactDealsOfLead: 'SELECT deal_id FROM deal_leads WHERE site_id = ? AND lead_id = ?',
  peopleOfDeal: 'SELECT lead_id FROM deal_leads WHERE site_id = ? AND deal_id = ? AND lead_id IS NOT NULL ORDER BY position',
} as const

export type AccountStatements = Prepared<typeof ACCOUNT_SQL>

export function currentAccountSync(s: AccountStatements, siteId: string, leadId: string): CurrentAccount | null {
  const row = s.leadAccount.get({ site: siteId, lead: leadId }) as Row | undefined
  return row ? { id: String(row.id), source: String(row.source) as AccountSource } : null
}

function placeSync(s: AccountStatements, siteId: string, leadId: string, target: AccountKey, now: number): void {
  s.insertAccount.run(siteId, target.id, target.domain, target.name, target.source, now)
  s.setLeadAccount.run(target.id, leadId, siteId)
}

/** Applies identify's company or e-mail domain; returns the lead's account after it. */
export function assignAccountSync(s: AccountStatements, siteId: string, leadId: string, input: Pick<IdentifyInput, 'company' | 'accountDomain'>, now: number): string | null {
  const current = currentAccountSync(s, siteId, leadId)
  const target = nextAccount(siteId, current, input)
  if (target === null) return current?.id ?? null
  placeSync(s, siteId, leadId, target, now)
  return target.id
}

/** A deal's company for its known people: the first lead in another CRM company, or null once all are placed. */
export function placeDealPeopleSync(s: AccountStatements, siteId: string, company: string, leadIds: readonly string[], now: number, check: boolean): string | null {
  const target = companyAccount(siteId, company)
  const people = leadIds.map((leadId) => ({ leadId, account: currentAccountSync(s, siteId, leadId) }))
  if (check) return dealAccountConflict(target, people)
  for (const p of people) if (p.account?.id !== target.id) placeSync(s, siteId, p.leadId, target, now)
  return null
}

export function accountFromRow(r: Row): Account {
  return {
    id: String(r.id), siteId: String(r.site_id), domain: r.domain == null ? null : String(r.domain),
    name: r.name == null ? null : String(r.name), source: String(r.source) as AccountSource, createdAt: Number(r.created_at),
  }
}

export function getAccountSync(s: AccountStatements & DealStatements, siteId: string, accountId: string): AccountView | null {
  const row = s.account.get(siteId, accountId) as Row | undefined
  if (!row) return null
  const leadIds = (s.leadsOfAccount.all(siteId, accountId) as Row[]).map((r) => String(r.id))
  const dealIds = new Set<string>()
  for (const leadId of leadIds) {
    for (const r of s.dealIdsOfLead.all(siteId, leadId) as Row[]) dealIds.add(String(r.id))
    for (const r of s.contactDealsOfLead.all(siteId, leadId) as Row[]) dealIds.add(String(r.deal_id))
  }
  const deals: AccountDeal[] = []
  for (const id of dealIds) {
    const d = dealFromRowSync(s, siteId, s.deal.get(siteId, id) as Row)
    const others = (s.peopleOfDeal.all(siteId, id) as Row[]).map((r) => String(r.lead_id))
    deals.push({ ...d, leadIds: d.leadId === null ? others : [d.leadId, ...others] })
  }
  deals.sort((a, b) => a.createdAt - b.createdAt || (a.dealId < b.dealId ? -1 : 1))
  return { account: accountFromRow(row), leadIds, deals }
}
