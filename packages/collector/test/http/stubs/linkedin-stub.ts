// A local stand-in for LinkedIn's Conversions API (POST /rest/conversionEvents) on 127.0.0.1:0,
// written from LinkedIn's public Marketing API documentation: Bearer tokens (expired ones are 401
// EXPIRED_ACCESS_TOKEN), the LinkedIn-Version and X-Restli-Protocol-Version headers, Rest.li
// BATCH_CREATE with {elements: […]} answered element by element ({status: 201} or {status: 400,
// error}), the event checks LinkedIn makes (a known conversion rule, a time inside the last 90 days
// in ms, an amount as a decimal string, known user ID types, SHA-256 e-mail hashes), and 429 with
// Retry-After. Events are kept by (conversion, eventId), LinkedIn's deduplication key.

import { createServer, type IncomingMessage, type Server } from 'node:http'
import { listenLocal } from './listen.js'

export interface LinkedInStubRequest {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

export interface LinkedInStub {
  url: string
  token: string
  /** Conversion rules that exist (and use the Conversions API method). */
  rules: Set<string>
  requests: LinkedInStubRequest[]
  /** Kept events by `${conversion}|${eventId}`. */
  events: Map<string, Record<string, unknown>>
  expireToken(): void
  /** The next `n` requests get 429 with `Retry-After: retryAfter` seconds. */
  failNext(n: number, retryAfter: number): void
  close(): Promise<void>
}

const ID_TYPES = new Set(['SHA256_EMAIL', 'LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID', 'ACXIOM_ID', 'ORACLE_MOAT_ID'])
const DAY = 86_400_000
/** Versions the stub treats as active (LinkedIn keeps about a year of monthly versions). */
const ACTIVE = /^(2025(0[4-9]|1[0-2])|2026(0[1-9]|1[0-2]))$/

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startLinkedInStub(opts: { token?: string; rules?: string[]; now?: () => number } = {}): Promise<LinkedInStub> {
  const token = opts.token ?? 'AQV-linkedin-token'
  const rules = new Set(opts.rules ?? ['urn:lla:llaPartnerConversion:1111', 'urn:lla:llaPartnerConversion:2222'])
  const now = opts.now ?? Date.now
  const requests: LinkedInStubRequest[] = []
  const events = new Map<string, Record<string, unknown>>()
  let expired = false
  let failures: number[] = []

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stub')
      const text = await readText(req)
      let body: unknown
      try {
        body = text === '' ? undefined : JSON.parse(text)
      } catch {
        body = undefined
      }
      requests.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body })
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(json))
      }
      const auth = String(req.headers.authorization ?? '')
      if (auth !== `Bearer ${token}`) return send(401, { status: 401, serviceErrorCode: 65600, code: 'INVALID_ACCESS_TOKEN', message: 'Invalid access token' })
      if (expired) return send(401, { status: 401, serviceErrorCode: 65601, code: 'EXPIRED_ACCESS_TOKEN', message: 'The token used in the request has expired' })
      if (url.pathname !== '/rest/conversionEvents' || req.method !== 'POST') return send(404, { status: 404, message: 'Resource not found' })
      const version = req.headers['linkedin-version']
      if (typeof version !== 'string') return send(400, { status: 400, code: 'VERSION_MISSING', message: 'A version must be present. Please specify a version by adding the LinkedIn-Version header.' })
      if (!ACTIVE.test(version)) return send(426, { status: 426, code: 'NONEXISTENT_VERSION', message: `Requested version ${version} is not active` })
      if (req.headers['x-restli-protocol-version'] !== '2.0.0') return send(400, { status: 400, message: 'X-Restli-Protocol-Version 2.0.0 is required' })
      const retryAfter = failures.shift()
      if (retryAfter !== undefined) return send(429, { status: 429, code: 'TOO_MANY_REQUESTS', message: 'Resource level throttle limit for calls to this resource is reached.' }, { 'retry-after': String(retryAfter) })
      const batch = req.headers['x-restli-method'] === 'BATCH_CREATE'
      const list = batch ? (body as { elements?: unknown } | undefined)?.elements : [body]
      if (!Array.isArray(list) || list.length === 0) return send(400, { status: 400, code: 'ILLEGAL_ARGUMENT', message: batch ? 'elements is required for BATCH_CREATE' : 'Request body is required' })

      const results = list.map((raw: unknown) => {
        const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
        const bad = (message: string) => ({ status: 400, error: { status: 400, code: 'ILLEGAL_ARGUMENT', message } })
        if (typeof e.conversion !== 'string' || !/^urn:lla:llaPartnerConversion:\d+$/.test(e.conversion)) return bad('/conversion: must be a urn:lla:llaPartnerConversion URN')
        if (!rules.has(e.conversion)) return { status: 404, error: { status: 404, code: 'NOT_FOUND', message: `Conversion rule ${e.conversion} does not exist or does not use the Conversions API` } }
        const at = e.conversionHappenedAt
        if (typeof at !== 'number' || !Number.isInteger(at) || at < 1e12) return bad('/conversionHappenedAt: must be epoch milliseconds')
        if (at > now() + 60_000) return bad('/conversionHappenedAt: cannot be in the future')
        if (at < now() - 90 * DAY) return bad('/conversionHappenedAt: must be within the past 90 days')
        if (e.conversionValue !== undefined) {
          const v = e.conversionValue as { currencyCode?: unknown; amount?: unknown }
          if (typeof v.amount !== 'string' || !/^\d+(\.\d+)?$/.test(v.amount)) return bad('/conversionValue/amount: must be a decimal number as a string')
          if (typeof v.currencyCode !== 'string' || !/^[A-Z]{3}$/.test(v.currencyCode)) return bad('/conversionValue/currencyCode: must be an ISO 4217 code')
        }
        const ids = (e.user as { userIds?: unknown } | undefined)?.userIds
        if (!Array.isArray(ids) || ids.length === 0) return bad('/user/userIds: at least one user ID is required')
        for (const id of ids as Array<{ idType?: unknown; idValue?: unknown }>) {
          if (!ID_TYPES.has(String(id.idType))) return bad(`/user/userIds: unknown idType ${String(id.idType)}`)
          if (typeof id.idValue !== 'string' || id.idValue === '') return bad('/user/userIds: idValue is required')
          if (id.idType === 'SHA256_EMAIL' && !/^[0-9a-f]{64}$/.test(id.idValue)) return bad('/user/userIds: SHA256_EMAIL must be a SHA-256 hash in hex')
        }
        if (e.eventId !== undefined && typeof e.eventId !== 'string') return bad('/eventId: must be a string')
        const key = `${e.conversion}|${String(e.eventId ?? Math.random())}`
        if (!events.has(key)) events.set(key, e)
        return { status: 201 }
      })
      if (!batch) {
        const [r] = results as Array<{ status: number; error?: unknown }>
        if (r.status !== 201) return send(r.status, r.error)
        res.writeHead(201)
        return res.end()
      }
      return send(200, { elements: results })
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ status: 500, message: String(err) }))
    })
  })
  const local = await listenLocal(server)
  return {
    url: local.url,
    token,
    rules,
    requests,
    events,
    expireToken: () => { expired = true },
    failNext: (n, retryAfter) => { failures = Array.from({ length: n }, () => retryAfter) },
    close: local.close,
  }
}
