// POST /v1/privacy/erase and GET /v1/privacy/export (SPEC §7), secret key.

import { authenticateSecret } from '../auth.js'
import type { AppContext, RouteModule } from '../context.js'
import { clError } from '../errors.js'
import { personSchema, type PersonInput } from '../schemas.js'
import type { PersonSelector } from '../store/types.js'
import { parseOr } from '../validate.js'
import { presentJourney } from './leads.js'

function selector(ctx: AppContext, input: PersonInput): PersonSelector {
  if (!input.email && !input.phone && !input.externalId && !input.visitorId) throw clError('PRIVACY_NO_SELECTOR')
  const person = ctx.pii.normalize({ email: input.email || null, phone: input.phone || null, externalId: input.externalId || null })
  const who: PersonSelector = {}
  for (const key of person.keys) {
    if (key.kind === 'email') who.emailHash = key.hash
    else if (key.kind === 'phone') who.phoneHash = key.hash
    else who.externalIdHash = key.hash
  }
  if (input.visitorId) who.visitorId = input.visitorId
  return who
}

export const privacyRoute: RouteModule = (app, ctx) => {
  app.post('/v1/privacy/erase', async (request) => {
    const site = await authenticateSecret(request, ctx)
    const input = parseOr(personSchema, request.body ?? {})
    const who = selector(ctx, input)
    // Suppress every identifier the person is known by, not only the one given, so data arriving
    // later under their other email, phone or devices is dropped too.
    const held = await ctx.store.exportPerson(site.id, who)
    const hashes = new Set(ctx.pii.suppression({ ...ctx.pii.normalize({ email: input.email || null, phone: input.phone || null, externalId: input.externalId || null }), visitorId: input.visitorId }))
    for (const journey of held.leads) {
      const { lead } = journey
      for (const h of ctx.pii.suppression({ email: ctx.pii.reveal(lead.emailEnc), phone: ctx.pii.reveal(lead.phoneEnc), externalId: lead.externalId })) hashes.add(h)
      for (const vid of journey.visitorIds) for (const h of ctx.pii.suppression({ visitorId: vid })) hashes.add(h)
    }
    const erased = await ctx.store.erase(site.id, who, [...hashes])
    request.log.info({ erased }, 'person erased')
    return { erased }
  })

  app.get('/v1/privacy/export', async (request) => {
    const site = await authenticateSecret(request, ctx)
    const who = selector(ctx, parseOr(personSchema, request.query))
    const held = await ctx.store.exportPerson(site.id, who)
    return { leads: held.leads.map((j) => presentJourney(j, ctx.pii)), events: held.events }
  })
}
