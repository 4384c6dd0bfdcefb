// The Segment HTTP API under /segment/v1: batch and single calls, by their names and by the
// one-letter paths analytics.js posts to. The write key is a site key: publishable (a browser:
// origin-checked, bots dropped, identify only links an existing lead) or secret (a server: never
// bot-filtered — server clients name themselves in their User-Agent — and identify is
// authoritative, as /v1/identify). Messages become wire events (ingest/segment.ts) and take the
// collect pipeline; the valid messages of a batch are kept whatever their neighbours did.

import { createGunzip } from 'node:zlib'
import { PassThrough, type Readable } from 'node:stream'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { nanoid } from 'nanoid'
import { authenticatePublic, authenticateSecretToken } from '../auth.js'
import { isBotUserAgent } from '../bots.js'
import { parseJson } from '../json-body.js'
import type { AppContext, RouteModule } from '../context.js'
import { ClError, clError, ERRORS, type ErrorDef } from '../../errors.js'
import { ingestBatch, rejectedExcerpt, type Rejection } from '../../ingest/batch.js'
import { recordDrop } from '../../ingest/drops.js'
import { convertMessage, SEGMENT_LIMITS, SEGMENT_TYPES, type CompanyAction, type SegmentType } from '../../ingest/segment.js'
import { isPublicKey } from '../../sites/keys.js'
import type { Site } from '../../store/types.js'

/** analytics.js's paths: the type's first letter (`/t`, `/p`, …) and `/b` for a batch. */
const SHORT: Record<string, SegmentType> = { t: 'track', p: 'page', i: 'identify', a: 'alias', g: 'group', s: 'screen' }

/** The key from `Authorization: Basic base64(key:)` (or Bearer), else the body's `writeKey`. */
export function writeKeyOf(authorization: string | undefined, body: unknown): string | null {
  const header = authorization?.trim() ?? ''
  const basic = /^Basic\s+([A-Za-z0-9+/=_-]+)$/i.exec(header)
  if (basic) {
    const user = Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0].trim()
    if (user !== '') return user
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)
  if (bearer) return bearer[1]
  const field = typeof body === 'object' && body !== null ? (body as { writeKey?: unknown }).writeKey : undefined
  return typeof field === 'string' && field.trim() !== '' ? field.trim() : null
}

/**
 * rudder-sdk-node gzips every body. The decompressed bytes are what the route's body limit counts
 * (Fastify checks it as they arrive), so a small bomb cannot expand past 500 KB.
 */
async function decompress(request: FastifyRequest, payload: Readable): Promise<Readable> {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  if (encoding === 'identity' || encoding === '') return payload
  if (encoding !== 'gzip' && encoding !== 'x-gzip') throw clError('UNSUPPORTED_ENCODING')
  const out = new PassThrough() as PassThrough & { receivedEncodedLength: number }
  out.receivedEncodedLength = 0
  const gunzip = createGunzip()
  payload.on('data', (chunk: Buffer) => {
    out.receivedEncodedLength += chunk.length
  })
  payload.on('error', (err) => out.destroy(err))
  gunzip.on('error', () => out.destroy(clError('BAD_ENCODING')))
  payload.pipe(gunzip).pipe(out)
  return out
}

const BY_CODE = new Map<string, ErrorDef>(Object.values(ERRORS).map((d) => [d.code, d]))

async function authenticate(request: FastifyRequest, ctx: AppContext, key: string): Promise<{ site: Site; publishable: boolean }> {
  // A pk_ key that is not a site's is an unknown site, not a bad secret key.
  if (isPublicKey(key) || key.startsWith('pk_')) return { site: await authenticatePublic(request, ctx, key), publishable: true }
  return { site: await authenticateSecretToken(request, ctx, key), publishable: false }
}

async function applyCompany(ctx: AppContext, site: Site, a: CompanyAction): Promise<void> {
  const person = ctx.pii.protect({ email: a.email, phone: a.phone, externalId: a.externalId }, a.visitorId, site.settings.phoneRegion)
  if (person.keys.length === 0) return
  await ctx.store.identify({
    siteId: site.id,
    visitorId: a.visitorId,
    suppression: person.suppression,
    keys: person.keys,
    emailEnc: person.emailEnc,
    phoneEnc: person.phoneEnc,
    externalId: person.externalId,
    company: a.company,
    accountDomain: person.accountDomain,
    ts: a.ts,
  })
}

interface Envelope {
  sentAt?: string | number | null
  context?: Record<string, unknown> | null
}

