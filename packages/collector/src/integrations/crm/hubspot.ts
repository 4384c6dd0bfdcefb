// HubSpot: webhook signatures (v3 HMAC with a 5-minute timestamp window, else v2/v1 SHA-256),
// webhook batches → inbox items, deals and their contacts read through the CRM API v3, pipeline
// stages → closed won/lost, pulls of changed deals through the search API, and write-back of the
// attribution properties (created in a `closeloop` property group on first use).

import { safeEqual, text } from '../options.js'
import { parseIsoTime } from '../../ingest/dates.js'
import { createHash, createHmac } from 'node:crypto'
import { clError } from '../../errors.js'
import { parseRetryAfter } from '../backoff.js'
import type { DeliveryResult, IntegrationEnv, RawOptions } from '../types.js'
import {
  CrmCallError, type CrmAdapter, type CrmConnection, type CrmContact, type CrmDeal, type CrmDealPage, type CrmInboxItem, type CrmWriteBack,
  type InboundRequest, type VerifyResult,
} from './adapter.js'

export interface HubSpotOptions {
  /** Private app access token (Bearer). */
  token: string
  /** The app's client secret: the key of webhook signatures. */
  clientSecret: string
  /** API origin, default https://api.hubapi.com (tests point it at a local stub). */
  apiBase: string
}

export const HUBSPOT_API = 'https://api.hubapi.com'
/** HubSpot's own rule: a v3 signature older than this is refused (replays). */
export const SIGNATURE_MAX_AGE_MS = 5 * 60_000
const DEAL_PROPERTIES = ['dealname', 'amount', 'dealstage', 'pipeline', 'closedate', 'deal_currency_code', 'hs_lastmodifieddate']
const CONTACT_PROPERTIES = ['email', 'cl_visitor_id', 'company']
/** Contacts read per deal: more is a buying committee beyond what a deal may name. */
const MAX_CONTACTS = 50
const SEARCH_PAGE = 100
/** Pipelines change rarely; a stage ID not in the cached ones reads them again at once. */
const PIPELINE_TTL_MS = 10 * 60_000

type StageInfo = { label: string; closed: 'won' | 'lost' | null }
const pipelineCache = new Map<string, { at: number; stages: Map<string, StageInfo> }>()



/** v3: base64 HMAC-SHA256 of method + URI + body + timestamp. */
export function signatureV3(secret: string, method: string, uri: string, body: Buffer | string, timestamp: string): string {
  return createHmac('sha256', secret).update(method + uri).update(body).update(timestamp).digest('base64')
}

/** v2: hex SHA-256 of secret + method + URI + body; v1: of secret + body. */
export function signatureV2(secret: string, method: string, uri: string, body: Buffer | string): string {
  return createHash('sha256').update(secret + method + uri).update(body).digest('hex')
}

export function signatureV1(secret: string, body: Buffer | string): string {
  return createHash('sha256').update(secret).update(body).digest('hex')
}

/**
 * HubSpot signs the URI with some characters URL-decoded (its documented list); the URI as sent is
 * tried as well, so either way of building it verifies.
 */
function uriForms(uri: string): string[] {
  const decoded = uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => decodeURIComponent(m))
  return decoded === uri ? [uri] : [uri, decoded]
}

function verifyHubSpot(request: InboundRequest, secret: string, now: number): VerifyResult {
  const h = request.headers
  const bad = (message: string): VerifyResult => ({ ok: false, error: 'BAD_SIGNATURE', message })
  const v3 = h['x-hubspot-signature-v3']
  if (v3 !== undefined) {
    const ts = h['x-hubspot-request-timestamp'] ?? ''
    const t = Number(ts)
    if (!/^\d+$/.test(ts) || !Number.isFinite(t)) return bad('X-HubSpot-Request-Timestamp is missing')
    if (Math.abs(now - t) > SIGNATURE_MAX_AGE_MS) return bad('X-HubSpot-Request-Timestamp is more than 5 minutes old')
    const ok = uriForms(request.url).some((uri) => safeEqual(signatureV3(secret, request.method, uri, request.rawBody, ts), v3))
    return ok ? { ok: true } : bad('X-HubSpot-Signature-v3 does not match')
  }
  const sig = h['x-hubspot-signature']
  const version = (h['x-hubspot-signature-version'] ?? '').toLowerCase()
  if (sig === undefined) return bad('X-HubSpot-Signature-v3 or X-HubSpot-Signature is required')
  if (version === 'v2') {
    const ok = uriForms(request.url).some((uri) => safeEqual(signatureV2(secret, request.method, uri, request.rawBody), sig.toLowerCase()))
    return ok ? { ok: true } : bad('X-HubSpot-Signature (v2) does not match')
  }
  if (version === 'v1' || version === '') {
    return safeEqual(signatureV1(secret, request.rawBody), sig.toLowerCase()) ? { ok: true } : bad('X-HubSpot-Signature (v1) does not match')
  }
  return bad(`Unknown X-HubSpot-Signature-Version "${version.slice(0, 10)}"`)
}

