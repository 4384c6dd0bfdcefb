// Identity stitching for SQLite, run inside the group-commit transaction. SQLite has one writer
// and jobs run one after another, so two identifies of the same email can never both miss the
// key and create two leads: the second sees the first's identity row.

import { newLeadId } from './lead-id.js'
import { byPriority, mergeLeadFields, resolveMatches, type Match } from './identity-rules.js'
import { leadFromRow, touchFromRow, type Row } from './rows.js'
import type { Statements } from './sqlite-statements.js'
import type { IdentifyInput, IdentifyOutcome, StoredTouch } from './types.js'

export function identifySync(s: Statements, input: IdentifyInput, now: number): IdentifyOutcome {
  const { siteId, visitorId } = input
  const keys = byPriority(input.keys)
  const matches: Match[] = []
  for (const key of keys) {
    const row = s.leads.identityLead.get(siteId, key.kind, key.hash) as Row | undefined
    if (row) matches.push({ kind: key.kind, leadId: String(row.lead_id) })
  }
  const { winner, others } = resolveMatches(matches)

  let leadId: string
  // Known here, so the lead need not be read back before deciding on its original source.
  let firstTouchId: string | null = null
  const created = winner === null
  if (winner === null) {
    leadId = newLeadId(now)
    s.leads.insert.run(
      leadId, siteId, now, input.ts, input.emailEnc ?? null, input.phoneEnc ?? null, input.externalId ?? null,
      JSON.stringify(input.traits ?? {}),
    )
  } else {
    leadId = winner
    const lead = leadFromRow(s.leads.byId.get(leadId, siteId) as Row)
    firstTouchId = lead.firstTouchId
    const f = mergeLeadFields(lead, input)
    s.leads.updateFields.run(f.emailEnc, f.phoneEnc, f.externalId, JSON.stringify(f.traits), leadId)
  }
  for (const other of others) {
    s.leads.insertConflict.run(siteId, leadId, other.leadId, other.kind, visitorId, now)
  }
  // A key already owned by another lead keeps pointing there (ON CONFLICT DO NOTHING): conflicts
  // are recorded, never silently merged.
  for (const key of keys) s.leads.insertIdentity.run(siteId, key.kind, key.hash, leadId, now)
  s.leads.link.run(siteId, leadId, visitorId, now)

  const touches = input.journey ? (s.leads.touches.all(siteId, leadId) as Row[]).map(touchFromRow) : null
  if (firstTouchId === null) {
    // Original source: the earliest touch known now. Once set it is fixed (SPEC §5).
    const first = earliestTouch(s, siteId, leadId, touches)
    if (first) s.leads.setFirstTouch.run(first.id, first.ts, leadId)
  }
  const visitorIds = (s.leads.visitors.all(siteId, leadId) as Row[]).map((r) => String(r.visitor_id))
  const conflict = others.length > 0 ? { keptLeadId: leadId, otherLeadId: others[0].leadId, kind: others[0].kind } : null
  const journey = touches ? { lead: leadFromRow(s.leads.byId.get(leadId, siteId) as Row), visitorIds, touches } : undefined
  return { leadId, created, visitorIds, conflict, journey }
}

/** The first of the lead's touches when they were read (same order as the query), else the query's. */
function earliestTouch(s: Statements, siteId: string, leadId: string, touches: StoredTouch[] | null): { id: string; ts: number } | undefined {
  if (touches) return touches.length > 0 ? { id: touches[0].touchId, ts: touches[0].ts } : undefined
  const row = s.leads.earliestTouch.get(siteId, leadId) as Row | undefined
  return row && { id: String(row.id), ts: Number(row.ts) }
}
