// POST /v1/collect (SPEC §3): public key, browser origin checked, bots counted not stored.

import { authenticatePublic } from '../auth.js'
import { isBotUserAgent } from '../bots.js'
import type { RouteModule } from '../context.js'
import { visitorCookie } from '../visitor-cookie.js'
import { clError } from '../../errors.js'
import { ingestBatch } from '../../ingest/batch.js'
import { collectSchema, LIMITS } from '../../ingest/schemas.js'
import { parseOr } from '../validate.js'

export const collectRoute: RouteModule = (app, ctx) => {
  app.post('/v1/collect', { bodyLimit: LIMITS.collectBody }, async (request, reply) => {
    const receivedAt = Date.now()
    const body = parseOr(collectSchema, request.body)
    if (body.events.length > LIMITS.collectEvents) throw clError('TOO_MANY_EVENTS', `At most ${LIMITS.collectEvents} events per batch`)
    const site = await authenticatePublic(request, ctx, body.site)
    if (ctx.config.botFilter && isBotUserAgent(request.headers['user-agent'])) {
      ctx.metrics.eventsBot.inc({}, body.events.length)
      return { accepted: 0, duplicates: 0, rejected: [] }
    }
    const result = await ingestBatch(ctx, request.log, site, body.events, { siteId: site.id, receivedAt, sentAt: body.sentAt, trustTs: false, phoneRegion: site.settings.phoneRegion })
    if (result.visitorId !== null) {
      reply.header('set-cookie', visitorCookie(result.visitorId, { domain: site.cookieDomain, secure: request.protocol === 'https' }))
    }
    return { accepted: result.accepted, duplicates: result.duplicates, rejected: result.rejected }
  })
}
