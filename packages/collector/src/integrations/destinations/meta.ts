// Meta Conversions API: CRM conversions as server events on a pixel (dataset), with
// action_source "system_generated" and the CRM fields of Meta's conversion-leads integration.
// A lead matches by its fbclid (sent as `fbc`) or by hashed e-mail/phone; the row key is the
// event_id, which Meta uses to drop a resent event.
//
// Meta takes or rejects a request whole: one invalid event (too old, a bad value) turns the
// batch into a 400 and none of its events is kept. So a 400 that is not about the token, the
// pixel or rate limits is answered by sending that batch's events again in halves until the bad
// events stand alone: they fail with Meta's reason, the others go through.

import { clError } from '../../errors.js'
import { DAY, MINUTE, parseRetryAfter } from '../backoff.js'
import type { DeliveryResult, IntegrationEnv, RawOptions } from '../types.js'
import type { ApiDestinationAdapter, ConversionRow, Destination, LeadMatchContext, PlatformBatch, PlatformMatch, PlatformRequest, RowResult } from './adapter.js'
import { metaHashedEmail, metaHashedExternalId, metaHashedPhone } from './identity-hash.js'
import { baseUrl, required, text } from '../options.js'

export const META_API = 'https://graph.facebook.com'
/** The Graph API version in request paths; `--api-version` overrides it. */
export const META_API_VERSION = 'v24.0'
/**
 * How old an fbclid may be and still be sent as the lead's click: 28 days, the longest click
 * window Meta has offered for attribution; an older click is left out (the row then matches by
 * e-mail/phone when there is one).
 */
export const META_CLICK_WINDOW_MS = 28 * DAY
/** Events per request: Meta's limit. */
export const META_BATCH = 1000
/** Graph API error codes of rate limiting (app, user, page, ad account, custom). */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80004])
/** Codes about the token or the permission to post: no row can go until the user fixes it. */
const TOKEN_CODES = new Set([102, 190])
const PERMISSION_CODES = new Set([10, 200, 294])

export interface MetaOptions {
  /** The pixel (dataset) ID. */
  pixelId: string
  accessToken: string
  /** Events Manager's Test events code: events show there instead of counting. */
  testEventCode: string | null
  apiBase: string
  apiVersion: string
}

function parseOptions(raw: RawOptions): MetaOptions {
  const pixelId = required(raw, 'pixel-id', 'the pixel (dataset) ID from Events Manager')
  if (!/^\d{5,20}$/.test(pixelId)) throw clError('BAD_CONFIG', '--pixel-id must be the numeric pixel (dataset) ID from Events Manager')
  const accessToken = required(raw, 'access-token', "a Conversions API access token (Events Manager → the dataset's Settings)")
  const testEventCode = text(raw, 'test-event-code') ?? null
  if (testEventCode !== null && !/^[A-Za-z0-9_-]{1,40}$/.test(testEventCode)) throw clError('BAD_CONFIG', '--test-event-code must be the code shown under Test events, such as TEST12345')
  const apiVersion = text(raw, 'api-version') ?? META_API_VERSION
  if (!/^v\d+\.\d+$/.test(apiVersion)) throw clError('BAD_CONFIG', '--api-version must look like v24.0')
  return { pixelId, accessToken, testEventCode, apiBase: baseUrl(raw, 'api-base', META_API), apiVersion }
}

function matchable(lead: LeadMatchContext): PlatformMatch | null {
  const click = lead.clicks.find((c) => c.type === 'fbclid' && c.ts <= lead.convertedAt && lead.convertedAt - c.ts <= META_CLICK_WINDOW_MS)
  if (click !== undefined) return { by: 'click', click }
  return lead.hasEmail || lead.hasPhone ? { by: 'identity' } : null
}

