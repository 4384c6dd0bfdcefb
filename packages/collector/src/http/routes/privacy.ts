// POST /v1/privacy/erase and GET /v1/privacy/export, secret key.

import { authenticateSecret } from '../auth.js'
import type { AppContext, RouteModule } from '../context.js'
import { erasePerson, personSelector } from '../../identity/erase.js'
import { personSchema } from '../../ingest/schemas.js'
import { parseOr } from '../validate.js'
import { presentJourney } from './leads.js'

export const privacyRoute: RouteModule = (app, ctx) => {
  app.post('/v1/privacy/erase', async (request) => {
    const site = await authenticateSecret(request, ctx)
    const erased = await erasePerson(ctx.store, ctx.pii, site, parseOr(personSchema, request.body ?? {}))
    request.log.info({ erased }, 'person erased')
    return { erased }
  })

  app.get('/v1/privacy/export', async (request) => {
    const site = await authenticateSecret(request, ctx)
    const who = personSelector(ctx.pii, parseOr(personSchema, request.query), site.settings.phoneRegion)
    const held = await ctx.store.exportPerson(site.id, who)
    // Everything held about the person, their deals included.
    const leads = await Promise.all(held.leads.map(async (j) => ({ ...presentJourney(j, ctx.pii), deals: await ctx.store.getDeals(site.id, j.lead.id) })))
    return { leads, events: held.events, touches: held.touches }
  })
}
