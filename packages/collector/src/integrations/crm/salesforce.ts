// Salesforce: Outbound Message SOAP notifications of Opportunity (checked by the secret token in
// the endpoint URL and the OrganizationId, answered with the SOAP Ack), opportunities and their
// contact roles read over the REST API (SOQL), pulls of opportunities changed since a cursor,
// and write-back of the attribution custom fields. Auth: a fixed access token, or the OAuth 2.0
// client-credentials flow of a connected app (token cached, fetched again once on a 401).

import { safeEqual, text } from '../options.js'
import { clError } from '../../errors.js'
import { parseRetryAfter } from '../backoff.js'
import type { DeliveryResult, IntegrationEnv, RawOptions } from '../types.js'
import { child, children, parseXml, XmlError, type XmlElement } from '../xml.js'
import {
  CrmCallError, type CrmAdapter, type CrmConnection, type CrmContact, type CrmDeal, type CrmDealPage, type CrmInboxItem, type CrmWriteBack,
  type InboundReply, type InboundRequest, type LeadWriteBackFields, type DealWriteBackFields, type VerifyResult,
} from './adapter.js'

export interface SalesforceOptions {
  /** https://MyDomain.my.salesforce.com: the REST API and the OAuth token endpoint live under it. */
  instanceUrl: string
  /** REST API version, e.g. v60.0. */
  apiVersion: string
  auth: { kind: 'token'; accessToken: string } | { kind: 'client'; clientId: string; clientSecret: string }
  /** The org's ID (15 or 18 characters): outbound messages of any other org are refused. */
  orgId: string
  /** The Opportunity field outbound messages carry the contact's e-mail in, if any. */
  emailField: string | null
  /** The random secret the inbound URL ends with (outbound messages are not signed). */
  pathToken: string
}

export const DEFAULT_API_VERSION = 'v60.0'
export const PATH_TOKEN_OPTION = 'path-token'
const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/'
const OUTBOUND_NS = 'http://soap.sforce.com/2005/09/outbound'
/** The Contact (and Opportunity) field the hidden form field's visitor ID is kept in. */
const VISITOR_FIELD = 'cl_visitor_id__c'
/** Contact roles read per opportunity: more is a buying committee beyond what a deal may name. */
const MAX_CONTACTS = 50
const DAY_MS = 86_400_000
/** An outbound message holds at most 100 notifications; well below this. */
const MAX_MESSAGE_BYTES = 1024 * 1024

/** Closeloop's write-back field names → the Salesforce custom fields they are written to. */
export const WRITE_BACK_FIELDS: Readonly<Record<keyof LeadWriteBackFields | keyof DealWriteBackFields, string>> = {
  closeloop_lead_id: 'Closeloop_Lead_Id__c',
  closeloop_first_source: 'Closeloop_First_Source__c',
  closeloop_first_medium: 'Closeloop_First_Medium__c',
  closeloop_first_campaign: 'Closeloop_First_Campaign__c',
  closeloop_first_channel: 'Closeloop_First_Channel__c',
  closeloop_last_source: 'Closeloop_Last_Source__c',
  closeloop_last_medium: 'Closeloop_Last_Medium__c',
  closeloop_last_campaign: 'Closeloop_Last_Campaign__c',
  closeloop_last_channel: 'Closeloop_Last_Channel__c',
  closeloop_channel: 'Closeloop_Channel__c',
  closeloop_campaign: 'Closeloop_Campaign__c',
}