/** One server event. */
function event(row: ConversionRow): Record<string, unknown> {
  const user: Record<string, unknown> = {}
  const em = metaHashedEmail(row.email)
  const ph = metaHashedPhone(row.phone)
  if (em !== null) user.em = [em]
  if (ph !== null) user.ph = [ph]
  // fbc as the _fbc cookie would hold it: version, subdomain index, click time in ms, fbclid.
  if (row.click !== null && row.click.type === 'fbclid') user.fbc = `fb.1.${row.click.ts}.${row.click.value}`
  if (row.fbp !== null && row.fbp !== '') user.fbp = row.fbp
  user.external_id = [metaHashedExternalId(row.leadId)]
  const custom: Record<string, unknown> = { lead_event_source: 'Closeloop', event_source: 'crm' }
  if (row.value !== null) {
    custom.value = row.value
    custom.currency = row.currency
  }
  return {
    event_name: row.conversionName,
    event_time: Math.floor(row.occurredAt / 1000),
    event_id: row.key,
    action_source: 'system_generated',
    user_data: user,
    custom_data: custom,
  }
}

function request(o: MetaOptions, events: Array<Record<string, unknown>>, rowKeys: string[]): PlatformRequest {
  const body: Record<string, unknown> = { data: events }
  if (o.testEventCode !== null) body.test_event_code = o.testEventCode
  return {
    method: 'POST',
    url: `${o.apiBase}/${o.apiVersion}/${o.pixelId}/events`,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    rowKeys,
  }
}

function buildBatch(rows: readonly ConversionRow[], destination: Destination<MetaOptions>): PlatformBatch {
  const requests: PlatformRequest[] = []
  for (let i = 0; i < rows.length; i += META_BATCH) {
    const chunk = rows.slice(i, i + META_BATCH)
    requests.push(request(destination.options, chunk.map(event), chunk.map((r) => r.key)))
  }
  return { requests }
}

type GraphError = { message?: unknown; type?: unknown; code?: unknown; error_subcode?: unknown; error_user_title?: unknown; error_user_msg?: unknown; is_transient?: unknown; fbtrace_id?: unknown }

/** What one request came to: every row alike, or a 400 about the events themselves. */
type Outcome = { kind: 'all'; result: DeliveryResult } | { kind: 'invalid'; reason: string }

function describeError(e: GraphError | undefined, status: number): string {
  if (e === undefined) return `Meta answered ${status}`
  const detail = typeof e.error_user_msg === 'string' && e.error_user_msg !== '' ? ` (${e.error_user_msg})` : ''
  const code = typeof e.code === 'number' ? ` [code ${e.code}${typeof e.error_subcode === 'number' ? `/${e.error_subcode}` : ''}]` : ''
  const trace = typeof e.fbtrace_id === 'string' ? ` fbtrace_id ${e.fbtrace_id}` : ''
  return `Meta answered ${status}: ${typeof e.message === 'string' ? e.message : 'error'}${detail}${code}${trace}`
}

/**
 * Meta's own wait on rate limits: `estimated_time_to_regain_access` (minutes) in the
 * X-Business-Use-Case-Usage header; a Retry-After when one is sent.
 */
function rateLimitWait(res: Response, now: number): number | null {
  const after = parseRetryAfter(res.headers.get('retry-after'), now)
  if (after !== null) return after
  try {
    const usage = JSON.parse(res.headers.get('x-business-use-case-usage') ?? '{}') as Record<string, Array<{ estimated_time_to_regain_access?: unknown }>>
    const minutes = Object.values(usage).flat().map((u) => Number(u.estimated_time_to_regain_access)).filter((n) => Number.isFinite(n) && n > 0)
    return minutes.length > 0 ? Math.max(...minutes) * MINUTE : null
  } catch {
    return null
  }
}