/** Messages in, `rejected` (by message index) out; everything valid is stored before this returns. */
async function ingestMessages(ctx: AppContext, log: FastifyBaseLogger, site: Site, publishable: boolean, messages: unknown[], env: Envelope): Promise<Rejection[]> {
  const receivedAt = Date.now()
  const internalHosts = site.origins.flatMap((o) => {
    try {
      return [new URL(o).hostname]
    } catch {
      return []
    }
  })
  const events: Array<Record<string, unknown>> = []
  const owner: number[] = []
  const companies: Array<{ index: number; action: CompanyAction }> = []
  const rejected = new Map<number, string>()
  const rows = []
  for (let i = 0; i < messages.length; i++) {
    const c = convertMessage(messages[i], { receivedAt, sentAt: env.sentAt, context: env.context, internalHosts, newId: nanoid })
    if (!c.ok) {
      rejected.set(i, c.code)
      // RudderStack copies traits into context.traits: removed like the top-level ones.
      const m = messages[i]
      const ctxObj = typeof m === 'object' && m !== null ? (m as { context?: unknown }).context : undefined
      const safe = typeof ctxObj === 'object' && ctxObj !== null ? { ...(m as object), context: { ...ctxObj, traits: undefined } } : m
      rows.push({ siteId: site.id, receivedAt, code: c.code, payload: rejectedExcerpt(safe) })
      continue
    }
    for (const e of c.events) {
      events.push(e)
      owner.push(i)
    }
    // A browser (publishable key) never moves a lead to another company, as it never edits a lead.
    if (c.company !== null && !publishable) companies.push({ index: i, action: c.company })
  }
  if (rows.length > 0) {
    for (const r of rows) ctx.metrics.eventsRejected.inc({ code: r.code })
    await ctx.store.recordRejected(rows)
    await recordDrop(ctx, log, site, 'invalid', rows.length, receivedAt)
  }
  if (events.length > 0) {
    const result = await ingestBatch(ctx, log, site, events, { siteId: site.id, receivedAt, trustTs: false, publishable, phoneRegion: site.settings.phoneRegion })
    for (const r of result.rejected) if (!rejected.has(owner[r.index])) rejected.set(owner[r.index], r.code)
  }
  for (const { index, action } of companies) {
    if (rejected.has(index)) continue
    try {
      await applyCompany(ctx, site, action)
    } catch (err) {
      if (!(err instanceof ClError)) throw err
      rejected.set(index, err.code)
    }
  }
  return [...rejected].map(([index, code]) => ({ index, code })).sort((a, b) => a.index - b.index)
}

const record = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null)

export const segmentRoute: RouteModule = (app, ctx) => {
  const handle = (kind: SegmentType | 'batch') => async (request: FastifyRequest) => {
    const body = record(request.body)
    if (body === null) throw clError('VALIDATION', 'The body must be a JSON object')
    const key = writeKeyOf(request.headers.authorization, body)
    if (key === null) throw clError('MISSING_WRITE_KEY')
    let messages: unknown[]
    if (kind === 'batch') {
      if (!Array.isArray(body.batch)) throw clError('VALIDATION', 'batch: expected an array of messages')
      messages = body.batch
    } else {
      // The path says what the call is; a client's own `type` field is not needed.
      messages = [{ ...body, type: kind }]
    }
    const { site, publishable } = await authenticate(request, ctx, key).catch(async (err: unknown) => {
      if (err instanceof ClError && (err.code === ERRORS.UNKNOWN_SITE.code || err.code === ERRORS.BAD_SECRET_KEY.code)) {
        await recordDrop(ctx, request.log, null, 'unknown_key', messages.length, Date.now())
      } else if (err instanceof ClError && err.code === ERRORS.ORIGIN_NOT_ALLOWED.code) {
        await recordDrop(ctx, request.log, await ctx.sites.byPublic(key), 'origin', messages.length, Date.now())
      }
      throw err
    })
    if (publishable && ctx.config.botFilter && !site.settings.keepBots && isBotUserAgent(request.headers['user-agent'])) {
      ctx.metrics.eventsBot.inc({}, messages.length)
      await recordDrop(ctx, request.log, site, 'bot', messages.length, Date.now())
      return { success: true, rejected: [] }
    }
    const rejected = await ingestMessages(ctx, request.log, site, publishable, messages, { sentAt: body.sentAt as Envelope['sentAt'], context: kind === 'batch' ? record(body.context) : null })
    // A single call answers with its message's own error; a batch reports per message, like collect.
    if (kind !== 'batch' && rejected.length > 0) {
      const def = BY_CODE.get(rejected[0].code) ?? ERRORS.INVALID_EVENT
      throw new ClError(def)
    }
    return { success: true, rejected }
  }

  const batchOptions = { bodyLimit: SEGMENT_LIMITS.batchBody, preParsing: [decompressHook] }
  const singleOptions = { bodyLimit: SEGMENT_LIMITS.messageBytes, preParsing: [decompressHook] }
  void app.register(async (scope) => {
    // Clients label the same JSON in many ways: rudder-sdk-node sends its gzip JSON as
    // application/x-www-form-urlencoded. Here every body is read as JSON, whatever its type.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseJson(body as string))
      } catch (err) {
        done(err as Error, undefined)
      }
    })
    scope.post('/segment/v1/batch', batchOptions, handle('batch'))
    scope.post('/segment/v1/b', batchOptions, handle('batch'))
    for (const type of SEGMENT_TYPES) scope.post(`/segment/v1/${type}`, singleOptions, handle(type))
    for (const [letter, type] of Object.entries(SHORT)) scope.post(`/segment/v1/${letter}`, singleOptions, handle(type))
  })
}

async function decompressHook(request: FastifyRequest, _reply: unknown, payload: Readable): Promise<Readable> {
  return decompress(request, payload)
}
