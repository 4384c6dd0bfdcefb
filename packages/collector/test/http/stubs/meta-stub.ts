// A local stand-in for Meta's Conversions API (POST /{version}/{pixel}/events on the Graph API)
// on 127.0.0.1:0, written from Meta's public documentation: access_token in the query, Graph API
// error JSON ({error: {message, type, code, error_subcode, fbtrace_id}}), expired tokens as code
// 190, unknown pixels as code 100/33, at most 1,000 events a request, and the event checks Meta
// makes, where one invalid event rejects the whole request (400, nothing kept). Rate limits are
// answered as Meta does: code 17 with X-Business-Use-Case-Usage naming the minutes until access
// comes back. Events are kept by (event_name, event_id), Meta's deduplication key.

import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { listenLocal } from './listen.js'

export interface MetaStubRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

export interface MetaStub {
  url: string
  pixelId: string
  token: string
  requests: MetaStubRequest[]
  /** Kept events by `${event_name}|${event_id}`. */
  events: Map<string, Record<string, unknown>>
  /** The access token stops working (code 190, subcode 463). */
  expireToken(): void
  /** After `after` more requests, the next `n` hit the rate limit; access comes back in `minutes`. */
  rateLimitNext(n: number, minutes: number, after?: number): void
  close(): Promise<void>
}

