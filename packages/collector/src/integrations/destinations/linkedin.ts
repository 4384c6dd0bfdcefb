// LinkedIn Conversions API: rows as conversion events on a conversion rule (created with the
// Conversions API as its method), sent as one Rest.li BATCH_CREATE per batch. A lead matches by
// its li_fat_id (LinkedIn's first-party click ID) or its hashed e-mail; the row key is the
// eventId, which LinkedIn uses to drop a resent event. LinkedIn answers each element of a batch
// with its own status, so one bad row fails alone.

import { clError } from '../../errors.js'
import { DAY, parseRetryAfter } from '../backoff.js'
import type { DeliveryResult, IntegrationEnv, RawOptions } from '../types.js'
import type { ApiDestinationAdapter, ConversionRow, Destination, LeadMatchContext, PlatformBatch, PlatformMatch, PlatformRequest, RowResult } from './adapter.js'
import { linkedinHashedEmail } from './identity-hash.js'
import { baseUrl, pairs, required, text } from '../options.js'

export const LINKEDIN_API = 'https://api.linkedin.com'
/** The LinkedIn-Version header (YYYYMM); LinkedIn retires versions after a year, `--api-version` overrides it. */
export const LINKEDIN_API_VERSION = '202603'
/** LinkedIn takes conversions up to 90 days after they happened, and li_fat_id clicks of 90 days. */
export const LINKEDIN_CLICK_WINDOW_MS = 90 * DAY
/** Events per BATCH_CREATE request. */
export const LINKEDIN_BATCH = 1000
const URN = /urn:lla:llaPartnerConversion:\d+/
const ALL = '*'

export interface LinkedInOptions {
  accessToken: string
  /** Conversion name → conversion rule URN; `*` for every name (one `--conversion-urn URN`). */
  conversions: Record<string, string>
  apiBase: string
  apiVersion: string
}

function parseOptions(raw: RawOptions): LinkedInOptions {
  const accessToken = required(raw, 'access-token', 'an OAuth access token with the rw_conversions scope')
  const urn = required(raw, 'conversion-urn', 'the conversion rule URN, urn:lla:llaPartnerConversion:ID (or NAME=URN for each conversion name)')
  let conversions: Record<string, string>
  if (new RegExp(`^${URN.source}$`).test(urn)) conversions = { [ALL]: urn }
  else if (urn.includes('=')) conversions = Object.fromEntries(pairs(raw, 'conversion-urn', URN, '--conversion-urn "Qualified lead=urn:lla:llaPartnerConversion:123"'))
  else throw clError('BAD_CONFIG', '--conversion-urn must be a conversion rule URN such as urn:lla:llaPartnerConversion:123')
  const apiVersion = text(raw, 'api-version') ?? LINKEDIN_API_VERSION
  if (!/^20\d{4}$/.test(apiVersion)) throw clError('BAD_CONFIG', '--api-version must be a LinkedIn-Version such as 202603 (YYYYMM)')
  return { accessToken, conversions, apiBase: baseUrl(raw, 'api-base', LINKEDIN_API), apiVersion }
}

function matchable(lead: LeadMatchContext): PlatformMatch | null {
  const click = lead.clicks.find((c) => c.type === 'li_fat_id' && c.ts <= lead.convertedAt && lead.convertedAt - c.ts <= LINKEDIN_CLICK_WINDOW_MS)
  if (click !== undefined) return { by: 'click', click }
  // LinkedIn matches on e-mail only: a phone alone is not enough.
  return lead.hasEmail ? { by: 'identity' } : null
}

/** A decimal string without float noise ("2500.5", "100"): LinkedIn takes amounts as strings. */
const amount = (v: number) => String(Math.round(v * 100) / 100)

function element(row: ConversionRow, urn: string): Record<string, unknown> | null {
  const userIds: Array<{ idType: string; idValue: string }> = []
  const email = linkedinHashedEmail(row.email)
  if (email !== null) userIds.push({ idType: 'SHA256_EMAIL', idValue: email })
  if (row.click !== null && row.click.type === 'li_fat_id') userIds.push({ idType: 'LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID', idValue: row.click.value })
  if (userIds.length === 0) return null
  const e: Record<string, unknown> = { conversion: urn, conversionHappenedAt: row.occurredAt }
  if (row.value !== null) e.conversionValue = { currencyCode: row.currency, amount: amount(row.value) }
  e.user = { userIds }
  e.eventId = row.key
  return e
}

