// POST /v1/import: the collect pipeline for backfills, secret key, `ts` taken as given.

import { authenticateSecret } from '../auth.js'
import type { RouteModule } from '../context.js'
import { ClError, clError, ERRORS } from '../../errors.js'
import { recordDrop } from '../../ingest/drops.js'
import { ingestBatch } from '../../ingest/batch.js'
import { importSchema } from '../../ingest/schemas.js'
import { parseOr } from '../validate.js'

export const importRoute: RouteModule = (app, ctx) => {
  app.post('/v1/import', { bodyLimit: ctx.config.importBodyLimit }, async (request) => {
    const site = await authenticateSecret(request, ctx).catch(async (err: unknown) => {
      if (err instanceof ClError && err.code === ERRORS.BAD_SECRET_KEY.code) {
        const events = (request.body as { events?: unknown } | null)?.events
        await recordDrop(ctx, request.log, null, 'unknown_key', Array.isArray(events) ? events.length : 0, Date.now())
      }
      throw err
    })
    const body = parseOr(importSchema, request.body)
    const max = ctx.config.importMaxEvents
    if (body.events.length > max) throw clError('TOO_MANY_EVENTS', `At most ${max} events per import request`)
    const result = await ingestBatch(ctx, request.log, site, body.events, { siteId: site.id, receivedAt: Date.now(), trustTs: true, phoneRegion: site.settings.phoneRegion })
    return { accepted: result.accepted, duplicates: result.duplicates, rejected: result.rejected }
  })
}
