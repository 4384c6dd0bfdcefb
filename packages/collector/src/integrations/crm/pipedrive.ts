// Pipedrive: webhooks (v2, and v1 bodies) checked by their HTTP Basic auth pair → inbox items,
// deals read through API v2 with their stage, persons (e-mails, the cl_visitor_id custom field,
// organization) and participants, pulls of changed deals by update_time with cursor paging, and
// write-back of the attribution fields into custom fields created on first use.

import { safeEqual, text } from '../options.js'
import { clError } from '../../errors.js'
import { parseIsoTime } from '../../ingest/dates.js'
import { parseRetryAfter } from '../backoff.js'
import type { DeliveryResult, IntegrationEnv, RawOptions } from '../types.js'
import {
  CrmCallError, type CrmAdapter, type CrmConnection, type CrmContact, type CrmDeal, type CrmDealPage, type CrmInboxItem, type CrmWriteBack,
  type InboundRequest, type VerifyResult,
} from './adapter.js'

export interface PipedriveOptions {
  /** Personal API token, sent as the `x-api-token` header. */
  apiToken: string
  /** API origin, default https://api.pipedrive.com; a company domain (https://acme.pipedrive.com) works too. */
  apiBase: string
  /** The webhook's HTTP auth pair (Pipedrive's http_auth_user / http_auth_password). */
  webhookUser: string
  webhookPassword: string
}

export const PIPEDRIVE_API = 'https://api.pipedrive.com'
/** The person custom field the tracker's hidden form field fills, found by its name. */
export const VISITOR_FIELD = 'cl_visitor_id'
/** Deals per pull page (Pipedrive allows up to 500). */
const PAGE = 100
/** People read per deal: more is a buying committee beyond what a deal may name. */
const MAX_CONTACTS = 50
/** Stage names and custom field keys change rarely. */
const CACHE_TTL_MS = 10 * 60_000
/** Before creating a field, the list is read again unless this fresh (another collector may have made it). */
const RECHECK_MS = 5_000

type Entity = 'person' | 'deal'
const stageCache = new Map<string, { at: number; name: string }>()
/** Per connection and entity: custom field name (lower-case) → its 40-character key. */
const fieldCache = new Map<string, { at: number; keys: Map<string, string> }>()
/** Field creations in flight, so concurrent write-backs create a field once. */
const creating = new Map<string, Promise<string>>()

/** The webhook's `Authorization: Basic` header against the configured pair. */
export function verifyBasicAuth(request: InboundRequest, user: string, password: string): VerifyResult {
  const bad = (message: string): VerifyResult => ({ ok: false, error: 'BAD_SIGNATURE', message })
  const header = request.headers.authorization
  if (header === undefined) return bad('Authorization (HTTP Basic) is required: set the webhook\'s HTTP auth user and password')
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!m) return bad('Authorization must be HTTP Basic')
  const pair = Buffer.from(m[1], 'base64').toString('utf8')
  return safeEqual(pair, `${user}:${password}`) ? { ok: true } : bad('HTTP Basic credentials do not match the connection\'s --webhook-user/--webhook-password')
}

const idOf = (v: unknown): string | null =>
  (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && /^\d{1,20}$/.test(v)) ? String(v) : null

const V2_ACTIONS: Record<string, CrmInboxItem['change']> = { create: 'created', change: 'changed', delete: 'deleted' }
// v1 names; a merge leaves the surviving object changed.
const V1_ACTIONS: Record<string, CrmInboxItem['change']> = { added: 'created', updated: 'changed', merged: 'changed', deleted: 'deleted' }

/** Which changes matter: any deal change; a person's change (its e-mail or visitor ID) re-reads its deals. */
function wanted(entity: string, change: CrmInboxItem['change']): CrmInboxItem['object'] | null {
  if (entity === 'deal') return 'deal'
  if (entity === 'person' && change === 'changed') return 'contact'
  return null
}

