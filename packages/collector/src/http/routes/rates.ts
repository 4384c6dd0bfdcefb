// Exchange rates to the site currency. POST /v1/rates { rates: [{ date?, currency, rate }] }
// (1 unit of `currency` = `rate` units of the site currency; no date = a standing rate),
// GET /v1/rates lists them. All-or-nothing: a rate table with a bad entry is refused whole.

import { authenticateSecret } from '../auth.js'
import type { RouteModule } from '../context.js'
import { prepareRate } from '../../outcomes/rates.js'
import { ratesBatchSchema } from '../../outcomes/schemas.js'
import { parseOr } from '../validate.js'

export const ratesRoute: RouteModule = (app, ctx) => {
  app.post('/v1/rates', async (request) => {
    const site = await authenticateSecret(request, ctx)
    const { rates } = parseOr(ratesBatchSchema, request.body)
    const rows = rates.map((r, i) => prepareRate(r, `rates.${i}`))
    await ctx.store.upsertRates(site.id, rows)
    return { accepted: rows.length, currency: site.currency }
  })

  app.get('/v1/rates', async (request) => {
    const site = await authenticateSecret(request, ctx)
    return { currency: site.currency, rates: await ctx.store.listRates(site.id) }
  })
}