async function post(req: PlatformRequest, o: MetaOptions, env: IntegrationEnv): Promise<Outcome> {
  let res: Response
  try {
    res = await env.fetch(`${req.url}?access_token=${encodeURIComponent(o.accessToken)}`, { method: req.method, headers: req.headers, body: req.body, signal: env.signal })
  } catch (err) {
    return { kind: 'all', result: { status: 'retry', retryAfterMs: null, reason: `Meta unreachable: ${err instanceof Error ? err.message : String(err)}` } }
  }
  const body = (await res.json().catch(() => ({}))) as { events_received?: unknown; error?: GraphError }
  if (res.ok && body.error === undefined) return { kind: 'all', result: { status: 'sent' } }
  const e = body.error
  const code = typeof e?.code === 'number' ? e.code : null
  const reason = describeError(e, res.status)
  if (res.status === 429 || (code !== null && RATE_LIMIT_CODES.has(code))) return { kind: 'all', result: { status: 'retry', retryAfterMs: rateLimitWait(res, env.now()), reason } }
  if (res.status >= 500 || e?.is_transient === true || code === 1 || code === 2) return { kind: 'all', result: { status: 'retry', retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), env.now()), reason } }
  if (res.status === 401 || (code !== null && TOKEN_CODES.has(code))) return { kind: 'all', result: { status: 'failed', reason: `Access token expired or invalid: ${reason}` } }
  if (res.status === 403 || res.status === 404 || (code !== null && PERMISSION_CODES.has(code))) return { kind: 'all', result: { status: 'failed', reason } }
  // code 100 (invalid parameter) and the like: something in the events.
  return { kind: 'invalid', reason }
}

/**
 * One bad event sank a whole request: its events are sent again in halves, and each half Meta
 * refuses is halved again, down to single events, which then fail with Meta's reason. A half
 * Meta takes is sent; a rate limit or token problem meanwhile ends the search for every row not
 * yet settled. n events with one bad one take about 2·log2(n) more requests.
 */
async function isolate(body: { data: Array<Record<string, unknown>> }, keys: readonly string[], o: MetaOptions, env: IntegrationEnv): Promise<RowResult[]> {
  const settled = new Map<string, DeliveryResult>()
  const mid = (s: number, e: number) => s + Math.floor((e - s) / 2)
  const parts: Array<[number, number]> = [[0, mid(0, keys.length)], [mid(0, keys.length), keys.length]]
  while (parts.length > 0) {
    const [s, e] = parts.shift() as [number, number]
    const outcome = await post(request(o, body.data.slice(s, e), keys.slice(s, e)), o, env)
    if (outcome.kind === 'invalid') {
      if (e - s === 1) settled.set(keys[s], { status: 'failed', reason: outcome.reason })
      else parts.unshift([s, mid(s, e)], [mid(s, e), e])
    } else if (outcome.result.status === 'sent') {
      for (const key of keys.slice(s, e)) settled.set(key, outcome.result)
    } else {
      for (const key of keys) if (!settled.has(key)) settled.set(key, outcome.result)
      break
    }
  }
  return keys.map((key) => ({ key, result: settled.get(key) as DeliveryResult }))
}

async function send(batch: PlatformBatch, destination: Destination<MetaOptions>, env: IntegrationEnv): Promise<RowResult[]> {
  const o = destination.options
  const results: RowResult[] = [...(batch.unsendable ?? [])]
  for (const req of batch.requests) {
    const outcome = await post(req, o, env)
    if (outcome.kind === 'all') {
      results.push(...req.rowKeys.map((key) => ({ key, result: outcome.result })))
      continue
    }
    if (req.rowKeys.length === 1) {
      results.push({ key: req.rowKeys[0], result: { status: 'failed', reason: outcome.reason } })
      continue
    }
    results.push(...(await isolate(JSON.parse(req.body) as { data: Array<Record<string, unknown>> }, req.rowKeys, o, env)))
  }
  return results
}

export const metaAdapter: ApiDestinationAdapter<MetaOptions> = {
  kind: 'meta',
  secretOptions: ['access-token'],
  parseOptions,
  matchable,
  buildBatch,
  send,
}
