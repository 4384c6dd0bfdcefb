// A local stand-in for Pipedrive's API on 127.0.0.1:0 (real HTTP), answering what the connector
// calls in the documented shapes: the {success, data, additional_data} envelope; deals, persons,
// organizations and stages (API v2) with cursor paging (additional_data.next_cursor), person search
// by e-mail, PATCH of custom_fields; person and deal fields (API v1, start/limit paging) whose
// custom fields are keyed by 40-character hashes, created by POST; deal participants (v1).
// The token is checked from the x-api-token header (or api_token query); errors are Pipedrive's
// {success:false, error, error_info}; `failNext` answers 429 with Retry-After and x-ratelimit-*.
// `sendWebhook` posts a webhook body to a collector the way Pipedrive does, with HTTP Basic auth.

import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { listenLocal } from './listen.js'

export interface PdStubDeal {
  id: number
  title: string
  stage_id: number
  pipeline_id: number
  status: 'open' | 'won' | 'lost' | 'deleted'
  value: number
  currency: string
  person_id: number | null
  org_id: number | null
  add_time: string
  update_time: string
  won_time: string | null
  lost_time: string | null
  close_time: string | null
  expected_close_date: string | null
  custom_fields: Record<string, unknown>
  /** People on the deal besides person_id (participants). */
  participants: number[]
}

export interface PdStubPerson {
  id: number
  name: string
  emails: Array<{ value: string; primary: boolean; label: string }>
  org_id: number | null
  custom_fields: Record<string, unknown>
}

export interface PdStubField { id: number; key: string; name: string; field_type: string; edit_flag: boolean }

export interface PipedriveStub {
  url: string
  token: string
  deals: Map<number, PdStubDeal>
  persons: Map<number, PdStubPerson>
  organizations: Map<number, { id: number; name: string }>
  stages: Map<number, { id: number; name: string; pipeline_id: number; order_nr: number }>
  personFields: PdStubField[]
  dealFields: PdStubField[]
  /** Every request: method, path with query, JSON body. */
  calls: Array<{ method: string; path: string; body: unknown }>
  /** The next `n` requests get `status` (429) with `Retry-After: retryAfter` seconds. */
  failNext(n: number, retryAfter: number, status?: number): void
  /** A custom field as the account would have it (40-character key); returns its key. */
  addField(entity: 'person' | 'deal', name: string): string
  /** The key of a custom field by name, if any. */
  keyOf(entity: 'person' | 'deal', name: string): string | undefined
  setDeal(deal: Partial<PdStubDeal> & { id: number }): PdStubDeal
  setPerson(person: Partial<PdStubPerson> & { id: number; email?: string }): PdStubPerson
  /** POSTs a webhook body to `url` as Pipedrive does, with HTTP Basic auth when `auth` is given. */
  sendWebhook(url: string, body: unknown, auth?: { user: string; password: string }): Promise<{ status: number; body: unknown }>
  close(): Promise<void>
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text === '' ? undefined : JSON.parse(text)
}

/** Pipedrive's opaque cursors: here the base64 of the next offset. */
const cursorOf = (offset: number): string => Buffer.from(`offset:${offset}`).toString('base64')
const offsetOf = (cursor: string | null): number => {
  if (cursor === null) return 0
  const m = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'))
  if (!m) throw new Error('bad cursor')
  return Number(m[1])
}