const CHANGES: Record<string, Pick<CrmInboxItem, 'object' | 'change'>> = {
  'deal.creation': { object: 'deal', change: 'created' },
  'deal.propertyChange': { object: 'deal', change: 'changed' },
  'deal.deletion': { object: 'deal', change: 'deleted' },
  'contact.propertyChange': { object: 'contact', change: 'changed' },
}

const idOf = (v: unknown): string | null =>
  (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && /^\d{1,30}$/.test(v)) ? String(v) : null

/** A webhook batch → inbox items; subscriptions Closeloop does not use are skipped. */
export function parseHubSpotEvents(rawBody: Buffer): CrmInboxItem[] {
  let body: unknown
  try {
    body = JSON.parse(rawBody.toString('utf8'))
  } catch {
    throw clError('VALIDATION', 'HubSpot webhook body is not JSON')
  }
  if (!Array.isArray(body)) throw clError('VALIDATION', 'HubSpot webhook body must be a JSON array of events')
  const items: CrmInboxItem[] = []
  body.forEach((e: unknown, i) => {
    if (typeof e !== 'object' || e === null) throw clError('VALIDATION', `event ${i} is not an object`)
    const ev = e as Record<string, unknown>
    if (typeof ev.subscriptionType !== 'string') throw clError('VALIDATION', `event ${i}: subscriptionType is required`)
    const kind = CHANGES[ev.subscriptionType]
    if (kind === undefined) return
    const id = idOf(ev.objectId)
    if (id === null) throw clError('VALIDATION', `event ${i}: objectId must be a HubSpot ID`)
    const occurredAt = typeof ev.occurredAt === 'number' && Number.isFinite(ev.occurredAt) ? ev.occurredAt : null
    if (occurredAt === null) throw clError('VALIDATION', `event ${i}: occurredAt must be epoch milliseconds`)
    const eventId = idOf(ev.eventId)
    items.push({ ...kind, id, occurredAt, eventId })
  })
  return items
}

function headers(o: HubSpotOptions): Record<string, string> {
  return { authorization: `Bearer ${o.token}`, accept: 'application/json', 'content-type': 'application/json' }
}

/** One API call: JSON back, or null for a 404 when `missingOk` (a 409 when `existsOk`); a coded CrmCallError otherwise. */
async function call(o: HubSpotOptions, env: IntegrationEnv, method: string, path: string, body?: unknown, missingOk = false, existsOk = false): Promise<unknown> {
  let res: Response
  try {
    res = await env.fetch(o.apiBase + path, { method, headers: headers(o), body: body === undefined ? undefined : JSON.stringify(body), signal: env.signal })
  } catch (err) {
    throw new CrmCallError(`HubSpot unreachable: ${err instanceof Error ? err.message : String(err)}`, true)
  }
  if ((res.status === 404 && missingOk) || (res.status === 409 && existsOk)) {
    await res.body?.cancel()
    return null
  }
  if (!res.ok) {
    const detail = (await res.text().catch(() => '')).slice(0, 400)
    const what = `HubSpot answered ${res.status} to ${method} ${path.split('?')[0]}${detail ? `: ${detail}` : ''}`
    const retry = res.status === 429 || res.status >= 500
    throw new CrmCallError(what, retry, retry ? parseRetryAfter(res.headers.get('retry-after'), env.now()) : null)
  }
  return res.json()
}

type HsObject = { id?: unknown; properties?: Record<string, unknown>; updatedAt?: unknown; associations?: { contacts?: { results?: Array<{ id?: unknown }> } } }

const prop = (o: HsObject, name: string): string | null => {
  const v = o.properties?.[name]
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null
}

function time(v: string | null): number | null {
  if (v === null) return null
  return /^\d{1,15}$/.test(v) ? Number(v) : parseIsoTime(v, { zoneless: 'utc' })
}

async function stages(o: HubSpotOptions, key: string, env: IntegrationEnv, stageId: string): Promise<Map<string, StageInfo>> {
  const cached = pipelineCache.get(key)
  if (cached && cached.stages.has(stageId) && env.now() - cached.at < PIPELINE_TTL_MS) return cached.stages
  const body = (await call(o, env, 'GET', '/crm/v3/pipelines/deals')) as { results?: Array<{ stages?: Array<{ id?: unknown; label?: unknown; metadata?: Record<string, unknown> }> }> }
  const map = new Map<string, StageInfo>()
  for (const p of body.results ?? []) {
    for (const s of p.stages ?? []) {
      if (typeof s.id !== 'string') continue
      const closed = String(s.metadata?.isClosed ?? 'false') === 'true'
      const probability = Number(s.metadata?.probability)
      map.set(s.id, { label: typeof s.label === 'string' ? s.label : s.id, closed: !closed ? null : probability >= 1 ? 'won' : probability <= 0 ? 'lost' : null })
    }
  }
  pipelineCache.set(key, { at: env.now(), stages: map })
  return map
}

