// Erasure and export for SQLite. Erase runs inside the group-commit transaction, so a
// person is either entirely gone (with their suppression hashes stored) or untouched.

import { eventFromRow, leadFromRow, touchFromRow, type Row } from '../rows.js'
import type { Statements } from './statements.js'
import type { Erased, LeadJourney, PersonExport, PersonSelector } from '../types.js'

/** True when any of the hashes is on the site's suppression list. */
export function anySuppressed(s: Statements, siteId: string, hashes: readonly string[]): boolean {
  return hashes.some((h) => s.privacy.isSuppressed.get(siteId, h) !== undefined)
}

/** Lead IDs of the person, and every visitor ID that belongs to them. */
export function findPerson(s: Statements, siteId: string, who: PersonSelector): { leadIds: string[]; visitorIds: string[] } {
  const leadIds = new Set<string>()
  const byKey = (kind: string, hash: string | undefined): void => {
    if (!hash) return
    const row = s.leads.identityLead.get(siteId, kind, hash) as Row | undefined
    if (row) leadIds.add(String(row.lead_id))
  }
  byKey('email', who.emailHash)
  byKey('phone', who.phoneHash)
  byKey('external', who.externalIdHash)
  const visitorIds = new Set<string>()
  if (who.visitorId) {
    visitorIds.add(who.visitorId)
    for (const row of s.leads.ofVisitor.all(siteId, who.visitorId) as Row[]) leadIds.add(String(row.id))
  }
  for (const leadId of leadIds) {
    for (const row of s.leads.visitors.all(siteId, leadId) as Row[]) visitorIds.add(String(row.visitor_id))
  }
  return { leadIds: [...leadIds], visitorIds: [...visitorIds] }
}

export function journeySync(s: Statements, siteId: string, leadId: string): LeadJourney | null {
  const row = s.leads.byId.get(leadId, siteId) as Row | undefined
  if (!row) return null
  return {
    lead: leadFromRow(row),
    visitorIds: (s.leads.visitors.all(siteId, leadId) as Row[]).map((r) => String(r.visitor_id)),
    touches: (s.leads.touches.all(siteId, leadId) as Row[]).map(touchFromRow),
  }
}

export function eraseSync(
  s: Statements,
  siteId: string,
  who: PersonSelector,
  suppressionHashes: readonly string[],
  now: number,
  eraseDeals: (leadIds: string[]) => number,
): Erased {
  const { leadIds, visitorIds } = findPerson(s, siteId, who)
  const deals = eraseDeals(leadIds)
  let events = 0
  let visitors = 0
  for (const visitorId of visitorIds) {
    s.privacy.deleteTouches.run(siteId, visitorId)
    const deleted = s.privacy.deleteEvents.run(siteId, visitorId).changes
    events += deleted
    // A visitor is its events (the visitors view): one existed if any event did.
    if (deleted > 0) visitors++
    s.privacy.deleteVisitorLinks.run(siteId, visitorId)
  }
  for (const leadId of leadIds) {
    s.privacy.deleteLeadLinks.run(siteId, leadId)
    s.privacy.deleteIdentities.run(leadId)
    s.privacy.deleteConflicts.run(siteId, leadId, leadId)
    s.privacy.deleteLead.run(leadId)
  }
  for (const term of who.scrubTerms ?? []) s.privacy.scrubRejected.run(siteId, term)
  for (const hash of suppressionHashes) s.privacy.suppress.run(siteId, hash, now)
  return { leads: leadIds.length, visitors, events, deals }
}

export function exportSync(
  s: Statements,
  siteId: string,
  who: PersonSelector,
): PersonExport {
  const { leadIds, visitorIds } = findPerson(s, siteId, who)
  const leads = leadIds.map((id) => journeySync(s, siteId, id)).filter((j): j is LeadJourney => j !== null)
  const events = visitorIds.flatMap((v) => (s.privacy.eventsOfVisitor.all(siteId, v) as Row[]).map(eventFromRow))
  events.sort((a, b) => (a.ts as number) - (b.ts as number))
  const touches = visitorIds.flatMap((v) => (s.privacy.touchesOfVisitor.all(siteId, v) as Row[]).map(touchFromRow))
  touches.sort((a, b) => a.ts - b.ts || (a.touchId < b.touchId ? -1 : 1))
  return { leads, events, touches }
}
