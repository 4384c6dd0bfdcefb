// Erasure of one person, shared by POST /v1/privacy/erase and `closeloop erase`:
// deletes the lead, its visitors' touches, events and identities, and suppresses every identifier
// the person is known by (not only the one given), so data arriving later under their other
// email, phone or devices is dropped at ingestion.

import { clError } from '../errors.js'
import type { Pii } from './pii.js'
import type { PersonInput } from '../ingest/schemas.js'
import type { Erased, PersonSelector, Site, Store } from '../store/types.js'

export function personSelector(pii: Pii, input: PersonInput, phoneRegion?: string): PersonSelector {
  if (!input.email && !input.phone && !input.externalId && !input.visitorId) throw clError('PRIVACY_NO_SELECTOR')
  const person = pii.normalize({ email: input.email || null, phone: input.phone || null, externalId: input.externalId || null }, phoneRegion)
  const who: PersonSelector = {}
  for (const key of person.keys) {
    if (key.kind === 'email') who.emailHash = key.hash
    else if (key.kind === 'phone') who.phoneHash = key.hash
    else who.externalIdHash = key.hash
  }
  if (input.visitorId) who.visitorId = input.visitorId
  return who
}

export async function erasePerson(store: Store, pii: Pii, site: Site, input: PersonInput): Promise<Erased> {
  const siteId = site.id
  const region = site.settings.phoneRegion
  const who = personSelector(pii, input, region)
  const held = await store.exportPerson(siteId, who)
  const hashes = new Set(pii.suppression({ ...pii.normalize({ email: input.email || null, phone: input.phone || null, externalId: input.externalId || null }, region), visitorId: input.visitorId }))
  for (const journey of held.leads) {
    const { lead } = journey
    for (const h of pii.suppression({ email: pii.reveal(lead.emailEnc), phone: pii.reveal(lead.phoneEnc), externalId: lead.externalId })) hashes.add(h)
    for (const vid of journey.visitorIds) for (const h of pii.suppression({ visitorId: vid })) hashes.add(h)
  }
  const raw: Array<string | null | undefined> = [input.email, input.phone, input.externalId, input.visitorId]
  for (const journey of held.leads) {
    raw.push(pii.reveal(journey.lead.emailEnc), pii.reveal(journey.lead.phoneEnc), journey.lead.externalId, ...journey.visitorIds)
  }
  return store.erase(siteId, { ...who, scrubTerms: scrubTerms(raw) }, [...hashes])
}

/** Shortest identifier worth scrubbing by substring: shorter ones would match unrelated rows. */
const MIN_TERM = 5

/** Each identifier as sent, lower-cased, and as it appears inside a URL or a JSON string. */
export function scrubTerms(values: ReadonlyArray<string | null | undefined>): string[] {
  const terms = new Set<string>()
  for (const v of values) {
    const t = v?.trim()
    if (!t || t.length < MIN_TERM) continue
    for (const form of [t, t.toLowerCase()]) {
      terms.add(form)
      terms.add(encodeURIComponent(form))
      terms.add(JSON.stringify(form).slice(1, -1))
    }
  }
  return [...terms]
}