async function readContact(o: HubSpotOptions, env: IntegrationEnv, id: string): Promise<CrmContact | null> {
  const c = (await call(o, env, 'GET', `/crm/v3/objects/contacts/${encodeURIComponent(id)}?properties=${CONTACT_PROPERTIES.join(',')}`, undefined, true)) as HsObject | null
  if (c === null) return null
  return { id, email: prop(c, 'email'), visitorId: prop(c, 'cl_visitor_id'), company: prop(c, 'company') }
}

async function readDeal(connection: CrmConnection<HubSpotOptions>, dealId: string, env: IntegrationEnv): Promise<CrmDeal | null> {
  const o = connection.options
  const path = `/crm/v3/objects/deals/${encodeURIComponent(dealId)}?properties=${DEAL_PROPERTIES.join(',')}&associations=contacts`
  const d = (await call(o, env, 'GET', path, undefined, true)) as HsObject | null
  if (d === null) return null
  const stageId = prop(d, 'dealstage') ?? ''
  const info = stageId === '' ? undefined : (await stages(o, connection.id, env, stageId)).get(stageId)
  const contactIds = [...new Set((d.associations?.contacts?.results ?? []).map((r) => idOf(r.id)).filter((x): x is string => x !== null))].slice(0, MAX_CONTACTS)
  const contacts: CrmContact[] = []
  for (const id of contactIds) {
    const c = await readContact(o, env, id)
    if (c) contacts.push(c)
  }
  const amount = prop(d, 'amount')
  const modifiedAt = time(prop(d, 'hs_lastmodifieddate')) ?? (typeof d.updatedAt === 'string' ? time(d.updatedAt) : null) ?? env.now()
  return {
    id: String(d.id ?? dealId),
    stage: { id: stageId, label: info?.label ?? stageId, closed: info?.closed ?? null },
    amount: amount === null || !Number.isFinite(Number(amount)) ? null : Number(amount),
    currency: prop(d, 'deal_currency_code'),
    closeDate: time(prop(d, 'closedate')),
    modifiedAt,
    contacts,
  }
}

/** Cursor: `<since ms>` between pulls, `<since ms>:<after>` inside a pull's paging. */
function parseCursor(cursor: string | null): { since: number; after: string | null } {
  const m = /^(\d+)(?::(.+))?$/.exec(cursor ?? '')
  return m ? { since: Number(m[1]), after: m[2] ?? null } : { since: 0, after: null }
}

async function fetchChanged(connection: CrmConnection<HubSpotOptions>, cursor: string | null, env: IntegrationEnv): Promise<CrmDealPage> {
  const { since, after } = parseCursor(cursor)
  const body = {
    // GTE: a deal changed in the same millisecond as the cursor is read again (harmless: idempotent).
    filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(since) }] }],
    sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
    properties: ['hs_lastmodifieddate'],
    limit: SEARCH_PAGE,
    ...(after !== null ? { after } : {}),
  }
  const page = (await call(connection.options, env, 'POST', '/crm/v3/objects/deals/search', body)) as { results?: HsObject[]; paging?: { next?: { after?: unknown } } }
  const deals: CrmDeal[] = []
  let newest = since
  for (const r of page.results ?? []) {
    const id = idOf(r.id)
    if (id === null) continue
    const deal = await readDeal(connection, id, env)
    if (deal === null) continue
    deals.push(deal)
    newest = Math.max(newest, deal.modifiedAt)
  }
  const next = page.paging?.next?.after
  if (typeof next === 'string' && next !== '') return { deals, cursor: `${since}:${next}`, more: true }
  return { deals, cursor: String(newest), more: false }
}

async function dealsOfContact(connection: CrmConnection<HubSpotOptions>, contactId: string, env: IntegrationEnv): Promise<string[]> {
  const body = (await call(connection.options, env, 'GET', `/crm/v4/objects/contacts/${encodeURIComponent(contactId)}/associations/deals`, undefined, true)) as { results?: Array<{ toObjectId?: unknown }> } | null
  return [...new Set((body?.results ?? []).map((r) => idOf(r.toObjectId)).filter((x): x is string => x !== null))]
}

