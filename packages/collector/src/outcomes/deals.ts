// A deal as a CRM sends it → a DealWrite for the store: its person resolved to match keys, its
// stage mapped, its amount converted to the site currency. Throws coded errors per deal.

import { RateBook, currencyCode, utcDay } from './currency.js'
import { clError } from '../errors.js'
import { normalizeEmail } from '../identity/match-keys.js'
import { dealSchema, OUTCOME_LIMITS, type DealInput } from './schemas.js'
import type { DealMatch, DealWrite } from './types.js'
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
  /** Normalised identifiers of the primary person, for the erasure (suppression) check. */
  person: { email: string | null; externalId: string | null }
  /** Every person named, primary first: normalised identifiers and what was sent (the `pending` keys). */
  people: Array<{ email: string | null; externalId: string | null; sent: string }>
}

type Person = { match: DealMatch; email: string | null; externalId: string | null; sent: string }

/** The install's keyed match key of a normalised value (`Pii.matchHash`). */
export type MatchHash = (normalised: string) => string

function person(hash: MatchHash, leadId: string | null, rawEmail: string | null | undefined, rawExternal: string | null | undefined): Person | null {
  const keys: IdentityKey[] = []
  let email: string | null = null
  if (rawEmail != null && rawEmail !== '') {
    email = normalizeEmail(rawEmail)
    if (email === null) throw clError('BAD_EMAIL')
    keys.push({ kind: 'email', hash: hash(email) })
  }
  const externalId = rawExternal != null && rawExternal !== '' ? rawExternal : null
  if (externalId !== null) keys.push({ kind: 'external', hash: hash(externalId) })
  if (leadId === null && keys.length === 0) return null
  return { match: { leadId, keys }, email, externalId, sent: leadId ?? email ?? (externalId as string) }
}

/** The people a deal names: the single forms (one person, the primary), then leadIds, emails, externalIds. */
function peopleOf(d: DealInput, hash: MatchHash): Person[] {
  const out: Person[] = []
  const single = person(hash, d.leadId ?? null, d.email, d.externalId)
  if (single) out.push(single)
  for (const id of d.leadIds ?? []) out.push(person(hash, id, null, null) as Person)
  for (const e of d.emails ?? []) { const p = person(hash, null, e, null); if (p) out.push(p) }
  for (const x of d.externalIds ?? []) { const p = person(hash, null, null, x); if (p) out.push(p) }
  if (out.length > OUTCOME_LIMITS.leadsPerDeal) throw clError('VALIDATION', `a deal names at most ${OUTCOME_LIMITS.leadsPerDeal} people`)
  return out
}

export function prepareDeal(d: DealInput, site: Site, rates: RateBook, now: number, hash: MatchHash): PreparedDeal {
  const people = peopleOf(d, hash)
  if (people.length === 0) throw clError('DEAL_NO_PERSON')
  const { match, email, externalId } = people[0]
  const lists = d.leadIds != null || d.emails != null || d.externalIds != null

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
    match,
    ...(lists ? { contacts: people.slice(1).map((p) => p.match) } : {}),
    company: d.company != null && d.company.trim() !== '' ? d.company : null,
    stage,
    crmStage: d.stage.trim(),
    amount: converted,
    originalAmount: amount,
    originalCurrency: code === site.currency ? null : code,
    ts,
  }
  return { write, person: { email, externalId }, people: people.map(({ email, externalId, sent }) => ({ email, externalId, sent })) }
}
