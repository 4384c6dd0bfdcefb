// A local stand-in for Google's OAuth token endpoint and the Google Ads API's
// ConversionUploadService.UploadClickConversions (REST) on 127.0.0.1:0, written from Google's public
// documentation: the refresh-token grant (invalid_client / invalid_grant errors), Bearer access
// tokens that expire, the developer-token and login-customer-id headers, partialFailure required,
// per-conversion checks answered as a partialFailureError whose errors point at
// conversions[index], request-level errors as google.rpc.Status with GoogleAdsFailure details,
// and 429 RESOURCE_EXHAUSTED with Retry-After. It records every request and keeps the uploaded
// conversions by (action, orderId), as Google deduplicates them: the same order again is answered
// ORDER_ID_ALREADY_IN_USE.

import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { listenLocal } from './listen.js'

export interface GoogleAdsStubOptions {
  clientId?: string
  clientSecret?: string
  refreshToken?: string
  developerToken?: string
  customerId?: string
  /** When set, calls must name this manager account in login-customer-id. */
  loginCustomerId?: string | null
  /** Conversion action IDs that exist in the account. */
  actions?: string[]
  /** Access token lifetime, seconds. */
  expiresIn?: number
  /** The stub's clock (epoch ms), for click windows. */
  now?: () => number
}

export interface StubRequest {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  /** JSON (API) or form fields (token endpoint). */
  body: unknown
}

export interface GoogleAdsStub {
  url: string
  tokenUrl: string
  options: Required<Omit<GoogleAdsStubOptions, 'loginCustomerId'>> & { loginCustomerId: string | null }
  requests: StubRequest[]
  /** Token grants made (successful ones). */
  grants: number
  /** Clicks Google knows: click ID → click time (epoch ms). */
  clicks: Map<string, number>
  /** Uploaded conversions by `${action}|${orderId}`. */
  conversions: Map<string, Record<string, unknown>>
  uploads(): Array<{ conversions: Array<Record<string, unknown>>; partialFailure: unknown }>
  /** Every access token issued so far stops working (as when it expires or is revoked). */
  expireTokens(): void
  /** The refresh token is revoked: the token endpoint answers invalid_grant. */
  revokeRefreshToken(): void
  /** The next `n` API calls get 429 with `Retry-After: retryAfter` seconds (null: none, only retryDelay). */
  failNext(n: number, retryAfter: number | null, status?: number): void
  close(): Promise<void>
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/
const HASH = /^[0-9a-f]{64}$/
const DAY = 86_400_000

function parseDateTime(v: unknown): number | null {
  const m = typeof v === 'string' ? DATE_TIME.exec(v) : null
  if (!m) return null
  const local = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])
  const offset = (m[7] === '-' ? -1 : 1) * (+m[8] * 60 + +m[9]) * 60_000
  return local - offset
}

