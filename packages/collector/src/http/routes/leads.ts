// GET /v1/leads/:id: the lead, its visitors, its touches and its deals in time order; GET /v1/leads:
// the newest leads, or the one lead with an email (looked up by its match-key hash, the way
// identify stores it). Secret key or dashboard session; the lead journey view reads both.

import { authenticateSecret } from '../auth.js'
import type { RouteModule } from '../context.js'
import { clError } from '../../errors.js'
import { summarizeJourney } from '../../identity/journey.js'
import { leadParamsSchema, leadsQuerySchema } from '../../ingest/schemas.js'
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
      accountId: lead.accountId,
    },
    visitorIds: journey.visitorIds,
    touches: journey.touches,
    ...summarizeJourney(journey),
  }
}

/** The body of GET /v1/leads/:id (the dashboard's lead journey reads it). */
export type LeadView = ReturnType<typeof presentJourney> & { deals: Deal[] }

/** One lead of GET /v1/leads: who, when, and the original source. */
export function presentLeadSummary(journey: LeadJourney, pii: Pii) {
  const first = summarizeJourney(journey).firstTouch
  return {
    id: journey.lead.id,
    identifiedAt: journey.lead.identifiedAt,
    email: pii.reveal(journey.lead.emailEnc),
    touchCount: journey.touches.length,
    firstTouch: first ? { ts: first.ts, channel: first.channel, source: first.source, medium: first.medium, campaign: first.campaign } : null,
  }
}

/** The body of GET /v1/leads. */
export interface LeadList { leads: Array<ReturnType<typeof presentLeadSummary>> }

export const leadsRoute: RouteModule = (app, ctx) => {
  app.get('/v1/leads', async (request): Promise<LeadList> => {
    const site = await authenticateSecret(request, ctx)
    const q = parseOr(leadsQuerySchema, request.query)
    let ids: string[]
    if (q.email !== undefined) {
      // Only the hash is looked up; the address itself is neither stored nor logged (no query strings in logs).
      const key = ctx.pii.normalize({ email: q.email }, site.settings.phoneRegion).keys.find((k) => k.kind === 'email')
      const id = key ? await ctx.store.findLeadByKey(site.id, key) : null
      ids = id ? [id] : []
    } else {
      ids = (await ctx.store.recentLeads(site.id, q.limit)).map((l) => l.id)
    }
    const journeys = await Promise.all(ids.map((id) => ctx.store.getLead(site.id, id)))
    return { leads: journeys.filter((j): j is LeadJourney => j !== null).map((j) => presentLeadSummary(j, ctx.pii)) }
  })

  app.get('/v1/leads/:id', async (request): Promise<LeadView> => {
    const site = await authenticateSecret(request, ctx)
    const { id } = parseOr(leadParamsSchema, request.params)
    const journey = await ctx.store.getLead(site.id, id)
    if (!journey) throw clError('LEAD_NOT_FOUND')
    return { ...presentJourney(journey, ctx.pii), deals: await ctx.store.getDeals(site.id, id) }
  })
}
