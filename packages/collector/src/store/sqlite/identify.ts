// Identity stitching for SQLite, run inside the group-commit transaction. SQLite has one writer
// and jobs run one after another, so two identifies of the same email can never both miss the
// key and create two leads: the second sees the first's identity row.

import { newLeadId } from '../lead-id.js'
import { byPriority, mergeLeadFields, NO_VISITOR, resolveMatches, type Match } from '../identity-rules.js'
import { leadFromRow, touchFromRow, type Row } from '../rows.js'
import type { Statements } from './statements.js'
import type { IdentifyInput, IdentifyOutcome, Lead, StoredTouch } from '../types.js'

export function identifySync(s: Statements, input: IdentifyInput, now: number): IdentifyOutcome {
  const { siteId } = input
  const visitorId = input.visitorId ?? null
  const keys = byPriority(input.keys)
  const matches: Match[] = []
  for (const key of keys) {
    const row = s.leads.identityLead.get(siteId, key.kind, key.hash) as Row | undefined
    if (row) matches.push({ kind: key.kind, leadId: String(row.lead_id) })
  }
  const { winner, others } = resolveMatches(matches)

  // The lead as this identify leaves it, kept up to date here rather than read back for the journey.
  let lead: Lead
  const created = winner === null
  if (winner === null) {
    lead = {
      id: newLeadId(now), siteId, createdAt: now, identifiedAt: input.ts, emailEnc: input.emailEnc ?? null,
      phoneEnc: input.phoneEnc ?? null, externalId: input.externalId ?? null, traits: input.traits ?? {}, firstTouchId: null, accountId: null,
    }
    s.leads.insert.run(lead.id, siteId, now, input.ts, lead.emailEnc, lead.phoneEnc, lead.externalId, JSON.stringify(lead.traits))
  } else {
    const current = leadFromRow(s.leads.byId.get(winner, siteId) as Row)
    lead = input.linkOnly ? current : { ...current, ...mergeLeadFields(current, input) }
    if (!input.linkOnly) s.leads.updateFields.run(lead.emailEnc, lead.phoneEnc, lead.externalId, JSON.stringify(lead.traits), lead.id)
  }
  const leadId = lead.id
  for (const other of others) {
    s.leads.insertConflict.run(siteId, leadId, other.leadId, other.kind, visitorId ?? NO_VISITOR, now)
  }
  // A key already owned by another lead keeps pointing there (ON CONFLICT DO NOTHING): conflicts
  // are recorded, never silently merged.
  // A browser cannot add keys (a phone, another e-mail) to a lead that exists.
  if (winner === null || !input.linkOnly) for (const key of keys) s.leads.insertIdentity.run(siteId, key.kind, key.hash, leadId, now)
  if (visitorId !== null) s.leads.link.run(siteId, leadId, visitorId, now)

  const touches = input.journey ? (s.leads.touches.all(siteId, leadId) as Row[]).map(touchFromRow) : null
  if (lead.firstTouchId === null && (winner === null || !input.linkOnly)) {
    // Original source: the earliest touch known now. Once set it is fixed. Not set by a browser's
    // identify of an existing lead (linkOnly): its device must not become the lead's origin.
    const first = earliestTouch(s, siteId, leadId, touches)
    if (first) {
      s.leads.setFirstTouch.run(first.id, first.ts, leadId)
      lead.firstTouchId = first.id
    }
  }
  const visitorIds = (s.leads.visitors.all(siteId, leadId) as Row[]).map((r) => String(r.visitor_id))
  const conflict = others.length > 0 ? { keptLeadId: leadId, otherLeadId: others[0].leadId, kind: others[0].kind } : null
  const journey = touches ? { lead, visitorIds, touches } : undefined
  return { leadId, created, visitorIds, conflict, journey }
}

/** The first of the lead's touches when they were read (same order as the query), else the query's. */
function earliestTouch(s: Statements, siteId: string, leadId: string, touches: StoredTouch[] | null): { id: string; ts: number } | undefined {
  if (touches) return touches.length > 0 ? { id: touches[0].touchId, ts: touches[0].ts } : undefined
  const row = s.leads.earliestTouch.get(siteId, leadId) as Row | undefined
  return row && { id: String(row.id), ts: Number(row.ts) }
}
