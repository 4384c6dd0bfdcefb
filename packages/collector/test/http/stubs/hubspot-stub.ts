// A local stand-in for HubSpot's CRM API on 127.0.0.1:0 (real HTTP), answering the endpoints the
// connector calls in their documented shapes: deals and contacts (v3 objects, deal→contact
// associations), contact→deal associations (v4), deal pipelines, the deals search with paging,
// and PATCH for write-back. Bearer auth is checked; `failNext` answers 429 with Retry-After.

import { createServer, type IncomingMessage, type Server } from 'node:http'

export interface StubDeal {
  id: string
  properties: Record<string, string | null>
  contacts: string[]
}

export interface StubContact {
  id: string
  properties: Record<string, string | null>
}

export interface HubSpotStub {
  url: string
  token: string
  deals: Map<string, StubDeal>
  contacts: Map<string, StubContact>
  /** Every request: method and path with query. */
  calls: Array<{ method: string; path: string; body: unknown }>
  /** The next `n` requests get 429 with `Retry-After: retryAfter` (seconds). */
  failNext(n: number, retryAfter: number, status?: number): void
  setDeal(deal: StubDeal): void
  close(): Promise<void>
}

export const PIPELINES = {
  results: [{
    id: 'default', label: 'Sales Pipeline', displayOrder: 0, archived: false,
    stages: [
      { id: 'appointmentscheduled', label: 'Appointment Scheduled', displayOrder: 0, archived: false, metadata: { isClosed: 'false', probability: '0.2' } },
      { id: '1234567', label: 'Verbal yes', displayOrder: 1, archived: false, metadata: { isClosed: 'false', probability: '0.9' } },
      { id: 'closedwon', label: 'Closed Won', displayOrder: 2, archived: false, metadata: { isClosed: 'true', probability: '1.0' } },
      { id: '7654321', label: 'Signed (finance)', displayOrder: 3, archived: false, metadata: { isClosed: 'true', probability: '1.0' } },
      { id: 'closedlost', label: 'Closed Lost', displayOrder: 4, archived: false, metadata: { isClosed: 'true', probability: '0.0' } },
    ],
  }],
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text === '' ? undefined : JSON.parse(text)
}

export async function startHubSpotStub(token = 'pat-na1-test-token'): Promise<HubSpotStub> {
  const deals = new Map<string, StubDeal>()
  const contacts = new Map<string, StubContact>()
  const calls: HubSpotStub['calls'] = []
  let failures: Array<{ retryAfter: number; status: number }> = []

  const object = (id: string, properties: Record<string, string | null>, extra: Record<string, unknown> = {}) => ({
    id, properties: { hs_object_id: id, ...properties }, createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: properties.hs_lastmodifieddate != null ? new Date(Number(properties.hs_lastmodifieddate)).toISOString() : '2026-01-01T00:00:00.000Z', archived: false, ...extra,
  })
  const pick = (props: Record<string, string | null>, wanted: string | null) =>
    wanted === null ? props : Object.fromEntries(wanted.split(',').filter((k) => k in props).map((k) => [k, props[k]]))

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stub')
      const body = await readBody(req)
      calls.push({ method: req.method ?? '', path: url.pathname + url.search, body })
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(json))
      }
      if (req.headers.authorization !== `Bearer ${token}`) {
        return send(401, { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' })
      }
      const failure = failures.shift()
      if (failure) return send(failure.status, { status: 'error', message: 'You have reached your secondly limit.', category: 'RATE_LIMITS' }, { 'retry-after': String(failure.retryAfter) })
      const p = url.pathname
      let m: RegExpExecArray | null
      if (req.method === 'GET' && p === '/crm/v3/pipelines/deals') return send(200, PIPELINES)
      if ((m = /^\/crm\/v3\/objects\/deals\/(\d+)$/.exec(p))) {
        const d = deals.get(m[1])
        if (!d) return send(404, { status: 'error', message: 'Object not found.', category: 'OBJECT_NOT_FOUND' })
        if (req.method === 'PATCH') {
          Object.assign(d.properties, (body as { properties: Record<string, string> }).properties)
          return send(200, object(d.id, d.properties))
        }
        const assoc = url.searchParams.get('associations') === 'contacts' && d.contacts.length > 0
          ? { associations: { contacts: { results: d.contacts.map((id) => ({ id, type: 'deal_to_contact' })) } } }
          : {}
        return send(200, object(d.id, pick(d.properties, url.searchParams.get('properties')), assoc))
      }
      if ((m = /^\/crm\/v3\/objects\/contacts\/([^/]+)$/.exec(p))) {
        const key = decodeURIComponent(m[1])
        const c = url.searchParams.get('idProperty') === 'email' ? [...contacts.values()].find((x) => x.properties.email === key) : contacts.get(key)
        if (!c) return send(404, { status: 'error', message: 'Object not found.', category: 'OBJECT_NOT_FOUND' })
        if (req.method === 'PATCH') {
          Object.assign(c.properties, (body as { properties: Record<string, string> }).properties)
          return send(200, object(c.id, c.properties))
        }
        return send(200, object(c.id, pick(c.properties, url.searchParams.get('properties'))))
      }
      if ((m = /^\/crm\/v4\/objects\/contacts\/(\d+)\/associations\/deals$/.exec(p))) {
        const results = [...deals.values()].filter((d) => d.contacts.includes(m![1])).map((d) => ({ toObjectId: Number(d.id), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 4, label: null }] }))
        return send(200, { results })
      }
      if (req.method === 'POST' && p === '/crm/v3/objects/deals/search') {
        const q = body as { filterGroups?: Array<{ filters: Array<{ propertyName: string; operator: string; value: string }> }>; limit?: number; after?: string }
        const f = q.filterGroups?.[0]?.filters?.[0]
        const since = f?.propertyName === 'hs_lastmodifieddate' && f.operator === 'GTE' ? Number(f.value) : 0
        const all = [...deals.values()]
          .filter((d) => Number(d.properties.hs_lastmodifieddate ?? 0) >= since)
          .sort((a, b) => Number(a.properties.hs_lastmodifieddate ?? 0) - Number(b.properties.hs_lastmodifieddate ?? 0))
        const start = Number(q.after ?? 0)
        const limit = Math.min(q.limit ?? 10, 200)
        const page = all.slice(start, start + limit)
        const more = start + limit < all.length
        return send(200, {
          total: all.length,
          results: page.map((d) => object(d.id, { hs_lastmodifieddate: d.properties.hs_lastmodifieddate ?? null })),
          ...(more ? { paging: { next: { after: String(start + limit), link: '' } } } : {}),
        })
      }
      send(404, { status: 'error', message: `no stub for ${req.method} ${p}` })
    })().catch((err: unknown) => {
      res.writeHead(500)
      res.end(String(err))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    url: `http://127.0.0.1:${address.port}`,
    token,
    deals,
    contacts,
    calls,
    failNext(n, retryAfter, status = 429) {
      failures = Array.from({ length: n }, () => ({ retryAfter, status }))
    },
    setDeal(deal) {
      deals.set(deal.id, deal)
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