export async function startPipedriveStub(token = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0'): Promise<PipedriveStub> {
  const deals = new Map<number, PdStubDeal>()
  const persons = new Map<number, PdStubPerson>()
  const organizations = new Map<number, { id: number; name: string }>()
  const stages = new Map<number, { id: number; name: string; pipeline_id: number; order_nr: number }>([
    [1, { id: 1, name: 'Qualified', pipeline_id: 1, order_nr: 1 }],
    [2, { id: 2, name: 'Contact Made', pipeline_id: 1, order_nr: 2 }],
    [3, { id: 3, name: 'Proposal Made', pipeline_id: 1, order_nr: 3 }],
    [4, { id: 4, name: 'Negotiations Started', pipeline_id: 1, order_nr: 4 }],
  ])
  let fieldId = 9000
  // The built-in fields have plain keys; custom ones get hashes.
  const personFields: PdStubField[] = ['name', 'email', 'phone', 'org_id', 'owner_id'].map((k) => ({ id: ++fieldId, key: k, name: k === 'org_id' ? 'Organization' : k[0].toUpperCase() + k.slice(1), field_type: 'varchar', edit_flag: false }))
  const dealFields: PdStubField[] = ['title', 'value', 'stage_id', 'status', 'person_id'].map((k) => ({ id: ++fieldId, key: k, name: k, field_type: 'varchar', edit_flag: false }))
  const calls: PipedriveStub['calls'] = []
  let failures: Array<{ retryAfter: number; status: number }> = []

  const fieldsOf = (entity: 'person' | 'deal') => (entity === 'person' ? personFields : dealFields)
  const addField = (entity: 'person' | 'deal', name: string, type = 'varchar'): PdStubField => {
    const key = createHash('sha1').update(`${entity}:${name}:${fieldId}`).digest('hex')
    const f = { id: ++fieldId, key, name, field_type: type, edit_flag: true }
    fieldsOf(entity).push(f)
    return f
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stub')
      const body = await readBody(req)
      calls.push({ method: req.method ?? '', path: url.pathname + url.search, body })
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-ratelimit-limit': '80', 'x-ratelimit-remaining': '79', 'x-ratelimit-reset': '2', ...headers })
        res.end(JSON.stringify(json))
      }
      const ok = (data: unknown, additional: Record<string, unknown> | null = null) => send(200, { success: true, data, additional_data: additional })
      const error = (status: number, message: string) => send(status, { success: false, error: message, error_info: 'Please check developers.pipedrive.com for more information about Pipedrive API.', data: null, additional_data: null })
      if ((req.headers['x-api-token'] ?? url.searchParams.get('api_token')) !== token) return error(401, 'unauthorized access')
      const failure = failures.shift()
      if (failure) {
        return send(failure.status, { success: false, error: 'Request over limit', error_info: 'Please check developers.pipedrive.com', data: null, additional_data: null },
          { 'retry-after': String(failure.retryAfter), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(failure.retryAfter) })
      }
      const p = url.pathname
      const q = url.searchParams
      let m: RegExpExecArray | null

      if (req.method === 'GET' && (m = /^\/api\/v2\/stages\/(\d+)$/.exec(p))) {
        const s = stages.get(Number(m[1]))
        if (!s) return error(404, 'Stage not found')
        return ok({ ...s, is_deleted: false, deal_probability: 100, is_deal_rot_enabled: false, days_to_rotten: null, add_time: '2025-01-01T00:00:00Z', update_time: '2025-01-01T00:00:00Z' })
      }
      if ((m = /^\/api\/v2\/deals\/(\d+)$/.exec(p))) {
        const d = deals.get(Number(m[1]))
        if (!d || d.status === 'deleted') return error(404, 'Deal not found')
        if (req.method === 'PATCH') {
          Object.assign(d.custom_fields, (body as { custom_fields?: Record<string, unknown> }).custom_fields ?? {})
          d.update_time = iso(Date.now())
        } else if (req.method !== 'GET') return error(405, 'Method not allowed')
        const { participants: _p, ...out } = d
        return ok(out)
      }
      if (req.method === 'GET' && p === '/api/v2/deals') {
        const limit = Math.min(Number(q.get('limit') ?? 100), 500)
        const since = q.get('updated_since')
        if (since !== null && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(since)) return error(400, 'updated_since must be RFC3339')
        const person = q.get('person_id')
        let all = [...deals.values()].filter((d) => d.status !== 'deleted')
          .filter((d) => since === null || Date.parse(d.update_time) >= Date.parse(since))
          .filter((d) => person === null || d.person_id === Number(person))
        if (q.get('sort_by') === 'update_time') all = all.sort((a, b) => Date.parse(a.update_time) - Date.parse(b.update_time) || a.id - b.id)
        else all = all.sort((a, b) => a.id - b.id)
        if (q.get('sort_direction') === 'desc') all.reverse()
        const start = offsetOf(q.get('cursor'))
        const page = all.slice(start, start + limit).map(({ participants: _p, ...d }) => d)
        return ok(page, { next_cursor: start + limit < all.length ? cursorOf(start + limit) : null })
      }
      if (req.method === 'GET' && (m = /^\/api\/v1\/deals\/(\d+)\/participants$/.exec(p))) {
        const d = deals.get(Number(m[1]))
        if (!d) return error(404, 'Deal not found')
        const ids = [...new Set([...(d.person_id !== null ? [d.person_id] : []), ...d.participants])]
        const data = ids.map((id, i) => {
          const person = persons.get(id)
          return { id: 100 + i, person_id: { name: person?.name ?? '', email: person?.emails ?? [], value: id }, add_time: '2025-01-01 00:00:00', active_flag: true, related_item_data: { deal_id: { title: d.title, value: d.id } } }
        })
        return ok(data, { pagination: { start: 0, limit: Number(q.get('limit') ?? 100), more_items_in_collection: false } })
      }
      if (req.method === 'GET' && p === '/api/v2/persons/search') {
        const term = q.get('term') ?? ''
        if (term.length < 2) return error(400, 'term must be at least 2 characters')
        const exact = q.get('exact_match') === 'true'
        const items = [...persons.values()].filter((x) => x.emails.some((e) => (exact ? e.value.toLowerCase() === term.toLowerCase() : e.value.toLowerCase().includes(term.toLowerCase()))))
          .map((x) => ({ result_score: 1, item: { id: x.id, type: 'person', name: x.name, phones: [], emails: x.emails.map((e) => e.value), visible_to: 3, owner: { id: 1 }, organization: null, custom_fields: [], notes: [], update_time: '2025-01-01T00:00:00Z' } }))
        return ok({ items }, { next_cursor: null })
      }
      if ((m = /^\/api\/v2\/persons\/(\d+)$/.exec(p))) {
        const x = persons.get(Number(m[1]))
        if (!x) return error(404, 'Person not found')
        if (req.method === 'PATCH') Object.assign(x.custom_fields, (body as { custom_fields?: Record<string, unknown> }).custom_fields ?? {})
        else if (req.method !== 'GET') return error(405, 'Method not allowed')
        // custom_fields=k1,k2 narrows the custom fields returned (all by default).
        const only = q.get('custom_fields')
        const custom = only === null ? x.custom_fields : Object.fromEntries(only.split(',').filter((k) => k in x.custom_fields).map((k) => [k, x.custom_fields[k]]))
        return ok({ ...x, custom_fields: custom, first_name: x.name.split(' ')[0], last_name: x.name.split(' ').slice(1).join(' '), phones: [], owner_id: 1, add_time: '2025-01-01T00:00:00Z', update_time: '2025-01-01T00:00:00Z' })
      }
      if (req.method === 'GET' && (m = /^\/api\/v2\/organizations\/(\d+)$/.exec(p))) {
        const o = organizations.get(Number(m[1]))
        if (!o) return error(404, 'Organization not found')
        return ok({ ...o, owner_id: 1, add_time: '2025-01-01T00:00:00Z', update_time: '2025-01-01T00:00:00Z', custom_fields: {} })
      }
      if ((m = /^\/api\/v1\/(person|deal)Fields$/.exec(p))) {
        const entity = m[1] as 'person' | 'deal'
        if (req.method === 'POST') {
          const b = body as { name?: unknown; field_type?: unknown }
          if (typeof b?.name !== 'string' || b.name === '') return error(400, 'Name must be given.')
          if (typeof b.field_type !== 'string') return error(400, 'Field type must be given.')
          return ok(addField(entity, b.name, b.field_type))
        }
        const start = Number(q.get('start') ?? 0)
        const limit = Math.min(Number(q.get('limit') ?? 100), 500)
        const all = fieldsOf(entity)
        const more = start + limit < all.length
        return ok(all.slice(start, start + limit), { pagination: { start, limit, more_items_in_collection: more, ...(more ? { next_start: start + limit } : {}) } })
      }
      error(404, `no stub for ${req.method} ${p}`)
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
    persons,
    organizations,
    stages,
    personFields,
    dealFields,
    calls,
    failNext(n, retryAfter, status = 429) {
      failures = Array.from({ length: n }, () => ({ retryAfter, status }))
    },
    addField: (entity, name) => addField(entity, name).key,
    keyOf: (entity, name) => fieldsOf(entity).find((f) => f.name === name)?.key,
    setDeal(deal) {
      const now = iso(Date.now())
      const d: PdStubDeal = {
        title: `Deal ${deal.id}`, stage_id: 1, pipeline_id: 1, status: 'open', value: 0, currency: 'USD', person_id: null, org_id: null,
        add_time: now, update_time: now, won_time: null, lost_time: null, close_time: null, expected_close_date: null, custom_fields: {}, participants: [],
        ...deals.get(deal.id), ...deal,
      }
      deals.set(d.id, d)
      return d
    },
    setPerson({ email, ...person }) {
      const x: PdStubPerson = { name: `Person ${person.id}`, emails: [], org_id: null, custom_fields: {}, ...persons.get(person.id), ...person }
      if (email !== undefined) x.emails = [{ value: email, primary: true, label: 'work' }]
      persons.set(x.id, x)
      return x
    },
    async sendWebhook(target, body, auth) {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Pipedrive Webhooks' }
      if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`
      const r = await fetch(target, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
      const text = await r.text()
      let parsed: unknown = text
      try { parsed = JSON.parse(text) } catch { /* not JSON */ }
      return { status: r.status, body: parsed }
    },
    close: local.close,
  }
}