/** One webhook body (Pipedrive sends one event per request) → at most one inbox item. */
export function parsePipedriveWebhook(rawBody: Buffer): CrmInboxItem[] {
  let body: unknown
  try {
    body = JSON.parse(rawBody.toString('utf8'))
  } catch {
    throw clError('VALIDATION', 'Pipedrive webhook body is not JSON')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw clError('VALIDATION', 'Pipedrive webhook body must be a JSON object')
  const meta = (body as { meta?: unknown }).meta
  if (typeof meta !== 'object' || meta === null) throw clError('VALIDATION', 'meta is required (a Pipedrive webhook body has meta, data and previous)')
  const m = meta as Record<string, unknown>

  if (typeof m.entity === 'string' || String(m.version ?? '').startsWith('2')) {
    if (typeof m.entity !== 'string') throw clError('VALIDATION', 'meta.entity is required')
    if (typeof m.action !== 'string' || V2_ACTIONS[m.action] === undefined) {
      throw clError('VALIDATION', `meta.action must be create, change or delete (got ${JSON.stringify(String(m.action ?? '')).slice(0, 40)})`)
    }
    const change = V2_ACTIONS[m.action]
    const object = wanted(m.entity, change)
    if (object === null) return []
    const id = idOf(m.entity_id)
    if (id === null) throw clError('VALIDATION', 'meta.entity_id must be a Pipedrive ID')
    if (typeof m.id !== 'string' || m.id.trim() === '' || m.id.length > 100) throw clError('VALIDATION', 'meta.id (the event ID) is required')
    const occurredAt = typeof m.timestamp === 'string' ? parseIsoTime(m.timestamp) : null
    if (occurredAt === null) throw clError('VALIDATION', 'meta.timestamp must be an ISO 8601 time')
    return [{ object, id, change, occurredAt, eventId: m.id }]
  }

  // Webhooks v1: meta.object / meta.action / meta.id. They carry no event ID; a redelivery has the
  // same meta, so the inbox's key of object, ID, change and time still recognises it.
  if (typeof m.object === 'string' && typeof m.action === 'string') {
    const change = V1_ACTIONS[m.action]
    if (change === undefined) throw clError('VALIDATION', `meta.action must be added, updated, merged or deleted (got ${JSON.stringify(m.action).slice(0, 40)})`)
    const object = wanted(m.object, change)
    if (object === null) return []
    const id = idOf(m.id)
    if (id === null) throw clError('VALIDATION', 'meta.id must be a Pipedrive ID')
    const micro = typeof m.timestamp_micro === 'number' ? Math.floor(m.timestamp_micro / 1000) : null
    const occurredAt = micro ?? (typeof m.timestamp === 'number' ? m.timestamp * 1000 : NaN)
    if (!Number.isFinite(occurredAt)) throw clError('VALIDATION', 'meta.timestamp must be epoch seconds')
    return [{ object, id, change, occurredAt, eventId: null }]
  }
  throw clError('VALIDATION', 'meta must name the entity (webhooks v2: meta.entity, meta.action) or the object (v1: meta.object, meta.action)')
}

function headers(o: PipedriveOptions, json: boolean): Record<string, string> {
  return { 'x-api-token': o.apiToken, accept: 'application/json', ...(json ? { 'content-type': 'application/json' } : {}) }
}

/** Pipedrive's error JSON ({success:false, error, error_info}) → one line. */
async function reasonOf(res: Response): Promise<string> {
  const raw = (await res.text().catch(() => '')).slice(0, 1000)
  try {
    const j = JSON.parse(raw) as { error?: unknown; error_info?: unknown }
    const parts = [j.error, j.error_info].filter((x): x is string => typeof x === 'string' && x !== '')
    if (parts.length > 0) return parts.join(' — ').slice(0, 200)
  } catch { /* not JSON: the text itself */ }
  return raw.slice(0, 200)
}

/** When a 429 may be retried: Retry-After, else x-ratelimit-reset (seconds until the window resets). */
function retryAfterOf(res: Response, now: number): number | null {
  const after = parseRetryAfter(res.headers.get('retry-after'), now)
  if (after !== null) return after
  const reset = res.headers.get('x-ratelimit-reset')
  return reset !== null && /^\d+$/.test(reset.trim()) ? Number(reset.trim()) * 1000 : null
}

type Envelope = { success?: boolean; data?: unknown; additional_data?: Record<string, unknown> | null }

/** One API call: the envelope back, or null for a 404 when `missingOk`; a CrmCallError otherwise. */
async function call(o: PipedriveOptions, env: IntegrationEnv, method: string, path: string, body?: unknown, missingOk = false): Promise<Envelope | null> {
  let res: Response
  try {
    res = await env.fetch(o.apiBase + path, { method, headers: headers(o, body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal: env.signal })
  } catch (err) {
    throw new CrmCallError(`Pipedrive unreachable: ${err instanceof Error ? err.message : String(err)}`, true)
  }
  if (res.status === 404 && missingOk) {
    await res.body?.cancel()
    return null
  }
  if (!res.ok) {
    const retry = res.status === 429 || res.status >= 500
    const after = retry ? retryAfterOf(res, env.now()) : null
    const detail = await reasonOf(res)
    throw new CrmCallError(`Pipedrive answered ${res.status} to ${method} ${path.split('?')[0]}${detail ? `: ${detail}` : ''}`, retry, after)
  }
  const json = (await res.json()) as Envelope
  if (json.success === false) throw new CrmCallError(`Pipedrive refused ${method} ${path.split('?')[0]}: ${JSON.stringify(json).slice(0, 200)}`, false)
  return json
}

/** Pipedrive times: RFC 3339 (API v2), "YYYY-MM-DD HH:MM:SS" documented as UTC (v1), or a day. */
const time = (v: unknown): number | null => (typeof v === 'string' ? parseIsoTime(v, { zoneless: 'utc' }) : null)

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null)

/** A custom field value as API v2 returns it: the value itself, or {value, …} for typed fields. */
function customValue(fields: unknown, key: string | null): string | null {
  if (key === null || typeof fields !== 'object' || fields === null) return null
  const v = (fields as Record<string, unknown>)[key]
  if (typeof v === 'object' && v !== null) return str((v as { value?: unknown }).value)
  return typeof v === 'number' ? String(v) : str(v)
}

const fieldsPath = (entity: Entity): string => `/api/v1/${entity}Fields`

/** The connection's custom fields of one entity, by lower-cased name, read through its pages. */
async function loadFields(o: PipedriveOptions, env: IntegrationEnv, cacheKey: string, entity: Entity): Promise<Map<string, string>> {
  const keys = new Map<string, string>()
  for (let start = 0, pages = 0; pages < 20; pages++) {
    const page = await call(o, env, 'GET', `${fieldsPath(entity)}?start=${start}&limit=500`)
    for (const f of (page?.data as Array<{ key?: unknown; name?: unknown }> | null) ?? []) {
      if (typeof f.key === 'string' && typeof f.name === 'string' && !keys.has(f.name.trim().toLowerCase())) keys.set(f.name.trim().toLowerCase(), f.key)
    }
    const p = (page?.additional_data?.pagination ?? {}) as { more_items_in_collection?: unknown; next_start?: unknown }
    if (p.more_items_in_collection !== true || typeof p.next_start !== 'number') break
    start = p.next_start
  }
  fieldCache.set(cacheKey, { at: env.now(), keys })
  return keys
}

/** The key of a custom field by name; null when the account has none (read again after the TTL). */
async function fieldKey(connection: CrmConnection<PipedriveOptions>, env: IntegrationEnv, entity: Entity, name: string, maxAgeMs = CACHE_TTL_MS): Promise<string | null> {
  const cacheKey = `${connection.id}:${entity}`
  const cached = fieldCache.get(cacheKey)
  const keys = cached && env.now() - cached.at < maxAgeMs ? cached.keys : await loadFields(connection.options, env, cacheKey, entity)
  return keys.get(name.toLowerCase()) ?? null
}

/** The key of a custom text field, created on first use. */
async function ensureField(connection: CrmConnection<PipedriveOptions>, env: IntegrationEnv, entity: Entity, name: string): Promise<string> {
  const known = await fieldKey(connection, env, entity, name)
  if (known !== null) return known
  const flight = `${connection.id}:${entity}:${name}`
  const pending = creating.get(flight)
  if (pending) return pending
  const made = (async () => {
    const again = await fieldKey(connection, env, entity, name, RECHECK_MS)
    if (again !== null) return again
    const created = await call(connection.options, env, 'POST', fieldsPath(entity), { name, field_type: 'varchar' })
    const key = (created?.data as { key?: unknown } | null)?.key
    if (typeof key !== 'string') throw new CrmCallError(`Pipedrive created ${entity} field "${name}" without a key`, false)
    fieldCache.get(`${connection.id}:${entity}`)?.keys.set(name.toLowerCase(), key)
    return key
  })()
  creating.set(flight, made)
  try {
    return await made
  } finally {
    creating.delete(flight)
  }
}

async function stageName(connection: CrmConnection<PipedriveOptions>, env: IntegrationEnv, stageId: string): Promise<string> {
  const key = `${connection.id}:${stageId}`
  const cached = stageCache.get(key)
  if (cached && env.now() - cached.at < CACHE_TTL_MS) return cached.name
  const s = await call(connection.options, env, 'GET', `/api/v2/stages/${encodeURIComponent(stageId)}`, undefined, true)
  const name = str((s?.data as { name?: unknown } | null)?.name) ?? stageId
  stageCache.set(key, { at: env.now(), name })
  return name
}

async function orgName(o: PipedriveOptions, env: IntegrationEnv, orgId: string | null, names: Map<string, string | null>): Promise<string | null> {
  if (orgId === null) return null
  if (names.has(orgId)) return names.get(orgId) ?? null
  const org = await call(o, env, 'GET', `/api/v2/organizations/${encodeURIComponent(orgId)}`, undefined, true)
  const name = str((org?.data as { name?: unknown } | null)?.name)
  names.set(orgId, name)
  return name
}

type PdEmail = { value?: unknown; primary?: unknown }
type PdPerson = { id?: unknown; emails?: PdEmail[]; org_id?: unknown; custom_fields?: unknown }

async function readPerson(connection: CrmConnection<PipedriveOptions>, env: IntegrationEnv, id: string, orgs: Map<string, string | null>): Promise<CrmContact | null> {
  const o = connection.options
  const visitorKey = await fieldKey(connection, env, 'person', VISITOR_FIELD)
  const query = visitorKey !== null ? `?custom_fields=${visitorKey}` : ''
  const res = await call(o, env, 'GET', `/api/v2/persons/${encodeURIComponent(id)}${query}`, undefined, true)
  const p = res?.data as PdPerson | null | undefined
  if (!p) return null
  const emails = Array.isArray(p.emails) ? p.emails : []
  // The primary address first, then the others in order.
  const email = [...emails].sort((a, b) => Number(b.primary === true) - Number(a.primary === true)).map((e) => str(e.value)).find((e) => e !== null) ?? null
  return { id, email, visitorId: customValue(p.custom_fields, visitorKey), company: await orgName(o, env, idOf(p.org_id), orgs) }
}

/** The IDs of a deal's participants (people beyond its main person), at most MAX_CONTACTS. */
async function participants(o: PipedriveOptions, env: IntegrationEnv, dealId: string): Promise<string[]> {
  const res = await call(o, env, 'GET', `/api/v1/deals/${encodeURIComponent(dealId)}/participants?start=0&limit=${MAX_CONTACTS}`, undefined, true)
  const rows = (res?.data as Array<{ person_id?: unknown; person?: { id?: unknown } }> | null) ?? []
  return rows.map((r) => idOf(typeof r.person_id === 'object' && r.person_id !== null ? (r.person_id as { value?: unknown }).value : r.person_id) ?? idOf(r.person?.id))
    .filter((x): x is string => x !== null)
}

type PdDeal = {
  id?: unknown; stage_id?: unknown; status?: unknown; value?: unknown; currency?: unknown; person_id?: unknown; org_id?: unknown
  won_time?: unknown; lost_time?: unknown; close_time?: unknown; expected_close_date?: unknown; update_time?: unknown
}

/** A deal record (API v2) → CrmDeal, reading its stage and people. null for a deleted deal. */
async function toCrmDeal(connection: CrmConnection<PipedriveOptions>, env: IntegrationEnv, d: PdDeal, fallbackId: string): Promise<CrmDeal | null> {
  const o = connection.options
  const id = idOf(d.id) ?? fallbackId
  const status = str(d.status)
  if (status === 'deleted') return null
  const stageId = idOf(d.stage_id) ?? ''
  const label = stageId === '' ? '' : await stageName(connection, env, stageId)
  const closed = status === 'won' ? 'won' : status === 'lost' ? 'lost' : null
  const personIds = [...new Set([idOf(d.person_id), ...await participants(o, env, id)].filter((x): x is string => x !== null))].slice(0, MAX_CONTACTS)
  const orgs = new Map<string, string | null>()
  const contacts: CrmContact[] = []
  for (const pid of personIds) {
    const c = await readPerson(connection, env, pid, orgs)
    if (c) contacts.push(c)
  }
  // A person without an organization of their own takes the deal's.
  const dealOrg = await orgName(o, env, idOf(d.org_id), orgs)
  if (dealOrg !== null) for (const c of contacts) c.company ??= dealOrg
  const closeDate = closed === 'won' ? time(d.won_time) ?? time(d.close_time)
    : closed === 'lost' ? time(d.lost_time) ?? time(d.close_time)
      : time(d.expected_close_date)
  const amount = typeof d.value === 'number' ? d.value : typeof d.value === 'string' && d.value.trim() !== '' ? Number(d.value) : null
  return {
    id,
    stage: { id: stageId, label, closed },
    amount: amount === null || !Number.isFinite(amount) ? null : amount,
    currency: str(d.currency)?.toUpperCase() ?? null,
    closeDate,
    modifiedAt: time(d.update_time) ?? env.now(),
    contacts,
  }
}

async function readDeal(connection: CrmConnection<PipedriveOptions>, dealId: string, env: IntegrationEnv): Promise<CrmDeal | null> {
  const res = await call(connection.options, env, 'GET', `/api/v2/deals/${encodeURIComponent(dealId)}`, undefined, true)
  const d = res?.data as PdDeal | null | undefined
  return d ? toCrmDeal(connection, env, d, dealId) : null
}

/** Cursor: `<since ms>` between pulls, `<since ms>:<Pipedrive's next_cursor>` inside a pull's paging. */
function parseCursor(cursor: string | null): { since: number; after: string | null } {
  const m = /^(\d+)(?::(.+))?$/.exec(cursor ?? '')
  return m ? { since: Number(m[1]), after: m[2] ?? null } : { since: 0, after: null }
}

/** RFC 3339 to the second, as updated_since takes it. */
const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

async function fetchChanged(connection: CrmConnection<PipedriveOptions>, cursor: string | null, env: IntegrationEnv): Promise<CrmDealPage> {
  const { since, after } = parseCursor(cursor)
  // updated_since is inclusive: a deal changed in the cursor's second is read again (idempotent).
  const q = new URLSearchParams({ sort_by: 'update_time', sort_direction: 'asc', limit: String(PAGE) })
  if (since > 0) q.set('updated_since', rfc3339(since))
  if (after !== null) q.set('cursor', after)
  const page = await call(connection.options, env, 'GET', `/api/v2/deals?${q.toString()}`)
  const deals: CrmDeal[] = []
  let newest = since
  for (const d of (page?.data as PdDeal[] | null) ?? []) {
    const id = idOf(d.id)
    if (id === null) continue
    const deal = await toCrmDeal(connection, env, d, id)
    if (deal === null) continue
    deals.push(deal)
    newest = Math.max(newest, deal.modifiedAt)
  }
  const next = page?.additional_data?.next_cursor
  if (typeof next === 'string' && next !== '') return { deals, cursor: `${since}:${next}`, more: true }
  return { deals, cursor: String(newest), more: false }
}

async function dealsOfContact(connection: CrmConnection<PipedriveOptions>, contactId: string, env: IntegrationEnv): Promise<string[]> {
  const ids = new Set<string>()
  let cursor: string | null = null
  for (let pages = 0; pages < 10; pages++) {
    const q = new URLSearchParams({ person_id: contactId, limit: '500', ...(cursor !== null ? { cursor } : {}) })
    const page = await call(connection.options, env, 'GET', `/api/v2/deals?${q.toString()}`, undefined, true)
    for (const d of (page?.data as PdDeal[] | null) ?? []) {
      const id = idOf(d.id)
      if (id !== null) ids.add(id)
    }
    const next = page?.additional_data?.next_cursor
    if (typeof next !== 'string' || next === '') break
    cursor = next
  }
  return [...ids]
}

/** The person with this e-mail (exact match), or null. */
async function personByEmail(o: PipedriveOptions, env: IntegrationEnv, email: string): Promise<string | null> {
  const q = new URLSearchParams({ term: email, fields: 'email', exact_match: 'true', limit: '1' })
  const res = await call(o, env, 'GET', `/api/v2/persons/search?${q.toString()}`)
  const items = ((res?.data as { items?: Array<{ item?: { id?: unknown } }> } | null)?.items) ?? []
  return items.map((i) => idOf(i.item?.id)).find((x) => x !== null) ?? null
}

async function writeBack(connection: CrmConnection<PipedriveOptions>, write: CrmWriteBack, env: IntegrationEnv): Promise<DeliveryResult> {
  const o = connection.options
  try {
    let path: string
    let entity: Entity
    if (write.object === 'deal') {
      entity = 'deal'
      path = `/api/v2/deals/${encodeURIComponent(write.dealId)}`
    } else {
      entity = 'person'
      const id = write.contactId ?? (write.email !== null ? await personByEmail(o, env, write.email) : null)
      if (id === null) return { status: 'failed', reason: `No Pipedrive person has the e-mail ${write.email ?? '(none given)'}` }
      path = `/api/v2/persons/${encodeURIComponent(id)}`
    }
    const custom: Record<string, string | null> = {}
    for (const [name, value] of Object.entries(write.fields)) custom[await ensureField(connection, env, entity, name)] = value
    await call(o, env, 'PATCH', path, { custom_fields: custom })
    return { status: 'sent' }
  } catch (err) {
    const e = err instanceof CrmCallError ? err : new CrmCallError(String(err), true)
    return e.retry ? { status: 'retry', retryAfterMs: e.retryAfterMs, reason: e.message } : { status: 'failed', reason: e.message }
  }
}

export const pipedriveAdapter: CrmAdapter<PipedriveOptions> = {
  kind: 'pipedrive',
  secretOptions: ['api-token', 'webhook-password'],
  parseOptions(raw: RawOptions): PipedriveOptions {
    const apiToken = text(raw, 'api-token')
    const webhookUser = text(raw, 'webhook-user')
    const webhookPassword = text(raw, 'webhook-password')
    if (apiToken === undefined) throw clError('BAD_CONFIG', '--api-token is required: the Pipedrive API token (Personal preferences → API)')
    if (webhookUser === undefined) throw clError('BAD_CONFIG', "--webhook-user is required: the HTTP auth user you set on Pipedrive's webhook")
    if (webhookPassword === undefined) throw clError('BAD_CONFIG', "--webhook-password is required: the HTTP auth password you set on Pipedrive's webhook")
    if (webhookUser.includes(':')) throw clError('BAD_CONFIG', '--webhook-user must not contain ":" (HTTP Basic auth)')
    const apiBase = (text(raw, 'api-base') ?? PIPEDRIVE_API).replace(/\/+$/, '').replace(/\/(api\/)?v[12]$/, '')
    if (!/^https?:\/\/[^\s/?#]+$/.test(apiBase)) throw clError('BAD_CONFIG', '--api-base must be an http(s) origin, e.g. https://api.pipedrive.com or https://acme.pipedrive.com')
    return { apiToken, apiBase, webhookUser, webhookPassword }
  },
  verify: (request, connection) => verifyBasicAuth(request, connection.options.webhookUser, connection.options.webhookPassword),
  parse: (rawBody) => parsePipedriveWebhook(rawBody),
  readDeal,
  dealsOfContact,
  fetch: fetchChanged,
  writeBack,
}
