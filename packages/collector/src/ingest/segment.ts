// Segment-style messages (analytics.js, @segment/analytics-next and -node, RudderStack, …) → the
// collector's own wire events, which then take the ordinary ingest path (ingest/batch.ts). Pure: no
// I/O, so the mapping is testable alone. The touch of a page comes from the tracker's own rules
// (`detectTouch` of @closeloop/tracker/channel), never from a second implementation.

import { createHash } from 'node:crypto'
import { detectTouch } from '@closeloop/tracker/channel'
import { z } from 'zod'
import { ERRORS } from '../errors.js'
import { MAX_COMPANY } from '../store/accounts.js'

export const SEGMENT_LIMITS = {
  /** One message, as JSON (the size Segment's own API accepts). */
  messageBytes: 32 * 1024,
  /** One batch request, after decompression. */
  batchBody: 500 * 1024,
} as const

/** The message types, and the one-letter paths analytics.js posts them to (`/t`, `/p`, …). */
export const SEGMENT_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const
export type SegmentType = (typeof SEGMENT_TYPES)[number]

const hash = (text: string, chars: number) => createHash('sha256').update(text).digest('base64url').slice(0, chars)

/**
 * The store's visitor key (21 characters of the nanoid alphabet) of a client's anonymousId (or of
 * a userId when no anonymousId is sent). SHA-256 truncated to 126 bits: the same string always
 * gives the same visitor, and distinct strings collide with a probability below 10⁻¹⁹ even among
 * billions of IDs. The "segment" prefix keeps these apart from any other use of the hash.
 */
export function segmentVisitorId(id: string): string {
  return hash(`segment\0visitor\0${id}`, 21)
}

/**
 * The event ID of a messageId: 32 characters (192 bits), so a retried message (same messageId,
 * same visitor) is a duplicate, and never equal to a tracker event ID (21 characters).
 */
export function segmentEventId(messageId: string, part = ''): string {
  return hash(`segment\0message\0${messageId}\0${part}`, 32)
}

/** One client session per visitor and UTC day (these clients keep no session), unless the client names one. */
function sessionId(visitorId: string, ts: number, clientSession: string | null): string {
  return hash(clientSession === null ? `day\0${visitorId}\0${Math.floor(ts / 86_400_000)}` : `client\0${visitorId}\0${clientSession}`, 21)
}

// IDs: Segment's spec says strings; older clients send numbers, which the API has always accepted.
const idValue = z.union([z.string().max(1000), z.number().finite()]).transform(String).transform((s) => s.trim())
const time = z.union([z.string().max(64), z.number().finite()]).nullish()
const record = z.record(z.string(), z.unknown())

const messageSchema = z.object({
  type: z.enum(SEGMENT_TYPES),
  messageId: idValue.nullish(),
  anonymousId: idValue.nullish(),
  userId: idValue.nullish(),
  previousId: idValue.nullish(),
  groupId: idValue.nullish(),
  event: z.string().nullish(),
  name: z.string().nullish(),
  properties: record.nullish(),
  traits: record.nullish(),
  context: record.nullish(),
  timestamp: time,
  originalTimestamp: time,
  sentAt: time,
})
type Message = z.infer<typeof messageSchema>

function parseTime(value: string | number | null | undefined): number | null | undefined {
  if (value === null || value === undefined || value === '') return undefined
  const ms = typeof value === 'number' ? value : Date.parse(value)
  return Number.isFinite(ms) ? Math.round(ms) : null
}

export interface SegmentBatchContext {
  receivedAt: number
  /** The request's `sentAt` (batch envelope or single message), for messages without their own. */
  sentAt?: string | number | null
  /** Batch-level `context`, merged under each message's own. */
  context?: Record<string, unknown> | null
  /** The site's own hosts: a referral from one of them is no new touch. */
  internalHosts: string[]
  /** Random message IDs for messages that carry none (they cannot be deduplicated). */
  newId: () => string
}

/** A company to set on the person's lead (group's name, identify's traits.company): secret keys only. */
export interface CompanyAction {
  visitorId: string
  email: string | null
  phone: string | null
  externalId: string | null
  company: string
  ts: number
}

export type Converted =
  | { ok: true; events: Array<Record<string, unknown>>; company: CompanyAction | null }
  | { ok: false; code: string }

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null)
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {})

/** The time Segment would record: the client's time corrected by how far its clock was off when it sent. */
function eventTime(m: Message, ctx: SegmentBatchContext): number | null {
  const ts = parseTime(m.originalTimestamp ?? m.timestamp)
  const sentAt = parseTime(m.sentAt ?? ctx.sentAt)
  if (ts === null || sentAt === null) return null
  if (ts === undefined) return ctx.receivedAt
  return Math.min(sentAt === undefined ? ts : ctx.receivedAt - (sentAt - ts), ctx.receivedAt)
}

/** The wire format's bound on `url` and `ref`. */
const URL_MAX = 2048

// Stands in for a page URL when a message has a campaign but no URL (a mobile screen, a server
// call): `.invalid` can never be a real host, and the landing is then left out.
const NO_PAGE = 'https://no-page.invalid/'

/**
 * The touch a page or screen opened: the query of its URL (or `search`), `context.campaign` for
 * utm_* values the URL lacks, and the referrer, through the tracker's rules 1–2. Null when none.
 */
