// GET /v1/feeds/{destinationId}.csv: a feed destination's conversions of the last 90 days in its
// platform's template, for the platform's scheduled uploads from an HTTPS URL. HTTP Basic with the
// credentials printed once by `destinations add` (the password is stored only hashed). Rows served
// are marked sent; every download carries the whole window again, which the platforms de-duplicate.

import type { RouteModule } from '../context.js'
import { clError } from '../../errors.js'
import { FEED_KINDS, isFeedAdapter, type ConversionRow } from '../../integrations/destinations/adapter.js'
import { feedCredentialsMatch, loadDestination } from '../../integrations/destinations/destinations.js'

export const FEED_WINDOW_MS = 90 * 86_400_000

function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!m) return null
  const text = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = text.indexOf(':')
  return colon < 0 ? null : { user: text.slice(0, colon), password: text.slice(colon + 1) }
}

export const feedsRoute: RouteModule = (app, ctx) => {
  app.get<{ Params: { file: string } }>('/v1/feeds/:file', async (request, reply) => {
    const m = /^([A-Za-z0-9_-]{1,64})\.csv$/.exec(request.params.file)
    const record = m ? await ctx.store.getDestination(m[1]) : null
    if (record === null) throw clError('DESTINATION_NOT_FOUND')
    if (!(FEED_KINDS as readonly string[]).includes(record.kind)) throw clError('NOT_A_FEED')
    const { adapter, destination } = loadDestination(record, ctx.integrationKey)
    if (!isFeedAdapter(adapter)) throw clError('NOT_A_FEED')
    const creds = basicCredentials(request.headers.authorization)
    if (creds === null || !feedCredentialsMatch(record, creds.user, creds.password)) {
      reply.header('www-authenticate', 'Basic realm="closeloop feed", charset="UTF-8"')
      throw clError('BAD_FEED_CREDENTIALS')
    }
    const now = Date.now()
    const rows = await ctx.store.feedConversions(record.id, now - FEED_WINDOW_MS, now)
    // The templates carry click IDs only: no e-mail or phone is decrypted for a feed.
    const conversions: ConversionRow[] = rows.map((r) => ({
      key: r.key, leadId: r.leadId, stage: r.stage, conversionName: r.conversionName, value: r.value, currency: r.currency,
      occurredAt: r.occurredAt, click: r.click, email: null, phone: null, fbp: null,
    }))
    ctx.metrics.feedDownloads.inc({ kind: record.kind })
    reply.header('content-type', 'text/csv; charset=utf-8')
    reply.header('cache-control', 'no-store')
    reply.header('content-disposition', `attachment; filename="${record.id}.csv"`)
    return adapter.feed(conversions, destination)
  })
}