const ACTION_SOURCES = new Set(['email', 'website', 'app', 'phone_call', 'chat', 'physical_store', 'system_generated', 'business_messaging', 'other'])
const HASH = /^[0-9a-f]{64}$/
const CUSTOMER_KEYS = ['em', 'ph', 'fn', 'ln', 'ge', 'db', 'ct', 'st', 'zp', 'country', 'external_id', 'client_ip_address', 'client_user_agent', 'fbc', 'fbp', 'lead_id', 'anon_id', 'madid', 'page_id', 'ctwa_clid']
const DAY_S = 86_400

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startMetaStub(opts: { pixelId?: string; token?: string; now?: () => number } = {}): Promise<MetaStub> {
  const pixelId = opts.pixelId ?? '1234567890123456'
  const token = opts.token ?? 'EAAB-meta-capi-token'
  const now = opts.now ?? Date.now
  const requests: MetaStubRequest[] = []
  const events = new Map<string, Record<string, unknown>>()
  let expired = false
  let limited: number[] = []
  let limitAfter = 0

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stub')
      const text = await readText(req)
      let body: unknown
      try {
        body = text === '' ? undefined : JSON.parse(text)
      } catch {
        body = text
      }
      requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body })
      const trace = () => randomBytes(8).toString('base64url')
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers })
        res.end(JSON.stringify(json))
      }
      const error = (status: number, e: Record<string, unknown>, headers: Record<string, string> = {}) =>
        send(status, { error: { type: 'OAuthException', is_transient: false, ...e, fbtrace_id: trace() } }, headers)
      const invalid = (title: string, msg: string, subcode: number) =>
        error(400, { message: 'Invalid parameter', code: 100, error_subcode: subcode, error_user_title: title, error_user_msg: msg })

      const given = url.searchParams.get('access_token') ?? (body as { access_token?: string } | undefined)?.access_token
      if (!given) return error(400, { message: 'An access token is required to request this resource.', code: 104 })
      if (given !== token || expired) {
        return error(400, { message: `Error validating access token: Session has expired on ${new Date(now() - DAY_S * 1000).toUTCString()}. The current time is ${new Date(now()).toUTCString()}.`, code: 190, error_subcode: 463 })
      }
      const m = /^\/(v\d+\.\d+)\/(\d+)\/events$/.exec(url.pathname)
      if (req.method !== 'POST' || !m || m[2] !== pixelId) {
        return error(400, { message: `Unsupported post request. Object with ID '${m?.[2] ?? url.pathname}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, type: 'GraphMethodException', code: 100, error_subcode: 33 })
      }
      const minutes = limitAfter > 0 ? (limitAfter--, undefined) : limited.shift()
      if (minutes !== undefined) {
        const usage = { [pixelId]: [{ type: 'ads_management', call_count: 100, total_cputime: 25, total_time: 25, estimated_time_to_regain_access: minutes }] }
        return error(400, { message: '(#17) User request limit reached', code: 17, error_subcode: 2446079, is_transient: true }, { 'x-business-use-case-usage': JSON.stringify(usage) })
      }
      const data = (body as { data?: unknown } | undefined)?.data
      if (!Array.isArray(data)) return error(400, { message: '(#100) The parameter data is required', code: 100 })
      if (data.length === 0 || data.length > 1000) return error(400, { message: '(#100) param data must be an array of 1 to 1000 events', code: 100 })
      const nowS = Math.floor(now() / 1000)
      for (const [i, raw] of data.entries()) {
        const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
        const at = ` (event ${i})`
        if (typeof e.event_name !== 'string' || e.event_name === '') return invalid('Missing Event Name', `The event_name parameter is required${at}.`, 2804002)
        if (typeof e.event_time !== 'number' || !Number.isInteger(e.event_time)) return invalid('Invalid Event Time', `event_time must be a Unix timestamp in seconds${at}.`, 2804003)
        if (e.event_time > nowS + 60) return invalid('Event Timestamp In The Future', `The timestamp for this event is in the future${at}. event_time is in seconds, not milliseconds.`, 2804004)
        if (e.event_time < nowS - 7 * DAY_S) {
          return invalid('Event Timestamp Too Old', `The timestamp for this event is too far in the past${at}. Events need to be sent from your server within 7 days of when they occurred.`, 2804004)
        }
        if (!ACTION_SOURCES.has(String(e.action_source))) return invalid('Invalid Action Source', `action_source must be one of ${[...ACTION_SOURCES].join(', ')}${at}.`, 2804050)
        const user = e.user_data as Record<string, unknown> | undefined
        if (typeof user !== 'object' || user === null || !CUSTOMER_KEYS.some((k) => user[k] !== undefined)) {
          return invalid('Missing User Data', `At least one customer information parameter is required in user_data${at}.`, 2804019)
        }
        for (const k of ['em', 'ph', 'external_id']) {
          const v = user[k]
          if (v === undefined) continue
          const list = Array.isArray(v) ? v : [v]
          // Meta hashes plain values itself, but a value that is neither plain nor a SHA-256 hex is refused.
          if (k !== 'external_id' && list.some((x) => typeof x !== 'string' || (!HASH.test(x) && /^[0-9a-f]{40,}$/i.test(x)))) {
            return invalid('Invalid Hash', `user_data.${k} must be SHA-256 hashes in lower-case hex${at}.`, 2804012)
          }
        }
        if (user.fbc !== undefined && !/^fb\.\d\.\d{13}\.\S+$/.test(String(user.fbc))) {
          return invalid('Invalid fbc', `user_data.fbc must look like fb.1.{creation time in ms}.{fbclid}${at}.`, 2804013)
        }
        const custom = e.custom_data as Record<string, unknown> | undefined
        if (custom?.value !== undefined) {
          if (typeof custom.value !== 'number' || !Number.isFinite(custom.value)) return invalid('Invalid Value', `custom_data.value must be a number${at}.`, 2804021)
          if (!/^[A-Za-z]{3}$/.test(String(custom.currency ?? ''))) return invalid('Invalid Currency Code', `custom_data.currency must be a 3-letter ISO 4217 code${at}.`, 2804022)
        }
      }
      // Valid as a whole: every event is received; a known (event_name, event_id) is a duplicate Meta drops.
      for (const raw of data as Array<Record<string, unknown>>) {
        const key = `${String(raw.event_name)}|${String(raw.event_id ?? randomBytes(6).toString('hex'))}`
        if (!events.has(key)) events.set(key, raw)
      }
      return send(200, { events_received: data.length, messages: [], fbtrace_id: trace() })
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: String(err), type: 'OAuthException', code: 1, is_transient: true } }))
    })
  })
  const local = await listenLocal(server)
  return {
    url: local.url,
    pixelId,
    token,
    requests,
    events,
    expireToken: () => { expired = true },
    rateLimitNext: (n, minutes, after = 0) => {
      limited = Array.from({ length: n }, () => minutes)
      limitAfter = after
    },
    close: local.close,
  }
}
