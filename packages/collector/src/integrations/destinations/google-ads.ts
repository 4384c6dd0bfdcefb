// Google Ads API: offline click conversions through ConversionUploadService.UploadClickConversions,
// with an OAuth access token from the refresh-token flow. A row carries its click ID (gclid, or
// gbraid/wbraid for iOS app/web clicks) or, without one, the lead's hashed e-mail/phone for
// enhanced conversions for leads. The row key is the conversion's orderId, so Google drops a
// resent row instead of counting it twice. Uploads run in partial-failure mode: one bad row fails
// alone, with Google's reason.

import { clError } from '../../errors.js'
import { DAY, HOUR, parseRetryAfter } from '../backoff.js'
import type { DeliveryResult, IntegrationEnv, RawOptions } from '../types.js'
import type { ApiDestinationAdapter, ClickRef, ConversionRow, Destination, LeadMatchContext, PlatformBatch, PlatformMatch, PlatformRequest, RowResult } from './adapter.js'
import { googleHashedEmail, googleHashedPhone } from './identity-hash.js'
import { baseUrl, pairs, required, text } from '../options.js'

export const GOOGLE_ADS_API = 'https://googleads.googleapis.com'
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token'
/** The API version in request paths; `--api-version` overrides it when Google retires this one. */
export const GOOGLE_ADS_API_VERSION = 'v26'
/** Google accepts click conversions up to 90 days after the click. */
export const GOOGLE_CLICK_WINDOW_MS = 90 * DAY
/** Conversions per upload request (Google's limit is 2,000). */
export const GOOGLE_BATCH = 2000
const CLICK_TYPES = ['gclid', 'gbraid', 'wbraid'] as const
/** A token is renewed this long before Google says it expires, so it never lapses in flight. */
const TOKEN_MARGIN_MS = 60_000
/** Upload errors Google asks to retry later ("retry after 6 hours"): the click or action is too new. */
const RETRY_LATER = new Set(['TOO_RECENT_EVENT', 'TOO_RECENT_CONVERSION_ACTION'])
/**
 * Upload errors that say Google already holds this conversion: a resend of a row whose first
 * answer never arrived (a crash mid-upload). The row is sent, not failed.
 */
const ALREADY_HELD = new Set(['ORDER_ID_ALREADY_IN_USE', 'CLICK_CONVERSION_ALREADY_EXISTS'])

export interface GoogleAdsOptions {
  clientId: string
  clientSecret: string
  refreshToken: string
  developerToken: string
  /** The Ads account the conversions belong to, digits only. */
  customerId: string
  /** The manager account the OAuth user reaches it through, digits only. */
  loginCustomerId: string | null
  /** Conversion name (as in `--send`) → conversion action ID. */
  actions: Record<string, string>
  apiBase: string
  tokenUrl: string
  apiVersion: string
}

/** Access tokens by destination (and refresh token), until they expire. */
const tokens = new Map<string, { token: string; expiresAt: number }>()

function customerId(raw: RawOptions, name: string): string | undefined {
  const v = text(raw, name)
  if (v === undefined) return undefined
  const digits = v.replace(/-/g, '')
  if (!/^\d{10}$/.test(digits)) throw clError('BAD_CONFIG', `--${name} must be a Google Ads customer ID such as 123-456-7890`)
  return digits
}

function parseOptions(raw: RawOptions): GoogleAdsOptions {
  const clientId = required(raw, 'client-id', 'the OAuth client ID from the Google Cloud console')
  const clientSecret = required(raw, 'client-secret', "the OAuth client's secret")
  const refreshToken = required(raw, 'refresh-token', 'a refresh token granted for the https://www.googleapis.com/auth/adwords scope')
  const developerToken = required(raw, 'developer-token', 'the developer token from the manager account\'s API Center')
  const customer = customerId(raw, 'customer-id')
  if (customer === undefined) throw clError('BAD_CONFIG', '--customer-id is required: the Google Ads account the conversions belong to')
  const actionMap = pairs(raw, 'action', /\d+/, '--action "Qualified lead=123456789"')
  if (actionMap.size === 0) throw clError('BAD_CONFIG', '--action is required: NAME=CONVERSION_ACTION_ID for each conversion name in --send')
  const apiVersion = text(raw, 'api-version') ?? GOOGLE_ADS_API_VERSION
  if (!/^v\d+$/.test(apiVersion)) throw clError('BAD_CONFIG', '--api-version must look like v26')
  return {
    clientId, clientSecret, refreshToken, developerToken, customerId: customer,
    loginCustomerId: customerId(raw, 'login-customer-id') ?? null,
    actions: Object.fromEntries(actionMap),
    apiBase: baseUrl(raw, 'api-base', GOOGLE_ADS_API),
    tokenUrl: baseUrl(raw, 'token-url', GOOGLE_TOKEN_URL),
    apiVersion,
  }
}

