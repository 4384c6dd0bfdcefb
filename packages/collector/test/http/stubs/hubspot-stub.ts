// A local stand-in for HubSpot's CRM API on 127.0.0.1:0 (real HTTP), answering the endpoints the
// connector calls in their documented shapes: deals and contacts (v3 objects, deal→contact
// associations, PATCH by ID or by `idProperty=email`), contact→deal associations (v4), deal
// pipelines, the deals search with paging, and the properties API (property groups and
// properties: 201 created, 409 when the name exists). Like HubSpot, a PATCH naming a property the
// portal does not have is refused whole with 400 PROPERTY_DOESNT_EXIST. Bearer auth is checked;
// `failNext` answers 429 with Retry-After. `sendWebhook` plays HubSpot's webhook sender: a batch
// signed with X-HubSpot-Signature-v3, POSTed to the collector.

import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { listenLocal } from './listen.js'

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
  /** Every request: method, path with query, JSON body, and the status it was answered with. */
  calls: Array<{ method: string; path: string; body: unknown; status: number }>
  /** Custom properties created through the properties API, by object type (`contacts`, `deals`). */
  properties: Record<'contacts' | 'deals', Map<string, Record<string, unknown>>>
  /** Property groups created, by object type. */
  groups: Record<'contacts' | 'deals', Map<string, Record<string, unknown>>>
  /**
   * HubSpot's webhook call: the events as a JSON array POSTed to `url` (the collector's inbound URL
   * as HubSpot calls it), signed v3 with the app's client secret; resolves to the answer's status.
   */
  sendWebhook(url: string, events: unknown[], clientSecret: string): Promise<number>
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

/** Properties every portal has (the default ones the connector reads) plus the visitor field the set-up guide creates. */
const BUILT_IN: Record<'contacts' | 'deals', readonly string[]> = {
  contacts: ['email', 'firstname', 'lastname', 'company', 'cl_visitor_id', 'hs_object_id'],
  deals: ['dealname', 'amount', 'dealstage', 'pipeline', 'closedate', 'deal_currency_code', 'hs_lastmodifieddate', 'hs_object_id'],
}

export async function startHubSpotStub(token = 'pat-na1-test-token'): Promise<HubSpotStub> {
  const deals = new Map<string, StubDeal>()
  const contacts = new Map<string, StubContact>()
  const calls: HubSpotStub['calls'] = []
  const properties: HubSpotStub['properties'] = { contacts: new Map(), deals: new Map() }
  const groups: HubSpotStub['groups'] = { contacts: new Map(), deals: new Map() }
  let failures: Array<{ retryAfter: number; status: number }> = []

  /** The 400 HubSpot answers a write naming unknown properties with, or null when all exist. */
  const unknownProperties = (type: 'contacts' | 'deals', values: Record<string, unknown>) => {
    const missing = Object.keys(values).filter((k) => !BUILT_IN[type].includes(k) && !properties[type].has(k))
    if (missing.length === 0) return null
    const errors = missing.map((name) => ({ isValid: false, message: `Property "${name}" does not exist`, error: 'PROPERTY_DOESNT_EXIST', name, localizedErrorMessage: `Property "${name}" does not exist` }))
    return { status: 'error', message: `Property values were not valid: ${JSON.stringify(errors)}`, correlationId: 'c0ffee00-0000-4000-8000-000000000000', category: 'VALIDATION_ERROR' }
  }

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
      const call: HubSpotStub['calls'][number] = { method: req.method ?? '', path: url.pathname + url.search, body, status: 0 }
      calls.push(call)
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        call.status = status
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
      if ((m = /^\/crm\/v3\/properties\/(contacts|deals)\/groups$/.exec(p)) && req.method === 'POST') {
        const type = m[1] as 'contacts' | 'deals'
        const g = body as { name?: unknown; label?: unknown }
        if (typeof g?.name !== 'string' || typeof g.label !== 'string') return send(400, { status: 'error', message: 'name and label are required', category: 'VALIDATION_ERROR' })
        if (groups[type].has(g.name)) return send(409, { status: 'error', message: `A property group named '${g.name}' already exists.`, category: 'OBJECT_ALREADY_EXISTS' })
        groups[type].set(g.name, { ...g, archived: false })
        return send(201, groups[type].get(g.name))
      }
      if ((m = /^\/crm\/v3\/properties\/(contacts|deals)$/.exec(p))) {
        const type = m[1] as 'contacts' | 'deals'
        if (req.method === 'GET') return send(200, { results: [...properties[type].values()] })
        if (req.method !== 'POST') return send(405, { status: 'error', message: 'method not allowed' })
        const q = body as { name?: unknown; label?: unknown; type?: unknown; fieldType?: unknown; groupName?: unknown }
        for (const f of ['name', 'label', 'type', 'fieldType', 'groupName'] as const) {
          if (typeof q?.[f] !== 'string') return send(400, { status: 'error', message: `${f} is required`, category: 'VALIDATION_ERROR' })
        }
        const name = q.name as string
        if (BUILT_IN[type].includes(name) || properties[type].has(name)) return send(409, { status: 'error', message: `Property named '${name}' already exists.`, category: 'OBJECT_ALREADY_EXISTS' })
        if (!groups[type].has(q.groupName as string) && q.groupName !== `${type.slice(0, -1)}information`) {
          return send(400, { status: 'error', message: `group ${String(q.groupName)} does not exist`, category: 'VALIDATION_ERROR' })
        }
        properties[type].set(name, { ...q, createdAt: new Date().toISOString(), archived: false })
        return send(201, properties[type].get(name))
      }
      if ((m = /^\/crm\/v3\/objects\/deals\/(\d+)$/.exec(p))) {
        const d = deals.get(m[1])
        if (!d) return send(404, { status: 'error', message: 'Object not found.', category: 'OBJECT_NOT_FOUND' })
        if (req.method === 'PATCH') {
          const values = (body as { properties: Record<string, string> }).properties
          const refused = unknownProperties('deals', values)
          if (refused) return send(400, refused)
          Object.assign(d.properties, values)
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
          const values = (body as { properties: Record<string, string> }).properties
          const refused = unknownProperties('contacts', values)
          if (refused) return send(400, refused)
          Object.assign(c.properties, values)
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
  const local = await listenLocal(server)
  return {
    url: local.url,
    token,
    deals,
    contacts,
    calls,
    properties,
    groups,
    async sendWebhook(url, events, clientSecret) {
      const body = JSON.stringify(events)
      const ts = String(Date.now())
      // HubSpot's v3 signature: base64 HMAC-SHA256 of method + URI + body + timestamp, keyed by the client secret.
      const signature = createHmac('sha256', clientSecret).update(`POST${url}${body}${ts}`).digest('base64')
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/)', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': ts },
        body,
      })
      await res.body?.cancel()
      return res.status
    },
    failNext(n, retryAfter, status = 429) {
      failures = Array.from({ length: n }, () => ({ retryAfter, status }))
    },
    setDeal(deal) {
      deals.set(deal.id, deal)
    },
    close: local.close,
  }
}
