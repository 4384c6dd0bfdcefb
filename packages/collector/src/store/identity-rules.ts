// The store-independent part of identity stitching: which lead wins when the keys of
// one identify call point at different leads, and how lead fields are updated. Both stores run
// these rules inside their own transaction.

import type { IdentifyInput, IdentityKey, IdentityKind } from './types.js'

/** lead_conflicts.visitor_id of an identify without a visitor (the column is NOT NULL; nothing reads it). */
export const NO_VISITOR = ''

const RANK: Record<IdentityKind, number> = { email: 0, phone: 1, external: 2 }

/** Keys ordered email, phone, external: the order in which a match wins. */
export function byPriority(keys: readonly IdentityKey[]): IdentityKey[] {
  return [...keys].sort((a, b) => RANK[a.kind] - RANK[b.kind])
}

export interface Match {
  kind: IdentityKind
  leadId: string
}

export interface Resolution {
  /** The lead the visitor is linked to; null when no key matched (create one). */
  winner: string | null
  /** Other leads the keys pointed at, with the kind of key that found each: recorded, not merged. */
  others: Match[]
}

/** `matches` must be in priority order (see byPriority), so an email match comes first and wins. */
export function resolveMatches(matches: readonly Match[]): Resolution {
  if (matches.length === 0) return { winner: null, others: [] }
  const winner = matches[0].leadId
  const seen = new Set([winner])
  const others: Match[] = []
  for (const m of matches) {
    if (seen.has(m.leadId)) continue
    seen.add(m.leadId)
    others.push(m)
  }
  return { winner, others }
}

export interface LeadFields {
  emailEnc: string | null
  phoneEnc: string | null
  externalId: string | null
  traits: Record<string, unknown>
}

/** The newest value given wins; absent values keep what is stored; traits merge shallowly. */
export function mergeLeadFields(current: LeadFields, input: IdentifyInput): LeadFields {
  return {
    emailEnc: input.emailEnc ?? current.emailEnc,
    phoneEnc: input.phoneEnc ?? current.phoneEnc,
    externalId: input.externalId ?? current.externalId,
    traits: input.traits ? { ...current.traits, ...input.traits } : current.traits,
  }
}