/** The newest Google click of the lead inside 90 days before the conversion, else identity. */
function matchable(lead: LeadMatchContext): PlatformMatch | null {
  const click = lead.clicks.find((c) => (CLICK_TYPES as readonly string[]).includes(c.type) && c.ts <= lead.convertedAt && lead.convertedAt - c.ts <= GOOGLE_CLICK_WINDOW_MS)
  if (click !== undefined) return { by: 'click', click }
  return lead.hasEmail || lead.hasPhone ? { by: 'identity' } : null
}

const pad = (n: number) => String(n).padStart(2, '0')

/** `yyyy-mm-dd hh:mm:ss+00:00`: the moment in UTC with its offset, which Google reads exactly. */
export function googleDateTime(ms: number): string {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+00:00`
}

function conversion(row: ConversionRow, o: GoogleAdsOptions, actionId: string, click: ClickRef | null): Record<string, unknown> {
  const c: Record<string, unknown> = {
    conversionAction: `customers/${o.customerId}/conversionActions/${actionId}`,
    conversionDateTime: googleDateTime(row.occurredAt),
    orderId: row.key,
  }
  if (row.value !== null) {
    c.conversionValue = row.value
    c.currencyCode = row.currency
  }
  if (click !== null) {
    c[click.type] = click.value
    return c
  }
  const ids: Array<Record<string, string>> = []
  const email = googleHashedEmail(row.email)
  const phone = googleHashedPhone(row.phone)
  if (email !== null) ids.push({ hashedEmail: email, userIdentifierSource: 'FIRST_PARTY' })
  if (phone !== null) ids.push({ hashedPhoneNumber: phone, userIdentifierSource: 'FIRST_PARTY' })
  c.userIdentifiers = ids
  return c
}

function buildBatch(rows: readonly ConversionRow[], destination: Destination<GoogleAdsOptions>): PlatformBatch {
  const o = destination.options
  const unsendable: RowResult[] = []
  const ready: Array<{ row: ConversionRow; body: Record<string, unknown> }> = []
  for (const row of rows) {
    const actionId = Object.hasOwn(o.actions, row.conversionName) ? o.actions[row.conversionName] : undefined
    const click = row.click !== null && (CLICK_TYPES as readonly string[]).includes(row.click.type) ? row.click : null
    if (actionId === undefined) {
      unsendable.push({ key: row.key, result: { status: 'failed', reason: `No --action gives the conversion action ID of "${row.conversionName}"` } })
    } else if (click === null && googleHashedEmail(row.email) === null && googleHashedPhone(row.phone) === null) {
      unsendable.push({ key: row.key, result: { status: 'failed', reason: 'Neither a Google click ID nor an e-mail/phone to match the conversion on' } })
    } else {
      ready.push({ row, body: conversion(row, o, actionId, click) })
    }
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'developer-token': o.developerToken }
  if (o.loginCustomerId !== null) headers['login-customer-id'] = o.loginCustomerId
  const requests: PlatformRequest[] = []
  for (let i = 0; i < ready.length; i += GOOGLE_BATCH) {
    const chunk = ready.slice(i, i + GOOGLE_BATCH)
    requests.push({
      method: 'POST',
      url: `${o.apiBase}/${o.apiVersion}/customers/${o.customerId}:uploadClickConversions`,
      headers: { ...headers },
      // Google requires partial-failure mode for click conversion uploads.
      body: JSON.stringify({ conversions: chunk.map((r) => r.body), partialFailure: true }),
      rowKeys: chunk.map((r) => r.row.key),
    })
  }
  return unsendable.length > 0 ? { requests, unsendable } : { requests }
}

/** A call that failed for every row of a request; `retryAfterMs` only with `retry`. */
class GoogleCallError extends Error {
  constructor(message: string, readonly retry: boolean, readonly retryAfterMs: number | null = null) {
    super(message)
  }
}

const tokenKey = (d: Destination<GoogleAdsOptions>) => `${d.id}\n${d.options.clientId}\n${d.options.refreshToken}`

async function accessToken(d: Destination<GoogleAdsOptions>, env: IntegrationEnv, fresh: boolean): Promise<string> {
  const key = tokenKey(d)
  const cached = tokens.get(key)
  if (!fresh && cached !== undefined && cached.expiresAt > env.now()) return cached.token
  const o = d.options
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: o.clientId, client_secret: o.clientSecret, refresh_token: o.refreshToken })
  let res: Response
  try {
    res = await env.fetch(o.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString(), signal: env.signal })
  } catch (err) {
    throw new GoogleCallError(`Google OAuth unreachable: ${err instanceof Error ? err.message : String(err)}`, true)
  }
  const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown }
  if (!res.ok || typeof body.access_token !== 'string') {
    tokens.delete(key)
    const why = [body.error, body.error_description].filter((x) => typeof x === 'string').join(': ') || `HTTP ${res.status}`
    const retry = res.status === 429 || res.status >= 500
    // invalid_grant: the refresh token was revoked or has expired; only a new one helps.
    const what = body.error === 'invalid_client' ? 'the OAuth client (--client-id, --client-secret)' : 'the refresh token'
    throw new GoogleCallError(`Google OAuth refused ${what} (${why})`, retry, retry ? parseRetryAfter(res.headers.get('retry-after'), env.now()) : null)
  }
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : HOUR
  tokens.set(key, { token: body.access_token, expiresAt: env.now() + Math.max(0, expiresIn - TOKEN_MARGIN_MS) })
  return body.access_token
}

type GoogleAdsError = {
  errorCode?: Record<string, unknown>
  message?: unknown
  location?: { fieldPathElements?: Array<{ fieldName?: unknown; index?: unknown }> }
  details?: { quotaErrorDetails?: { retryDelay?: unknown } }
}
type GoogleStatus = { code?: unknown; message?: unknown; status?: unknown; details?: Array<{ errors?: GoogleAdsError[] }> }

const codeOf = (e: GoogleAdsError): string => {
  const [kind, value] = Object.entries(e.errorCode ?? {})[0] ?? []
  return kind === undefined ? '' : `${kind}: ${String(value)}`
}

const errorText = (e: GoogleAdsError): string => {
  const code = codeOf(e)
  const message = typeof e.message === 'string' ? e.message : ''
  return code === '' ? message || 'rejected' : message === '' ? code : `${message} (${code})`
}

/** The reason of a request-level error: Google's detailed errors when it sent them. */
function statusReason(s: GoogleStatus | undefined, httpStatus: number): string {
  const detailed = (s?.details ?? []).flatMap((d) => d.errors ?? []).map(errorText)
  if (detailed.length > 0) return detailed.slice(0, 3).join('; ')
  return typeof s?.message === 'string' ? `${String(s.status ?? httpStatus)}: ${s.message}` : `HTTP ${httpStatus}`
}

/** Google sends quota waits as `retryDelay` ("30s") in an error's quotaErrorDetails rather than as Retry-After. */
function retryDelay(s: GoogleStatus | undefined): number | null {
  for (const e of (s?.details ?? []).flatMap((d) => d.errors ?? [])) {
    const delay = e.details?.quotaErrorDetails?.retryDelay
    const m = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null
    if (m) return Math.ceil(Number(m[1]) * 1000)
  }
  return null
}

async function upload(request: PlatformRequest, d: Destination<GoogleAdsOptions>, env: IntegrationEnv): Promise<RowResult[]> {
  let token = await accessToken(d, env, false)
  let refreshed = false
  for (;;) {
    let res: Response
    try {
      res = await env.fetch(request.url, { method: request.method, headers: { ...request.headers, authorization: `Bearer ${token}` }, body: request.body, signal: env.signal })
    } catch (err) {
      throw new GoogleCallError(`Google Ads unreachable: ${err instanceof Error ? err.message : String(err)}`, true)
    }
    const body = (await res.json().catch(() => ({}))) as { error?: GoogleStatus; partialFailureError?: GoogleStatus; results?: unknown[] }
    if (res.status === 401 && !refreshed) {
      // The cached token may have been revoked or expired early: one fresh token, one more try.
      refreshed = true
      token = await accessToken(d, env, true)
      continue
    }
    if (!res.ok) {
      const reason = `Google Ads answered ${res.status}: ${statusReason(body.error, res.status)}`
      if (res.status === 429 || res.status >= 500) {
        throw new GoogleCallError(reason, true, parseRetryAfter(res.headers.get('retry-after'), env.now()) ?? retryDelay(body.error))
      }
      throw new GoogleCallError(reason, false)
    }
    return partialResults(request.rowKeys, body.partialFailureError, body.results)
  }
}

/**
 * Rows named by a partial-failure error (by their index in `conversions`) fail with its reasons;
 * the rest are sent. An error Google could not place on a conversion fails the rows whose result
 * came back empty (Google leaves a failed row's result empty), never a row it took.
 */
function partialResults(keys: readonly string[], failure: GoogleStatus | undefined, results: unknown[] | undefined): RowResult[] {
  const reasons = new Map<number, GoogleAdsError[]>()
  const unplaced: GoogleAdsError[] = []
  for (const e of (failure?.details ?? []).flatMap((d) => d.errors ?? [])) {
    const at = (e.location?.fieldPathElements ?? []).find((f) => f.fieldName === 'conversions')?.index
    if (typeof at === 'number' && at >= 0 && at < keys.length) reasons.set(at, [...(reasons.get(at) ?? []), e])
    else unplaced.push(e)
  }
  return keys.map((key, i): RowResult => {
    const errors = reasons.get(i)
    if (errors === undefined) {
      const r = results?.[i]
      const empty = r === undefined || r === null || (typeof r === 'object' && Object.keys(r).length === 0)
      if (unplaced.length > 0 && empty) return { key, result: { status: 'failed', reason: `Google Ads: ${unplaced.map(errorText).join('; ')}` } }
      return { key, result: { status: 'sent' } }
    }
    const codes = errors.map((e) => String(Object.values(e.errorCode ?? {})[0]))
    if (codes.every((c) => ALREADY_HELD.has(c))) return { key, result: { status: 'sent' } }
    const reason = `Google Ads: ${errors.map(errorText).join('; ')}`
    const later = errors.every((e) => RETRY_LATER.has(String(Object.values(e.errorCode ?? {})[0])))
    const result: DeliveryResult = later ? { status: 'retry', retryAfterMs: 6 * HOUR, reason } : { status: 'failed', reason }
    return { key, result }
  })
}

async function send(batch: PlatformBatch, destination: Destination<GoogleAdsOptions>, env: IntegrationEnv): Promise<RowResult[]> {
  const results: RowResult[] = [...(batch.unsendable ?? [])]
  for (const request of batch.requests) {
    try {
      results.push(...(await upload(request, destination, env)))
    } catch (err) {
      const e = err instanceof GoogleCallError ? err : new GoogleCallError(String(err), true)
      const result: DeliveryResult = e.retry ? { status: 'retry', retryAfterMs: e.retryAfterMs, reason: e.message } : { status: 'failed', reason: e.message }
      results.push(...request.rowKeys.map((key) => ({ key, result })))
    }
  }
  return results
}

export const googleAdsAdapter: ApiDestinationAdapter<GoogleAdsOptions> = {
  kind: 'google-ads',
  secretOptions: ['client-secret', 'refresh-token', 'developer-token'],
  parseOptions,
  matchable,
  buildBatch,
  send,
}
