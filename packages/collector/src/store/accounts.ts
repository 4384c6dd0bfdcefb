// Accounts (companies) of B2B leads, the rules both stores apply inside their transactions. An
// account is a CRM company (by its normalised name) or, failing one, an e-mail domain. Account IDs
// are derived from that key, so finding and creating an account is one idempotent insert, safe
// against concurrent writers.

import { createHash } from 'node:crypto'
import type { AccountSource } from './types.js'

/** Longest company name accepted (the API bounds it; the store relies on it). */
export const MAX_COMPANY = 200

/** What identifies an account within a site. */
export interface AccountKey {
  id: string
  source: AccountSource
  /** The e-mail domain (source `domain`), else null. */
  domain: string | null
  /** The company as first sent (source `crm`), else null. */
  name: string | null
}

/** Case, spacing and Unicode compatibility forms do not make another company: "ACME  Inc" = "acme inc". */
export function normalizeCompany(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase()
}

function accountId(siteId: string, key: string): string {
  return 'acc_' + createHash('sha256').update(`${siteId}\0${key}`).digest('base64url').slice(0, 22)
}

export function companyAccount(siteId: string, company: string): AccountKey {
  const name = company.normalize('NFKC').trim().replace(/\s+/g, ' ')
  return { id: accountId(siteId, `crm:${normalizeCompany(name)}`), source: 'crm', domain: null, name }
}

export function domainAccount(siteId: string, domain: string): AccountKey {
  return { id: accountId(siteId, `domain:${domain}`), source: 'domain', domain, name: null }
}

/** A lead's account as stored: its ID and whether it is a CRM company. */
export interface CurrentAccount {
  id: string
  source: AccountSource
}

/**
 * The account a lead moves to, or null to leave it where it is. A company given explicitly wins
 * over the e-mail domain and moves the lead alone (its former account and colleagues stay); a
 * lead in a CRM company keeps it until a company is given again; a domain only places a lead that
 * has no CRM company. Empty values count as absent.
 */
export function nextAccount(siteId: string, current: CurrentAccount | null, input: { company?: string | null; accountDomain?: string | null }): AccountKey | null {
  const company = input.company?.trim() ? input.company : null
  const target = company !== null
    ? companyAccount(siteId, company)
    : input.accountDomain && current?.source !== 'crm' ? domainAccount(siteId, input.accountDomain) : null
  return target === null || target.id === current?.id ? null : target
}

/**
 * A deal's company applies to its known people. A person already in another CRM company is not
 * moved by a deal: that would join two companies through one deal, so the deal is refused
 * (CL_ERR_ACCOUNT_CONFLICT) and names the first such lead. Returns null when there is none.
 */
export function dealAccountConflict(target: AccountKey, people: ReadonlyArray<{ leadId: string; account: CurrentAccount | null }>): string | null {
  for (const p of people) if (p.account?.source === 'crm' && p.account.id !== target.id) return p.leadId
  return null
}
