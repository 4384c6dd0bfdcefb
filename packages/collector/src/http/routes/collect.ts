// POST /v1/collect: public key, browser origin checked, bots counted not stored (unless the site
// keeps them); every refusal is counted by reason (ingest/drops.ts).

import { authenticatePublic } from '../auth.js'
import { isBotUserAgent } from '../bots.js'
import type { RouteModule } from '../context.js'
import { visitorCookie } from '../visitor-cookie.js'
import { ClError, clError, ERRORS } from '../../errors.js'
import { recordDrop } from '../../ingest/drops.js'
import { ingestBatch } from '../../ingest/batch.js'
import { collectSchema, LIMITS } from '../../ingest/schemas.js'
import { parseOr } from '../validate.js'

export const collectRoute: RouteModule = (app, ctx) => {
  app.post('/v1/collect', { bodyLimit: LIMITS.collectBody }, async (request, reply) => {
    const receivedAt = Date.now()
    const body = parseOr(collectSchema, request.body)
    if (body.events.length > LIMITS.collectEvents) throw clError('TOO_MANY_EVENTS', `At most ${LIMITS.collectEvents} events per batch`)
    const site = await authenticatePublic(request, ctx, body.site).catch(async (err: unknown) => {
      // Refused before any event is looked at: counted by reason, with the site when there is one.
      if (err instanceof ClError && err.code === ERRORS.UNKNOWN_SITE.code) {
        await recordDrop(ctx, request.log, null, 'unknown_key', body.events.length, receivedAt)
      } else if (err instanceof ClError && err.code === ERRORS.ORIGIN_NOT_ALLOWED.code) {
        await recordDrop(ctx, request.log, await ctx.sites.byPublic(body.site), 'origin', body.events.length, receivedAt)
      }
      throw err
    })
    // A site may keep bots (settings.keepBots) to be tested with a headless browser.
    if (ctx.config.botFilter && !site.settings.keepBots && isBotUserAgent(request.headers['user-agent'])) {
      ctx.metrics.eventsBot.inc({}, body.events.length)
      await recordDrop(ctx, request.log, site, 'bot', body.events.length, receivedAt)
      return { accepted: 0, duplicates: 0, rejected: [] }
    }
    const result = await ingestBatch(ctx, request.log, site, body.events, { siteId: site.id, receivedAt, sentAt: body.sentAt, trustTs: false, publishable: true, phoneRegion: site.settings.phoneRegion })
    if (result.visitorId !== null) {
      reply.header('set-cookie', visitorCookie(result.visitorId, { domain: site.cookieDomain, secure: request.protocol === 'https' }))
    }
    return { accepted: result.accepted, duplicates: result.duplicates, rejected: result.rejected }
  })
}
