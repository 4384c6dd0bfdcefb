// Accounts for PostgreSQL: placing a lead in its account (identify, deals) on the group-commit
// client inside its transaction, and reading an account with its leads and deals. Account IDs are
// derived from their key (store/accounts.ts), so concurrent creators insert the same row.

import type pg from 'pg'
import { companyAccount, dealAccountConflict, nextAccount, type AccountKey, type CurrentAccount } from '../accounts.js'
import { getDealRowsPg } from './deals.js'
import type { Row } from '../rows.js'
import type { AccountDeal, AccountSource, AccountView, IdentifyInput } from '../types.js'

type Client = pg.PoolClient | pg.Pool

async function currentAccountPg(c: Client, siteId: string, leadId: string): Promise<CurrentAccount | null> {
  const row = (await c.query(
    `SELECT a.id, a.source FROM leads l JOIN accounts a ON a.site_id = l.site_id AND a.id = l.account_id
     WHERE l.id = $1 AND l.site_id = $2`, [leadId, siteId])).rows[0] as Row | undefined
  return row ? { id: String(row.id), source: String(row.source) as AccountSource } : null
}

async function placePg(c: Client, siteId: string, leadId: string, target: AccountKey, now: number): Promise<void> {
  await c.query(
    'INSERT INTO accounts (site_id, id, domain, name, source, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
    [siteId, target.id, target.domain, target.name, target.source, now])
  await c.query('UPDATE leads SET account_id = $1 WHERE id = $2 AND site_id = $3', [target.id, leadId, siteId])
}

/** Applies identify's company or e-mail domain; returns the lead's account after it. */
export async function assignAccountPg(c: Client, siteId: string, leadId: string, input: Pick<IdentifyInput, 'company' | 'accountDomain'>, now: number): Promise<string | null> {
  // Locks the lead row first, so two identifies of one lead decide one after the other.
  await c.query('SELECT 1 FROM leads WHERE id = $1 AND site_id = $2 FOR UPDATE', [leadId, siteId])
  const current = await currentAccountPg(c, siteId, leadId)
  const target = nextAccount(siteId, current, input)
  if (target === null) return current?.id ?? null
  await placePg(c, siteId, leadId, target, now)
  return target.id
}

/** A deal's company for its known people: the first lead in another CRM company (nothing placed), or null once all are placed. */
export async function placeDealPeoplePg(c: Client, siteId: string, company: string, leadIds: readonly string[], now: number): Promise<string | null> {
  const target = companyAccount(siteId, company)
  const people: Array<{ leadId: string; account: CurrentAccount | null }> = []
  for (const leadId of leadIds) people.push({ leadId, account: await currentAccountPg(c, siteId, leadId) })
  const conflict = dealAccountConflict(target, people)
  if (conflict !== null) return conflict
  for (const p of people) if (p.account?.id !== target.id) await placePg(c, siteId, p.leadId, target, now)
  return null
}

export async function getAccountPg(c: Client, siteId: string, accountId: string): Promise<AccountView | null> {
  const row = (await c.query('SELECT * FROM accounts WHERE site_id = $1 AND id = $2', [siteId, accountId])).rows[0] as Row | undefined
  if (!row) return null
  const leadIds = (await c.query('SELECT id FROM leads WHERE site_id = $1 AND account_id = $2 ORDER BY created_at, id', [siteId, accountId])).rows.map((r: Row) => String(r.id))
  const dealRows = (await c.query(
    `SELECT * FROM deals WHERE site_id = $1 AND (lead_id = ANY($2) OR id IN (SELECT deal_id FROM deal_leads WHERE site_id = $1 AND lead_id = ANY($2)))
     ORDER BY created_at, id`, [siteId, leadIds])).rows as Row[]
  const deals = await getDealRowsPg(c, siteId, dealRows)
  const people = (await c.query(
    'SELECT deal_id, lead_id FROM deal_leads WHERE site_id = $1 AND deal_id = ANY($2) AND lead_id IS NOT NULL ORDER BY position',
    [siteId, deals.map((d) => d.dealId)])).rows as Row[]
  const withPeople: AccountDeal[] = deals.map((d) => {
    const others = people.filter((p) => p.deal_id === d.dealId).map((p) => String(p.lead_id))
    return { ...d, leadIds: d.leadId === null ? others : [d.leadId, ...others] }
  })
  return {
    account: {
      id: String(row.id), siteId: String(row.site_id), domain: row.domain == null ? null : String(row.domain),
      name: row.name == null ? null : String(row.name), source: String(row.source) as AccountSource, createdAt: Number(row.created_at),
    },
    leadIds,
    deals: withPeople,
  }
}
