// A deal as a CRM sends it → a DealWrite for the store: its person resolved to match keys, its
// stage mapped, its amount converted to the site currency. Throws coded errors per deal.

import { RateBook, currencyCode, utcDay } from './currency.js'
import { clError } from '../errors.js'
import { hashIdentity, normalizeEmail } from '../identity/match-keys.js'
import { dealSchema, type DealInput } from './schemas.js'
import type { DealWrite } from './types.js'
import { mapStage } from './stages.js'
import type { IdentityKey, Site } from '../store/types.js'
import { parseOr } from '../http/validate.js'

export function parseDeal(raw: unknown): DealInput {
  return parseOr(dealSchema, raw)
}

/** Currencies other than the site's that these deals use (to load rates only when needed). */
export function needsRates(items: ReadonlyArray<{ currency?: string | null }>, site: Site): boolean {
  return items.some((d) => d.currency != null && d.currency !== '' && currencyCode(d.currency) !== site.currency)
}

export interface PreparedDeal {
  write: DealWrite
  /** Normalised identifiers, for the erasure (suppression) check. */
  person: { email: string | null; externalId: string | null }
}

export function prepareDeal(d: DealInput, site: Site, rates: RateBook, now: number): PreparedDeal {
  const keys: IdentityKey[] = []
  let email: string | null = null
  if (d.email != null && d.email !== '') {
    email = normalizeEmail(d.email)
    if (email === null) throw clError('BAD_EMAIL')
    keys.push({ kind: 'email', hash: hashIdentity(email) })
  }
  const externalId = d.externalId != null && d.externalId !== '' ? d.externalId : null
  if (externalId !== null) keys.push({ kind: 'external', hash: hashIdentity(externalId) })
  const leadId = d.leadId ?? null
  if (leadId === null && keys.length === 0) throw clError('DEAL_NO_PERSON')

  const stage = mapStage(d.stage, site.settings.stageMapping)
  if (stage === null) throw clError('UNKNOWN_STAGE', `Unknown stage "${d.stage.slice(0, 100)}"; map it with closeloop sites update --name SITE --stage "NAME=won|lost|…"`)

  const ts = d.ts ?? now
  const amount = d.amount ?? null
  const currency = d.currency != null && d.currency !== '' ? d.currency : null
  const code = currency === null ? null : currencyCode(currency)
  if (currency !== null && code === null) throw clError('BAD_CURRENCY')
  const converted = amount === null ? null : rates.convert(amount, code, utcDay(ts))
  const write: DealWrite = {
    dealId: d.dealId.trim(),
    match: { leadId, keys },
    stage,
    crmStage: d.stage.trim(),
    amount: converted,
    originalAmount: amount,
    originalCurrency: code === site.currency ? null : code,
    ts,
  }
  return { write, person: { email, externalId } }
}
