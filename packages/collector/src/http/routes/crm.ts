// POST /v1/crm/{kind}/{connectionId}[/{pathToken}]: a CRM's webhook, for every connector (a CRM
// that cannot sign its requests is called on a URL ending in a secret token, which its connector checks). The exact bytes are
// verified by the connector (signatures cover them), the changes parsed and committed to the
// durable inbox, and only then answered; the inbox worker (crm/inbox.ts) reads the deals later.
// No bot filter: CRMs call with non-browser user agents.

import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RouteModule } from '../context.js'
import { clError } from '../../errors.js'
import type { CrmInboxItem, InboundRequest } from '../../integrations/crm/adapter.js'
import { connectionStatus, loadConnection, publicUrlOf } from '../../integrations/crm/connections.js'
import { authenticateSecret } from '../auth.js'

/** CRMs batch webhooks (HubSpot: up to 100 events); far below this. */
const CRM_BODY_LIMIT = 2 * 1024 * 1024

/** The inbox key of an item: the CRM's notification ID, else what the change is about. */
const keyOf = (i: CrmInboxItem): string => i.eventId !== null ? `event:${i.eventId}` : `${i.object}:${i.id}:${i.change}:${i.occurredAt}`

export const crmRoute: RouteModule = (app, ctx) => {
  // The site's connections and how they are doing (the dashboard's data quality view shows them).
  app.get('/v1/crm/connections', async (request) => {
    const site = await authenticateSecret(request, ctx)
    const all = await ctx.store.listCrmConnections()
    const outbox = new Map((await ctx.store.crmOutboxCounts()).map((o) => [o.connectionId, o]))
    return { connections: all.filter((c) => c.siteId === site.id).map((c) => connectionStatus(c, outbox.get(c.id))) }
  })

  // A scope of its own: signatures need the raw body, whatever its content type.
  void app.register(async (scoped) => {
    scoped.removeAllContentTypeParsers()
    scoped.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

    type Params = { kind: string; connectionId: string; pathToken?: string }
    const handler = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
      const { kind, connectionId, pathToken } = request.params
      const record = await ctx.store.getCrmConnection(connectionId)
      if (record === null || record.kind !== kind) throw clError('CRM_CONNECTION_NOT_FOUND')
      const { adapter, connection } = loadConnection(record, ctx.integrationKey)
      if (pathToken !== undefined && adapter.pathTokenOption === undefined) throw clError('CRM_CONNECTION_NOT_FOUND')

      // The URL the CRM called: behind a proxy, the configured public URL + the path under the base path.
      const base = publicUrlOf(record) ?? ctx.config.publicUrl
      const local = ctx.config.basePath !== '' && request.url.startsWith(ctx.config.basePath) ? request.url.slice(ctx.config.basePath.length) : request.url
      const url = base !== null ? base + local : `${request.protocol}://${request.host}${request.url}`
      const headers: Record<string, string | undefined> = {}
      for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      const inbound: InboundRequest = { method: request.method, url, headers, rawBody, ...(pathToken !== undefined ? { pathToken } : {}) }

      const verdict = adapter.verify(inbound, connection, Date.now())
      if (!verdict.ok) throw clError(verdict.error, verdict.message)
      const items = adapter.parse(rawBody, connection)
      const { stored, duplicates } = await ctx.store.enqueueCrmInbox(
        record.id, items.map((i) => ({ key: keyOf(i), item: JSON.stringify(i) })), Date.now(),
      )
      if (stored > 0) ctx.metrics.crmEvents.inc({ kind, outcome: 'stored' }, stored)
      if (duplicates > 0) ctx.metrics.crmEvents.inc({ kind, outcome: 'duplicate' }, duplicates)
      if (stored > 0) ctx.crmInbox.wake()
      const answer = adapter.inboundReply?.(items)
      if (answer) return reply.code(answer.status).type(answer.contentType).send(answer.body)
      return { ok: true, stored, duplicates }
    }
    scoped.post<{ Params: Params }>('/v1/crm/:kind/:connectionId', { bodyLimit: CRM_BODY_LIMIT }, handler)
    scoped.post<{ Params: Params }>('/v1/crm/:kind/:connectionId/:pathToken', { bodyLimit: CRM_BODY_LIMIT }, handler)
  })
}
