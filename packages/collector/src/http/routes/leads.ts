// GET /v1/leads/:id: the lead, its visitors, its touches and its deals in time order (SPEC §4;
// secret key). The dashboard's lead journey shows all of it.

import { authenticateSecret } from '../auth.js'
import type { RouteModule } from '../context.js'
import { clError } from '../../errors.js'
import { summarizeJourney } from '../../identity/journey.js'
import { leadParamsSchema } from '../../ingest/schemas.js'
import type { Deal } from '../../outcomes/types.js'
import type { LeadJourney } from '../../store/types.js'
import type { Pii } from '../../identity/pii.js'
import { parseOr } from '../validate.js'

/** A journey as the API shows it: identifiers decrypted for the site owner, ciphertexts hidden. */
export function presentJourney(journey: LeadJourney, pii: Pii) {
  const { lead } = journey
  return {
    lead: {
      id: lead.id,
      createdAt: lead.createdAt,
      identifiedAt: lead.identifiedAt,
      email: pii.reveal(lead.emailEnc),
      phone: pii.reveal(lead.phoneEnc),
      externalId: lead.externalId,
      traits: lead.traits,
      firstTouchId: lead.firstTouchId,
    },
    visitorIds: journey.visitorIds,
    touches: journey.touches,
    ...summarizeJourney(journey),
  }
}

/** The body of GET /v1/leads/:id (the dashboard's lead journey reads it). */
export type LeadView = ReturnType<typeof presentJourney> & { deals: Deal[] }

export const leadsRoute: RouteModule = (app, ctx) => {
  app.get('/v1/leads/:id', async (request): Promise<LeadView> => {
    const site = await authenticateSecret(request, ctx)
    const { id } = parseOr(leadParamsSchema, request.params)
    const journey = await ctx.store.getLead(site.id, id)
    if (!journey) throw clError('LEAD_NOT_FOUND')
    return { ...presentJourney(journey, ctx.pii), deals: await ctx.store.getDeals(site.id, id) }
  })
}