export async function startGoogleAdsStub(opts: GoogleAdsStubOptions = {}): Promise<GoogleAdsStub> {
  const o = {
    clientId: opts.clientId ?? '1234-abc.apps.googleusercontent.com',
    clientSecret: opts.clientSecret ?? 'GOCSPX-client-secret',
    refreshToken: opts.refreshToken ?? '1//0refresh-token',
    developerToken: opts.developerToken ?? 'dev-token-ABC123',
    customerId: opts.customerId ?? '1234567890',
    loginCustomerId: opts.loginCustomerId ?? null,
    actions: opts.actions ?? ['111', '222'],
    expiresIn: opts.expiresIn ?? 3599,
    now: opts.now ?? Date.now,
  }
  const requests: StubRequest[] = []
  const clicks = new Map<string, number>()
  const conversions = new Map<string, Record<string, unknown>>()
  const live = new Set<string>()
  let revoked = false
  let failures: Array<{ retryAfter: number | null; status: number }> = []
  const stub = { grants: 0 }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stub')
      const text = await readText(req)
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers })
        res.end(JSON.stringify(json))
      }
      if (url.pathname === '/token') {
        const form = Object.fromEntries(new URLSearchParams(text))
        requests.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body: form })
        if (req.method !== 'POST' || !String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
          return send(400, { error: 'invalid_request', error_description: 'Required parameter is missing: grant_type' })
        }
        if (form.grant_type !== 'refresh_token') return send(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + (form.grant_type ?? '') })
        if (form.client_id !== o.clientId || form.client_secret !== o.clientSecret) return send(401, { error: 'invalid_client', error_description: 'Unauthorized' })
        if (form.refresh_token !== o.refreshToken || revoked) return send(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' })
        const token = `ya29.${randomBytes(12).toString('hex')}`
        live.add(token)
        stub.grants++
        return send(200, { access_token: token, expires_in: o.expiresIn, scope: 'https://www.googleapis.com/auth/adwords', token_type: 'Bearer' })
      }
      let body: unknown
      try {
        body = text === '' ? undefined : JSON.parse(text)
      } catch {
        body = text
      }
      requests.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body })
      const failure = (status: number, rpc: string, message: string, errors: unknown[] = [], extra: unknown[] = []) =>
        send(status, {
          error: {
            code: status, message, status: rpc,
            details: [...(errors.length > 0 ? [{ '@type': 'type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure', errors, requestId: 'req-' + requests.length }] : []), ...extra],
          },
        })

      const m = /^\/v(\d+)\/customers\/(\d+):uploadClickConversions$/.exec(url.pathname)
      if (!m || req.method !== 'POST') return failure(404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`)
      const auth = String(req.headers.authorization ?? '')
      if (!auth.startsWith('Bearer ') || !live.has(auth.slice(7))) {
        return failure(401, 'UNAUTHENTICATED', 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
          [{ errorCode: { authenticationError: 'OAUTH_TOKEN_INVALID' }, message: 'Oauth token is invalid.' }])
      }
      if (req.headers['developer-token'] !== o.developerToken) {
        return failure(401, 'UNAUTHENTICATED', 'The developer token is not valid.', [{ errorCode: { authenticationError: 'DEVELOPER_TOKEN_INVALID' }, message: 'The developer token is not valid.' }])
      }
      if (o.loginCustomerId !== null && req.headers['login-customer-id'] !== o.loginCustomerId) {
        return failure(403, 'PERMISSION_DENIED', "The caller does not have permission", [{ errorCode: { authorizationError: 'USER_PERMISSION_DENIED' }, message: "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header." }])
      }
      if (m[2] !== o.customerId) return failure(403, 'PERMISSION_DENIED', 'The caller does not have permission', [{ errorCode: { authorizationError: 'USER_PERMISSION_DENIED' }, message: "User doesn't have permission to access customer." }])
      const next = failures.shift()
      if (next) {
        const headers: Record<string, string> = next.retryAfter !== null ? { 'retry-after': String(next.retryAfter) } : {}
        return send(next.status, {
          error: {
            code: next.status, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED',
            details: [{ '@type': 'type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure', errors: [{ errorCode: { quotaError: 'RESOURCE_EXHAUSTED' }, message: 'Too many requests. Retry in 30 seconds.', details: { quotaErrorDetails: { rateScope: 'ACCOUNT', rateName: 'Requests per service per method', retryDelay: '30s' } } }] }],
          },
        }, headers)
      }
      const b = body as { conversions?: unknown; partialFailure?: unknown } | undefined
      if (typeof b !== 'object' || b === null || !Array.isArray(b.conversions)) {
        return failure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [{ errorCode: { requestError: 'REQUIRED_FIELD_MISSING' }, message: 'Required field was not specified.', location: { fieldPathElements: [{ fieldName: 'conversions' }] } }])
      }
      if (b.partialFailure !== true) {
        return failure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [{ errorCode: { conversionUploadError: 'PARTIAL_FAILURE_MODE_REQUIRED' }, message: 'Partial failure mode must be enabled for this request.' }])
      }
      if (b.conversions.length === 0 || b.conversions.length > 2000) {
        return failure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [{ errorCode: { conversionUploadError: 'TOO_MANY_CONVERSIONS_IN_REQUEST' }, message: 'Too many conversions in request.' }])
      }
      const errors: unknown[] = []
      const results: unknown[] = []
      const now = o.now()
      b.conversions.forEach((raw: unknown, index) => {
        const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
        const fail = (errorCode: Record<string, string>, message: string, field: string) => {
          errors.push({ errorCode, message, trigger: {}, location: { fieldPathElements: [{ fieldName: 'conversions', index }, { fieldName: field }] } })
          results.push({})
        }
        const action = /^customers\/(\d+)\/conversionActions\/(\d+)$/.exec(String(c.conversionAction ?? ''))
        if (!action || action[1] !== o.customerId || !o.actions.includes(action[2])) {
          return fail({ conversionUploadError: 'INVALID_CONVERSION_ACTION' }, 'Conversion action cannot be used for uploads, or does not exist.', 'conversion_action')
        }
        const at = parseDateTime(c.conversionDateTime)
        if (at === null) return fail({ dateError: 'INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET' }, 'The string date time format should be yyyy-mm-dd hh:mm:ss+|-hh:mm.', 'conversion_date_time')
        if (c.conversionValue !== undefined && (typeof c.conversionValue !== 'number' || c.conversionValue < 0)) {
          return fail({ fieldError: 'INVALID_VALUE' }, 'The field is not valid.', 'conversion_value')
        }
        if (c.currencyCode !== undefined && !/^[A-Z]{3}$/.test(String(c.currencyCode))) return fail({ conversionUploadError: 'INVALID_CURRENCY_CODE' }, 'Currency code is not valid.', 'currency_code')
        const ids = ['gclid', 'gbraid', 'wbraid'].filter((k) => c[k] !== undefined)
        const users = Array.isArray(c.userIdentifiers) ? (c.userIdentifiers as Array<Record<string, unknown>>) : []
        if (ids.length > 1) return fail({ conversionUploadError: 'GBRAID_WBRAID_BOTH_SET' }, 'Only one of gclid, gbraid or wbraid can be set.', ids[1])
        if (ids.length === 1 && ids[0] !== 'gclid' && users.length > 0) {
          return fail({ conversionUploadError: 'CANNOT_USE_GBRAID_WBRAID_WITH_USER_IDENTIFIERS' }, 'gbraid and wbraid cannot be used with user identifiers.', 'user_identifiers')
        }
        if (ids.length === 0 && users.length === 0) return fail({ conversionUploadError: 'CONVERSION_NOT_FOUND' }, 'Either a click ID or user identifiers are required.', 'gclid')
        for (const u of users) {
          const hash = u.hashedEmail ?? u.hashedPhoneNumber
          if (typeof hash !== 'string' || !HASH.test(hash)) return fail({ fieldError: 'INVALID_VALUE' }, 'User identifiers must be SHA-256 hashes in lower-case hex.', 'user_identifiers')
        }
        if (ids.length === 1) {
          const clickAt = clicks.get(String(c[ids[0]]))
          if (clickAt === undefined) return fail({ conversionUploadError: 'UNPARSEABLE_GCLID' }, 'The click identifier could not be decoded.', ids[0])
          if (at < clickAt) return fail({ conversionUploadError: 'CONVERSION_PRECEDES_EVENT' }, 'The conversion occurred before the click.', 'conversion_date_time')
          if (at - clickAt > 90 * DAY) return fail({ conversionUploadError: 'EXPIRED_EVENT' }, 'The click occurred before the conversion action\'s click-through lookback window.', ids[0])
          if (now - clickAt < 6 * 3_600_000) return fail({ conversionUploadError: 'TOO_RECENT_EVENT' }, 'The click occurred less than 6 hours ago; retry after 6 hours have passed.', ids[0])
        }
        const key = `${action[2]}|${String(c.orderId ?? '')}`
        // Google keeps one conversion per (action, orderId) and refuses the same order again.
        if (c.orderId !== undefined && conversions.has(key)) return fail({ conversionUploadError: 'ORDER_ID_ALREADY_IN_USE' }, 'The order ID is already in use by another conversion of this conversion action.', 'order_id')
        conversions.set(key, c)
        results.push({ conversionAction: c.conversionAction, conversionDateTime: c.conversionDateTime, ...(ids.length === 1 ? { [ids[0]]: c[ids[0]] } : { userIdentifiers: users }) })
      })
      const response: Record<string, unknown> = { results, jobId: String(1000 + requests.length) }
      if (errors.length > 0) {
        response.partialFailureError = {
          code: 3,
          message: `${errors.length} conversion(s) failed; see details.`,
          details: [{ '@type': 'type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure', errors, requestId: 'req-' + requests.length }],
        }
      }
      return send(200, response)
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 500, message: String(err), status: 'INTERNAL' } }))
    })
  })
  const local = await listenLocal(server)
  const base = local.url
  return {
    url: base,
    tokenUrl: `${base}/token`,
    options: o,
    requests,
    get grants() { return stub.grants },
    clicks,
    conversions,
    uploads: () => requests.filter((r) => r.path.endsWith(':uploadClickConversions')).map((r) => r.body as { conversions: Array<Record<string, unknown>>; partialFailure: unknown }),
    expireTokens: () => live.clear(),
    revokeRefreshToken: () => {
      revoked = true
      live.clear()
    },
    failNext: (n, retryAfter, status = 429) => {
      failures = Array.from({ length: n }, () => ({ retryAfter, status }))
    },
    close: local.close,
  }
}