function buildBatch(rows: readonly ConversionRow[], destination: Destination<LinkedInOptions>): PlatformBatch {
  const o = destination.options
  const unsendable: RowResult[] = []
  const ready: Array<{ key: string; element: Record<string, unknown> }> = []
  for (const row of rows) {
    const urn = Object.hasOwn(o.conversions, row.conversionName) ? o.conversions[row.conversionName] : o.conversions[ALL]
    const e = urn === undefined ? null : element(row, urn)
    if (urn === undefined) unsendable.push({ key: row.key, result: { status: 'failed', reason: `No --conversion-urn for the conversion "${row.conversionName}"` } })
    else if (e === null) unsendable.push({ key: row.key, result: { status: 'failed', reason: 'Neither an li_fat_id nor an e-mail to match the conversion on' } })
    else ready.push({ key: row.key, element: e })
  }
  const requests: PlatformRequest[] = []
  for (let i = 0; i < ready.length; i += LINKEDIN_BATCH) {
    const chunk = ready.slice(i, i + LINKEDIN_BATCH)
    requests.push({
      method: 'POST',
      url: `${o.apiBase}/rest/conversionEvents`,
      headers: {
        'content-type': 'application/json',
        'linkedin-version': o.apiVersion,
        'x-restli-protocol-version': '2.0.0',
        'x-restli-method': 'BATCH_CREATE',
      },
      body: JSON.stringify({ elements: chunk.map((c) => c.element) }),
      rowKeys: chunk.map((c) => c.key),
    })
  }
  return unsendable.length > 0 ? { requests, unsendable } : { requests }
}

type LinkedInError = { message?: unknown; status?: unknown; code?: unknown; serviceErrorCode?: unknown }

function describe(e: LinkedInError | undefined, status: number): string {
  const code = typeof e?.code === 'string' ? ` (${e.code})` : ''
  return `LinkedIn answered ${status}: ${typeof e?.message === 'string' ? e.message : 'error'}${code}`
}

async function post(req: PlatformRequest, o: LinkedInOptions, env: IntegrationEnv): Promise<RowResult[]> {
  const all = (result: DeliveryResult) => req.rowKeys.map((key) => ({ key, result }))
  let res: Response
  try {
    res = await env.fetch(req.url, { method: req.method, headers: { ...req.headers, authorization: `Bearer ${o.accessToken}` }, body: req.body, signal: env.signal })
  } catch (err) {
    return all({ status: 'retry', retryAfterMs: null, reason: `LinkedIn unreachable: ${err instanceof Error ? err.message : String(err)}` })
  }
  const body = (await res.json().catch(() => ({}))) as LinkedInError & { elements?: Array<{ status?: unknown; error?: LinkedInError }> }
  if (res.status === 401) return all({ status: 'failed', reason: `Access token expired or revoked: ${describe(body, 401)}` })
  if (res.status === 429 || res.status >= 500) return all({ status: 'retry', retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), env.now()), reason: describe(body, res.status) })
  if (!res.ok) return all({ status: 'failed', reason: describe(body, res.status) })
  const elements = Array.isArray(body.elements) ? body.elements : []
  return req.rowKeys.map((key, i): RowResult => {
    const el = elements[i]
    const status = typeof el?.status === 'number' ? el.status : null
    if (status === null) return { key, result: { status: 'retry', retryAfterMs: null, reason: 'LinkedIn answered without a status for this event' } }
    if (status >= 200 && status < 300) return { key, result: { status: 'sent' } }
    const reason = describe(el?.error, status)
    if (status === 429 || status >= 500) return { key, result: { status: 'retry', retryAfterMs: null, reason } }
    return { key, result: { status: 'failed', reason } }
  })
}

async function send(batch: PlatformBatch, destination: Destination<LinkedInOptions>, env: IntegrationEnv): Promise<RowResult[]> {
  const results: RowResult[] = [...(batch.unsendable ?? [])]
  for (const req of batch.requests) results.push(...(await post(req, destination.options, env)))
  return results
}

export const linkedinAdapter: ApiDestinationAdapter<LinkedInOptions> = {
  kind: 'linkedin',
  secretOptions: ['access-token'],
  parseOptions,
  matchable,
  buildBatch,
  send,
}