/** Error codes of a passing failure: worth another try later. */
const PASSING = new Set(['REQUEST_LIMIT_EXCEEDED', 'UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'QUERY_TIMEOUT'])

/** Access tokens of client-credentials connections, by connection. */
const tokens = new Map<string, string>()
/** Connections whose org has no Contact.cl_visitor_id__c (its SOQL is then sent without it). */
const noVisitorField = new Set<string>()



/** Salesforce record IDs are 15 or 18 letters and digits; nothing else goes into SOQL. */
const SF_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/
/** 15- and 18-character IDs of one record share the first 15 (case-sensitive) characters. */
const sameId = (a: string, b: string): boolean => a.slice(0, 15) === b.slice(0, 15)

function parseOptions(raw: RawOptions): SalesforceOptions {
  const instanceUrl = text(raw, 'instance-url')?.replace(/\/+$/, '')
  if (instanceUrl === undefined) throw clError('BAD_CONFIG', '--instance-url is required: your org\'s URL, e.g. https://acme.my.salesforce.com')
  if (!/^https?:\/\/[^\s/?#]+$/.test(instanceUrl)) throw clError('BAD_CONFIG', '--instance-url must be the http(s) origin of your org, e.g. https://acme.my.salesforce.com')
  const version = text(raw, 'api-version') ?? DEFAULT_API_VERSION
  if (!/^v?\d{2,3}\.0$/.test(version)) throw clError('BAD_CONFIG', '--api-version must look like v60.0')
  const accessToken = text(raw, 'access-token')
  const clientId = text(raw, 'client-id')
  const clientSecret = text(raw, 'client-secret')
  let auth: SalesforceOptions['auth']
  if (clientId !== undefined || clientSecret !== undefined) {
    if (clientId === undefined || clientSecret === undefined) throw clError('BAD_CONFIG', '--client-id and --client-secret go together: the connected app\'s consumer key and secret')
    if (accessToken !== undefined) throw clError('BAD_CONFIG', 'give either --access-token or --client-id/--client-secret, not both')
    auth = { kind: 'client', clientId, clientSecret }
  } else if (accessToken !== undefined) {
    auth = { kind: 'token', accessToken }
  } else {
    throw clError('BAD_CONFIG', '--client-id and --client-secret (a connected app with the client credentials flow) or --access-token are required')
  }
  const orgId = text(raw, 'org-id')
  if (orgId === undefined) throw clError('BAD_CONFIG', '--org-id is required: Setup → Company Information → Salesforce.com Organization ID')
  if (!/^00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?$/.test(orgId)) throw clError('BAD_CONFIG', '--org-id must be the 15- or 18-character organization ID (starts with 00D)')
  const emailField = text(raw, 'email-field') ?? null
  if (emailField !== null && !/^[A-Za-z][A-Za-z0-9_]{0,79}$/.test(emailField)) throw clError('BAD_CONFIG', '--email-field must be a field API name, e.g. Contact_Email__c')
  const pathToken = text(raw, PATH_TOKEN_OPTION)
  // At most 96: the router takes path segments of up to 100 characters.
  if (pathToken === undefined || !/^[\w-]{16,96}$/.test(pathToken)) throw clError('BAD_CONFIG', `--${PATH_TOKEN_OPTION} must be 16 to 96 letters, digits, "-" or "_" (leave it out to get a new one)`)
  return { instanceUrl, apiVersion: version.startsWith('v') ? version : `v${version}`, auth, orgId, emailField, pathToken }
}

// ---- Outbound messages ---------------------------------------------------------------------

/** The notifications element of an outbound message; throws CL_ERR_VALIDATION saying why not. */
function notificationsOf(rawBody: Buffer): XmlElement {
  let root: XmlElement
  try {
    root = parseXml(rawBody, { maxBytes: MAX_MESSAGE_BYTES })
  } catch (err) {
    if (err instanceof XmlError) throw clError('VALIDATION', `Outbound message is not well-formed XML: ${err.message}`)
    throw err
  }
  if (root.name !== 'Envelope' || root.ns !== SOAP_ENV) throw clError('VALIDATION', 'Outbound message must be a SOAP 1.1 Envelope')
  const body = child(root, 'Body', SOAP_ENV)
  const notifications = body && child(body, 'notifications', OUTBOUND_NS)
  if (!notifications) throw clError('VALIDATION', `Outbound message has no notifications element (namespace ${OUTBOUND_NS}) in its Body`)
  return notifications
}

/** Parsed bodies by buffer: verify reads the OrganizationId, parse the rest, of one parse. */
const parsed = new WeakMap<Buffer, XmlElement>()
function notificationsCached(rawBody: Buffer): XmlElement {
  let n = parsed.get(rawBody)
  if (!n) {
    n = notificationsOf(rawBody)
    parsed.set(rawBody, n)
  }
  return n
}

function verifySalesforce(request: InboundRequest, o: SalesforceOptions): VerifyResult {
  const bad = (message: string): VerifyResult => ({ ok: false, error: 'BAD_SIGNATURE', message })
  if (request.pathToken === undefined || !safeEqual(request.pathToken, o.pathToken)) return bad('The endpoint URL\'s token does not match this connection')
  let notifications: XmlElement
  try {
    notifications = notificationsCached(request.rawBody)
  } catch {
    // Not readable: parse answers 400 with the reason (the token already matched).
    return { ok: true }
  }
  const org = child(notifications, 'OrganizationId', OUTBOUND_NS)?.text.trim() ?? ''
  if (org === '') return bad('OrganizationId is missing')
  return sameId(org, o.orgId) ? { ok: true } : bad('OrganizationId is not the org of this connection')
}

const isNil = (el: XmlElement | undefined): boolean => el === undefined || Object.entries(el.attrs).some(([k, v]) => k.endsWith(':nil') && v.trim() === 'true')

/** Salesforce date-times end in +0000; dates are days (UTC). */
function time(v: string | null | undefined): number | null {
  if (v == null || v.trim() === '') return null
  const t = Date.parse(v.trim().replace(/([+-]\d\d)(\d\d)$/, '$1:$2'))
  return Number.isFinite(t) ? t : null
}

/** An Opportunity's fields (as a SOAP sObject or a REST record), looked up case-insensitively. */
type Fields = (name: string) => string | null

function dealOf(id: string, get: Fields, contacts: CrmContact[], now: number): CrmDeal {
  const stageName = get('StageName') ?? ''
  const won = get('IsWon')
  const closed = get('IsClosed')
  const amount = get('Amount')
  const outcome = won === 'true' ? 'won' : closed === 'true' ? 'lost' : null
  const modifiedAt = time(get('SystemModstamp')) ?? time(get('LastModifiedDate')) ?? now
  const day = time(get('CloseDate'))
  return {
    id,
    stage: {
      id: stageName,
      label: stageName,
      // Salesforce's own flags decide, whatever the stage is called.
      closed: outcome,
    },
    amount: amount === null || !Number.isFinite(Number(amount)) ? null : Number(amount),
    currency: get('CurrencyIsoCode'),
    // CloseDate is a day (its midnight, UTC): a deal won on the day of its touches would be dated
    // before them. A closed deal is dated within that day, at the change that closed it if that
    // was on the day, else at the day's end.
    closeDate: day !== null && outcome !== null ? Math.min(day + DAY_MS - 1, Math.max(day, modifiedAt)) : day,
    modifiedAt,
    contacts,
  }
}

/** The notifications of an outbound message → inbox items (only Opportunity messages are taken). */
export function parseOutboundMessage(rawBody: Buffer, o: Pick<SalesforceOptions, 'emailField'>, now = Date.now()): CrmInboxItem[] {
  const notifications = notificationsCached(rawBody)
  const items: CrmInboxItem[] = []
  children(notifications, 'Notification', OUTBOUND_NS).forEach((n, i) => {
    const eventId = child(n, 'Id', OUTBOUND_NS)?.text.trim() ?? ''
    if (!SF_ID.test(eventId)) throw clError('VALIDATION', `Notification ${i}: Id must be a Salesforce ID`)
    const sObject = child(n, 'sObject', OUTBOUND_NS)
    if (!sObject) throw clError('VALIDATION', `Notification ${i}: sObject is missing`)
    const type = Object.entries(sObject.attrs).find(([k]) => k === 'type' || k.endsWith(':type'))?.[1] ?? ''
    if (type.split(':').pop() !== 'Opportunity') {
      throw clError('VALIDATION', `Notification ${i}: sObject is "${type.slice(0, 40)}"; send outbound messages of Opportunity`)
    }
    const fields = new Map<string, XmlElement>()
    for (const f of sObject.children) fields.set(f.name.toLowerCase(), f)
    const get: Fields = (name) => {
      const el = fields.get(name.toLowerCase())
      if (isNil(el)) return null
      const v = el!.text.trim()
      return v === '' ? null : v
    }
    const id = get('Id') ?? ''
    if (!SF_ID.test(id)) throw clError('VALIDATION', `Notification ${i}: sObject Id must be a Salesforce ID`)
    const email = o.emailField !== null ? get(o.emailField) : null
    const visitorId = get(VISITOR_FIELD)
    const contacts: CrmContact[] = email !== null || visitorId !== null ? [{ id, email, visitorId }] : []
    const deal = dealOf(id, get, contacts, now)
    // With neither an e-mail nor a visitor ID in the message, the worker reads the opportunity's contact roles instead.
    items.push({ object: 'deal', id, change: 'changed', occurredAt: deal.modifiedAt, eventId, ...(contacts.length > 0 ? { deal } : {}) })
  })
  return items
}

const ACK = '<?xml version="1.0" encoding="UTF-8"?>\n'
  + `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV}">`
  + `<soapenv:Body><notificationsResponse xmlns="${OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse></soapenv:Body>`
  + '</soapenv:Envelope>\n'

// ---- REST API -------------------------------------------------------------------------------

type SfError = { message?: unknown; errorCode?: unknown }

/** A failed REST call with Salesforce's error codes (e.g. INVALID_FIELD), which some callers act on. */
class SalesforceCallError extends CrmCallError {
  constructor(message: string, retry: boolean, retryAfterMs: number | null, readonly codes: readonly string[]) {
    super(message, retry, retryAfterMs)
  }
}

const hasCode = (err: unknown, code: string): boolean => err instanceof SalesforceCallError && err.codes.includes(code)

/** A failed answer → CrmCallError; REST errors are arrays of {message, errorCode}, OAuth's {error, error_description}. */
async function failure(res: Response, what: string, env: IntegrationEnv): Promise<SalesforceCallError> {
  const raw = await res.text().catch(() => '')
  let codes: string[] = []
  let detail = raw.slice(0, 200)
  try {
    const body = JSON.parse(raw) as unknown
    if (Array.isArray(body)) {
      const errors = body as SfError[]
      codes = errors.map((e) => String(e.errorCode ?? ''))
      detail = errors.map((e) => `${String(e.errorCode ?? '')}: ${String(e.message ?? '')}`).join('; ').slice(0, 300)
    } else if (typeof body === 'object' && body !== null && 'error' in body) {
      const b = body as { error?: unknown; error_description?: unknown }
      codes = [String(b.error)]
      detail = `${String(b.error)}: ${String(b.error_description ?? '')}`.slice(0, 300)
    }
  } catch { /* not JSON: the text is the detail */ }
  const retry = res.status === 429 || res.status >= 500 || codes.some((c) => PASSING.has(c))
  return new SalesforceCallError(`Salesforce answered ${res.status} to ${what}${detail ? `: ${detail}` : ''}`, retry, retry ? parseRetryAfter(res.headers.get('retry-after'), env.now()) : null, codes)
}

async function send(env: IntegrationEnv, url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Response> {
  try {
    return await env.fetch(url, { ...init, signal: env.signal })
  } catch (err) {
    throw new CrmCallError(`Salesforce unreachable: ${err instanceof Error ? err.message : String(err)}`, true)
  }
}

/** The connection's access token: the fixed one, or one from the client-credentials flow (cached). */
async function accessToken(c: CrmConnection<SalesforceOptions>, env: IntegrationEnv, fresh: boolean): Promise<string> {
  const o = c.options
  if (o.auth.kind === 'token') return o.auth.accessToken
  const key = `${c.id}:${o.auth.clientId}`
  const cached = tokens.get(key)
  if (cached !== undefined && !fresh) return cached
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: o.auth.clientId, client_secret: o.auth.clientSecret }).toString()
  const res = await send(env, `${o.instanceUrl}/services/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body })
  if (!res.ok) throw await failure(res, 'the OAuth token request', env)
  const token = ((await res.json()) as { access_token?: unknown }).access_token
  if (typeof token !== 'string' || token === '') throw new CrmCallError('Salesforce token endpoint answered without access_token', false)
  tokens.set(key, token)
  return token
}

/**
 * One REST call under /services/data/vXX.X (or a nextRecordsUrl): JSON back (null for 204, or for
 * a 404 when `missingOk`). A 401 fetches a new client-credentials token once and tries again.
 */
async function call(c: CrmConnection<SalesforceOptions>, env: IntegrationEnv, method: string, path: string, body?: unknown, missingOk = false): Promise<unknown> {
  const o = c.options
  const url = path.startsWith('/services/') ? o.instanceUrl + path : `${o.instanceUrl}/services/data/${o.apiVersion}${path}`
  const what = `${method} ${path.split('?')[0]}`
  for (let attempt = 0; ; attempt++) {
    const token = await accessToken(c, env, attempt > 0)
    const res = await send(env, url, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    // INVALID_SESSION_ID: the token expired or was revoked; a connected app gets a new one.
    if (res.status === 401 && attempt === 0 && o.auth.kind === 'client') {
      await res.body?.cancel()
      continue
    }
    if (res.status === 404 && missingOk) {
      await res.body?.cancel()
      return null
    }
    if (!res.ok) throw await failure(res, what, env)
    if (res.status === 204) return null
    const textBody = await res.text()
    return textBody === '' ? null : JSON.parse(textBody)
  }
}

type QueryResult = { records?: Array<Record<string, unknown>>; done?: boolean; nextRecordsUrl?: unknown }

const soql = (c: CrmConnection<SalesforceOptions>, env: IntegrationEnv, q: string): Promise<QueryResult> =>
  call(c, env, 'GET', `/query?q=${encodeURIComponent(q)}`) as Promise<QueryResult>

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null)
const recordFields = (r: Record<string, unknown>): Fields => {
  const lower = new Map(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v]))
  return (name) => str(lower.get(name.toLowerCase()))
}

async function contactsOf(c: CrmConnection<SalesforceOptions>, env: IntegrationEnv, opportunityId: string): Promise<CrmContact[]> {
  const query = (withVisitor: boolean) => `SELECT ContactId, Contact.Email, Contact.Account.Name${withVisitor ? `, Contact.${VISITOR_FIELD}` : ''} `
    + `FROM OpportunityContactRole WHERE OpportunityId = '${opportunityId}' ORDER BY IsPrimary DESC LIMIT ${MAX_CONTACTS}`
  let result: QueryResult
  try {
    result = await soql(c, env, query(!noVisitorField.has(c.id)))
  } catch (err) {
    // An org without the visitor field: read on by e-mail alone (docs/crm/salesforce.md says how to add it).
    if (!hasCode(err, 'INVALID_FIELD') || noVisitorField.has(c.id)) throw err
    noVisitorField.add(c.id)
    result = await soql(c, env, query(false))
  }
  return (result.records ?? []).flatMap((r) => {
    const contact = r.Contact as Record<string, unknown> | null | undefined
    const id = str(r.ContactId)
    if (id === null || !contact) return []
    const account = contact.Account as Record<string, unknown> | null | undefined
    return [{ id, email: str(contact.Email), visitorId: recordFields(contact)(VISITOR_FIELD), company: account ? str(account.Name) : null }]
  })
}

async function readDeal(c: CrmConnection<SalesforceOptions>, dealId: string, env: IntegrationEnv): Promise<CrmDeal | null> {
  if (!SF_ID.test(dealId)) throw new CrmCallError(`"${dealId.slice(0, 40)}" is not a Salesforce ID`, false)
  // All of the record's fields: CurrencyIsoCode exists only in multi-currency orgs, the e-mail field only where made.
  const r = (await call(c, env, 'GET', `/sobjects/Opportunity/${dealId}`, undefined, true)) as Record<string, unknown> | null
  if (r === null) return null
  const get = recordFields(r)
  const id = get('Id') ?? dealId
  const contacts = await contactsOf(c, env, id)
  const email = c.options.emailField !== null ? get(c.options.emailField) : null
  const visitorId = get(VISITOR_FIELD)
  if (email !== null || visitorId !== null) contacts.push({ id, email, visitorId })
  return dealOf(id, get, contacts, env.now())
}

/** SOQL's date-time literal, to the second (it takes no milliseconds). */
const soqlTime = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')

/** Cursor: `<since ms>` between pulls, `<since ms>|<nextRecordsUrl>` inside a pull's paging. */
function parseCursor(cursor: string | null): { since: number; next: string | null } {
  const m = /^(\d+)(?:\|(\/services\/data\/\S+))?$/.exec(cursor ?? '')
  return m ? { since: Number(m[1]), next: m[2] ?? null } : { since: 0, next: null }
}

async function fetchChanged(c: CrmConnection<SalesforceOptions>, cursor: string | null, env: IntegrationEnv): Promise<CrmDealPage> {
  const { since, next } = parseCursor(cursor)
  // >= to the second: an opportunity changed in the cursor's second after the last pull is not
  // missed; the few read again write the same deal.
  const first = `SELECT Id, SystemModstamp FROM Opportunity WHERE SystemModstamp >= ${soqlTime(since)} ORDER BY SystemModstamp, Id`
  let page: QueryResult
  try {
    page = next !== null ? (await call(c, env, 'GET', next)) as QueryResult : await soql(c, env, first)
  } catch (err) {
    // A query locator expires after a while unused: start the pull again from its beginning.
    if (next === null || !hasCode(err, 'INVALID_QUERY_LOCATOR')) throw err
    page = await soql(c, env, first)
  }
  const deals: CrmDeal[] = []
  let newest = since
  for (const r of page.records ?? []) {
    const id = str(r.Id)
    if (id === null || !SF_ID.test(id)) continue
    const deal = await readDeal(c, id, env)
    if (deal === null) continue
    deals.push(deal)
    newest = Math.max(newest, time(str(r.SystemModstamp)) ?? deal.modifiedAt)
  }
  const more = typeof page.nextRecordsUrl === 'string' && /^\/services\/data\/\S+$/.test(page.nextRecordsUrl) && page.done !== true
  if (more) return { deals, cursor: `${since}|${page.nextRecordsUrl as string}`, more: true }
  return { deals, cursor: String(newest), more: false }
}

/** Closeloop field names → the custom fields' API names; null clears a field. */
const customFields = (fields: Record<string, string | null>): Record<string, string | null> =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [WRITE_BACK_FIELDS[k as keyof typeof WRITE_BACK_FIELDS] ?? k, v]))

/** SOQL string literal: backslash and quote escaped. */
const soqlString = (v: string): string => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

async function writeBack(c: CrmConnection<SalesforceOptions>, write: CrmWriteBack, env: IntegrationEnv): Promise<DeliveryResult> {
  try {
    if (write.object === 'deal') {
      if (!SF_ID.test(write.dealId)) return { status: 'failed', reason: `"${write.dealId.slice(0, 40)}" is not a Salesforce Opportunity ID` }
      await call(c, env, 'PATCH', `/sobjects/Opportunity/${write.dealId}`, customFields({ ...write.fields }))
      return { status: 'sent' }
    }
    let ids: string[]
    if (write.contactId !== null) {
      if (!SF_ID.test(write.contactId)) return { status: 'failed', reason: `"${write.contactId.slice(0, 40)}" is not a Salesforce Contact ID` }
      ids = [write.contactId]
    } else {
      if (write.email === null || write.email.trim() === '') return { status: 'failed', reason: 'neither a Contact ID nor an e-mail to find the Contact by' }
      const found = await soql(c, env, `SELECT Id FROM Contact WHERE Email = ${soqlString(write.email.trim())} ORDER BY LastModifiedDate DESC LIMIT 10`)
      ids = (found.records ?? []).map((r) => str(r.Id)).filter((x): x is string => x !== null && SF_ID.test(x))
      // Not a Contact yet (still a Lead, say): a later write-back after the deal finds it.
      if (ids.length === 0) return { status: 'failed', reason: 'no Salesforce Contact has this e-mail' }
    }
    const body = customFields({ ...write.fields })
    for (const id of ids) await call(c, env, 'PATCH', `/sobjects/Contact/${id}`, body)
    return { status: 'sent' }
  } catch (err) {
    const e = err instanceof CrmCallError ? err : new CrmCallError(String(err), true)
    return e.retry ? { status: 'retry', retryAfterMs: e.retryAfterMs, reason: e.message } : { status: 'failed', reason: e.message }
  }
}

export const salesforceAdapter: CrmAdapter<SalesforceOptions> = {
  kind: 'salesforce',
  secretOptions: ['access-token', 'client-secret', PATH_TOKEN_OPTION],
  pathTokenOption: PATH_TOKEN_OPTION,
  parseOptions,
  verify: (request, connection) => verifySalesforce(request, connection.options),
  parse: (rawBody, connection) => parseOutboundMessage(rawBody, connection.options),
  inboundReply: (): InboundReply => ({ status: 200, contentType: 'text/xml; charset=utf-8', body: ACK }),
  readDeal,
  fetch: fetchChanged,
  writeBack,
}