/** The attribution properties, by object, with the labels users see in HubSpot. */
const TOUCH_LABELS = { source: 'source', medium: 'medium', campaign: 'campaign', channel: 'channel' } as const
export const WRITE_BACK_PROPERTIES: Record<'contacts' | 'deals', Array<{ name: string; label: string; description: string }>> = {
  contacts: [
    { name: 'closeloop_lead_id', label: 'Closeloop lead ID', description: 'The lead in Closeloop this contact was identified as.' },
    ...(['first', 'last'] as const).flatMap((at) => Object.keys(TOUCH_LABELS).map((f) => ({
      name: `closeloop_${at}_${f}`,
      label: `Closeloop ${at} touch ${f}`,
      description: at === 'first' ? `The ${f} of the contact's first touch (original source), as Closeloop recorded it.` : `The ${f} of the contact's last non-direct touch, as Closeloop recorded it.`,
    }))),
  ],
  deals: [
    { name: 'closeloop_channel', label: 'Closeloop channel', description: "The channel credited most for this deal under the report's default attribution model." },
    { name: 'closeloop_campaign', label: 'Closeloop campaign', description: "The campaign credited most for this deal under the report's default attribution model." },
  ],
}
const GROUP = { name: 'closeloop', label: 'Closeloop attribution', displayOrder: -1 }
/** Connections whose properties exist, by object: created once per process (a 409 means they already exist). */
const propertiesReady = new Map<string, Set<'contacts' | 'deals'>>()

async function ensureProperties(connection: CrmConnection<HubSpotOptions>, object: 'contacts' | 'deals', env: IntegrationEnv): Promise<void> {
  const ready = propertiesReady.get(connection.id) ?? new Set()
  if (ready.has(object)) return
  const o = connection.options
  await call(o, env, 'POST', `/crm/v3/properties/${object}/groups`, GROUP, false, true)
  for (const p of WRITE_BACK_PROPERTIES[object]) {
    await call(o, env, 'POST', `/crm/v3/properties/${object}`, { ...p, groupName: GROUP.name, type: 'string', fieldType: 'text' }, false, true)
  }
  ready.add(object)
  propertiesReady.set(connection.id, ready)
}

async function writeBack(connection: CrmConnection<HubSpotOptions>, write: CrmWriteBack, env: IntegrationEnv): Promise<DeliveryResult> {
  const object = write.object === 'deal' ? 'deals' : 'contacts'
  const path = write.object === 'deal'
    ? `/crm/v3/objects/deals/${encodeURIComponent(write.dealId)}`
    : write.contactId !== null
      ? `/crm/v3/objects/contacts/${encodeURIComponent(write.contactId)}`
      : `/crm/v3/objects/contacts/${encodeURIComponent(write.email ?? '')}?idProperty=email`
  const properties = Object.fromEntries(Object.entries(write.fields).map(([k, v]) => [k, v ?? '']))
  try {
    for (let attempt = 0; ; attempt++) {
      await ensureProperties(connection, object, env)
      try {
        await call(connection.options, env, 'PATCH', path, { properties })
        return { status: 'sent' }
      } catch (err) {
        // Someone deleted a property since it was created: create it again, once.
        if (attempt > 0 || !(err instanceof CrmCallError) || !/PROPERTY_DOESNT_EXIST/.test(err.message)) throw err
        propertiesReady.get(connection.id)?.delete(object)
      }
    }
  } catch (err) {
    const e = err instanceof CrmCallError ? err : new CrmCallError(String(err), true)
    return e.retry ? { status: 'retry', retryAfterMs: e.retryAfterMs, reason: e.message } : { status: 'failed', reason: e.message }
  }
}

export const hubspotAdapter: CrmAdapter<HubSpotOptions> = {
  kind: 'hubspot',
  secretOptions: ['token', 'client-secret'],
  parseOptions(raw: RawOptions): HubSpotOptions {
    const token = text(raw, 'token')
    const clientSecret = text(raw, 'client-secret')
    if (token === undefined) throw clError('BAD_CONFIG', '--token is required: the private app access token')
    if (clientSecret === undefined) throw clError('BAD_CONFIG', "--client-secret is required: the app's client secret (webhook signatures)")
    const apiBase = (text(raw, 'api-base') ?? HUBSPOT_API).replace(/\/+$/, '')
    if (!/^https?:\/\/[^\s/]+/.test(apiBase)) throw clError('BAD_CONFIG', '--api-base must be an http(s) URL')
    return { token, clientSecret, apiBase }
  },
  verify: (request, connection, now) => verifyHubSpot(request, connection.options.clientSecret, now),
  parse: (rawBody) => parseHubSpotEvents(rawBody),
  readDeal,
  dealsOfContact,
  fetch: fetchChanged,
  writeBack,
}