export function segmentTouch(context: Record<string, unknown>, properties: Record<string, unknown>, ts: number, internalHosts: string[]): Record<string, unknown> | null {
  const page = obj(context.page)
  const href = str(page.url) ?? str(properties.url)
  const search = str(page.search) ?? str(properties.search)
  const referrer = str(page.referrer) ?? str(properties.referrer) ?? ''
  let url: URL
  try {
    url = new URL(href ?? NO_PAGE)
  } catch {
    url = new URL(NO_PAGE)
  }
  if (search !== null && url.search === '') url.search = search
  // analytics.js names utm_campaign `name` and keeps every other utm_X as X.
  for (const [k, v] of Object.entries(obj(context.campaign))) {
    const param = 'utm_' + (k === 'name' ? 'campaign' : k)
    if ((typeof v === 'string' || typeof v === 'number') && !url.searchParams.has(param)) url.searchParams.set(param, String(v))
  }
  const onPage = url.hostname !== 'no-page.invalid'
  const touch = detectTouch(url.href, referrer, { host: onPage ? url.hostname : '', internal: internalHosts }, ts) as Record<string, unknown> | null
  if (touch === null) return null
  // The landing is the page as visited, not the URL with the campaign written into it.
  if (onPage && href !== null) touch.landing = href.split('#')[0]
  else delete touch.landing
  return touch
}

function companyName(v: unknown): string | null {
  return (str(v) ?? str(obj(v).name))?.slice(0, MAX_COMPANY) ?? null
}

/** One message → the wire events it stands for (zero, one or two), or a rejection code. */
export function convertMessage(raw: unknown, ctx: SegmentBatchContext): Converted {
  let size: number
  try {
    size = Buffer.byteLength(JSON.stringify(raw) ?? '')
  } catch {
    return { ok: false, code: ERRORS.INVALID_EVENT.code }
  }
  if (size > SEGMENT_LIMITS.messageBytes) return { ok: false, code: ERRORS.EVENT_TOO_LARGE.code }
  const parsed = messageSchema.safeParse(raw)
  if (!parsed.success) return { ok: false, code: ERRORS.INVALID_EVENT.code }
  const m = parsed.data
  const anonymousId = m.anonymousId || null
  const userId = m.userId || null
  if (anonymousId === null && userId === null) return { ok: false, code: ERRORS.SEGMENT_NO_IDENTITY.code }
  const ts = eventTime(m, ctx)
  if (ts === null) return { ok: false, code: ERRORS.INVALID_EVENT.code }
  const context = { ...obj(ctx.context), ...obj(m.context) }
  const properties = m.properties ?? {}
  const visitorId = segmentVisitorId(anonymousId ?? (userId as string))
  const messageId = m.messageId || ctx.newId()
  const clientSession = context.sessionId
  const base = {
    id: segmentEventId(messageId),
    ts,
    vid: visitorId,
    sid: sessionId(visitorId, ts, typeof clientSession === 'string' || typeof clientSession === 'number' ? String(clientSession) : null),
  }
  const page = obj(context.page)
  switch (m.type) {
    case 'page':
    case 'screen': {
      const url = m.type === 'page' ? str(page.url) ?? str(properties.url) : null
      return {
        ok: true,
        company: null,
        events: [{
          ...base,
          type: 'page',
          // Cut to the wire format's bounds rather than losing the page for an overlong query.
          url: url?.slice(0, URL_MAX) ?? null,
          ref: (str(page.referrer) ?? str(properties.referrer))?.slice(0, URL_MAX) ?? null,
          title: (str(page.title) ?? str(properties.title) ?? str(m.name))?.slice(0, 500) ?? null,
          props: Object.keys(properties).length > 0 ? properties : null,
          touch: segmentTouch(context, properties, ts, ctx.internalHosts),
        }],
      }
    }
    case 'track': {
      const name = str(m.event)
      if (name === null) return { ok: false, code: ERRORS.INVALID_EVENT.code }
      return { ok: true, company: null, events: [{ ...base, type: 'track', name: name.slice(0, 500), url: str(page.url)?.slice(0, URL_MAX) ?? null, props: Object.keys(properties).length > 0 ? properties : null }] }
    }
    case 'identify': {
      // RudderStack copies traits into context.traits; either place is read.
      const traits: Record<string, unknown> = { ...(m.traits ?? obj(context.traits)) }
      if (userId !== null) traits.userId = userId
      const events = [{ ...base, type: 'identify', traits }]
      // Server-side calls often carry only the userId: its visitor joins the same lead.
      if (anonymousId !== null && userId !== null) {
        events.push({ ...base, id: segmentEventId(messageId, 'user'), vid: segmentVisitorId(userId), type: 'identify', traits: { userId } })
      }
      const company = companyName(traits.company)
      return {
        ok: true,
        events,
        company: company === null ? null : { visitorId, email: str(traits.email), phone: str(traits.phone), externalId: userId, company, ts },
      }
    }
    case 'alias': {
      const previousId = m.previousId || null
      if (previousId === null || userId === null) return { ok: false, code: ERRORS.INVALID_EVENT.code }
      // The earlier identity's visitor joins the lead of the new userId.
      return { ok: true, company: null, events: [{ ...base, vid: segmentVisitorId(previousId), type: 'identify', traits: { userId } }] }
    }
    case 'group': {
      if (!m.groupId) return { ok: false, code: ERRORS.INVALID_EVENT.code }
      const company = companyName(m.traits?.name)
      // No event: a group names the person's company (their account), nothing that happened.
      return {
        ok: true,
        events: [],
        company: company === null || userId === null ? null : { visitorId, email: null, phone: null, externalId: userId, company, ts },
      }
    }
  }
}
