// GET /v1/reports/attribution, /models, /series, /funnel, /quality and /destinations, secret key (or a dashboard
// session). Query strings are validated strictly: an unknown parameter is a coded 400, not ignored.

import { authenticateSecret } from '../auth.js'
import type { AppContext, RouteModule } from '../context.js'
import type { Dimension } from '../../attribution/types.js'
import { attributionQuerySchema, FILTER_KEYS, destinationsQuerySchema, funnelQuerySchema, modelsQuerySchema, qualityQuerySchema, seriesQuerySchema } from '../../outcomes/schemas.js'
import { funnelReport } from '../../reports/funnel.js'
import { qualityReport } from '../../reports/quality.js'
import { destinationsReport } from '../../reports/destinations.js'
import { attributionReport, modelsReport, seriesReport } from '../../reports/query.js'
import type { FastifyRequest } from 'fastify'
import type { Site } from '../../store/types.js'
import { parseOr } from '../validate.js'

async function siteOf(request: FastifyRequest, ctx: AppContext): Promise<Site> {
  if (request.headers.authorization === undefined && ctx.sessionSite) {
    const site = await ctx.sessionSite(request)
    if (site) return site
  }
  return authenticateSecret(request, ctx)
}

/**
 * The parsed query with its drill-down filters in the order of the query string: the first is the
 * drill-down's root (see reports/drill-down.ts). Parsing reorders keys; this puts them back.
 */
function inOrder<Q extends object>(raw: unknown, q: Q): Q {
  const given = Object.keys(raw as object).filter((k) => (FILTER_KEYS as readonly string[]).includes(k))
  return { ...Object.fromEntries(given.map((k) => [k, (q as Record<string, unknown>)[k]])), ...q }
}

export const reportsRoute: RouteModule = (app, ctx) => {
  app.get('/v1/reports/attribution', async (request) => {
    const site = await siteOf(request, ctx)
    const q = inOrder(request.query, parseOr(attributionQuerySchema, request.query))
    return attributionReport(ctx.store, site, { ...q, by: q.by as Dimension }, { budgetMs: ctx.config.reportBudgetMs })
  })

  app.get('/v1/reports/models', async (request) => {
    const site = await siteOf(request, ctx)
    const q = inOrder(request.query, parseOr(modelsQuerySchema, request.query))
    return modelsReport(ctx.store, site, { ...q, by: q.by as Dimension }, { budgetMs: ctx.config.reportBudgetMs })
  })

  app.get('/v1/reports/series', async (request) => {
    const site = await siteOf(request, ctx)
    const q = inOrder(request.query, parseOr(seriesQuerySchema, request.query))
    return seriesReport(ctx.store, site, { ...q, by: 'channel' }, Date.now(), { budgetMs: ctx.config.reportBudgetMs })
  })

  app.get('/v1/reports/funnel', async (request) => {
    const site = await siteOf(request, ctx)
    return funnelReport(ctx.store, site, parseOr(funnelQuerySchema, request.query))
  })

  app.get('/v1/reports/destinations', async (request) => {
    const site = await siteOf(request, ctx)
    parseOr(destinationsQuerySchema, request.query)
    return destinationsReport(ctx.store, site)
  })

  app.get('/v1/reports/quality', async (request) => {
    const site = await siteOf(request, ctx)
    return qualityReport(ctx.store, site, parseOr(qualityQuerySchema, request.query))
  })
}
