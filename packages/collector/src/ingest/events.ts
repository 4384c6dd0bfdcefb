// One raw event in, one storable event (or a rejection code) out. Pure: no I/O, so the rules
// (size, schema, clock skew, touch cleaning, channel, identity protection) are testable alone.

import { classifyChannel } from './channel.js'
import { ClError, ERRORS, type ErrorName } from '../errors.js'
import type { Pii, ProtectedPerson } from '../identity/pii.js'
import { eventSchema, LIMITS, TS_RANGE, type TouchInput } from './schemas.js'
import type { IngestEvent, Touch } from '../store/types.js'
import { cleanFbp } from './fbp.js'
import { cleanTouchValue } from './text.js'
import { redactProps, redactText, redactUrl } from './redact.js'

export interface EventContext {
  siteId: string
  receivedAt: number
  /** Client clock when the batch was sent (collect); absent for import, where `ts` is trusted. */
  sentAt?: number
  /** Trust the event's `ts` as given (import / backfill). */
  trustTs: boolean
  /** Sent with the publishable key (a browser): identify events only link (IdentifyInput.linkOnly). */
  publishable?: boolean
  /** The site's region for phone numbers in identify traits without a country code. */
  phoneRegion?: string
}

export type PreparedEvent =
  | { ok: true; event: IngestEvent; person: ProtectedPerson | null }
  | { ok: false; code: string }

/** `receivedAt - (sentAt - ts)`, never later than receipt. */
export function correctTs(ts: number, ctx: EventContext): number {
  if (ctx.trustTs) return ts
  const corrected = ctx.sentAt === undefined ? ts : ctx.receivedAt - (ctx.sentAt - ts)
  return Math.min(corrected, ctx.receivedAt)
}

function inRange(ts: number): boolean {
  return ts >= TS_RANGE.min && ts <= TS_RANGE.max
}

const redactOrNull = (v: string | null | undefined, fn: (s: string) => string): string | null => (v === null || v === undefined ? null : fn(v))

export function cleanTouch(raw: TouchInput, fallbackTs: number, ctx: EventContext): Touch {
  const source = cleanTouchValue(raw.source, true)
  const medium = cleanTouchValue(raw.medium, true)
  const touch: Touch = {
    ts: raw.ts === undefined ? fallbackTs : correctTs(raw.ts, ctx),
    source: source ?? '(direct)',
    medium: medium ?? (source === null ? '(none)' : '(not set)'),
    campaign: redactOrNull(cleanTouchValue(raw.campaign), redactText),
    term: redactOrNull(cleanTouchValue(raw.term), redactText),
    content: redactOrNull(cleanTouchValue(raw.content), redactText),
    id: cleanTouchValue(raw.id),
    source_platform: cleanTouchValue(raw.source_platform),
    creative_format: cleanTouchValue(raw.creative_format),
    marketing_tactic: cleanTouchValue(raw.marketing_tactic),
    click_id: cleanTouchValue(raw.click_id),
    click_id_type: cleanTouchValue(raw.click_id_type, true),
    referrer: redactOrNull(cleanTouchValue(raw.referrer), redactUrl),
    landing: redactOrNull(cleanTouchValue(raw.landing), redactUrl),
    channel: '',
    fbp: cleanFbp(raw.fbp),
  }
  touch.channel = classifyChannel({
    source: touch.source,
    medium: touch.medium,
    campaign: touch.campaign ?? undefined,
    click_id_type: touch.click_id_type ?? undefined,
  })
  return touch
}

function byteLength(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '')
  } catch {
    return Infinity
  }
}

function codeFor(path: PropertyKey[]): ErrorName {
  const field = path[0]
  if (field === 'vid') return 'BAD_VISITOR_ID'
  if (field === 'props' || field === 'traits') return 'PROPS_TOO_COMPLEX'
  return 'INVALID_EVENT'
}

const PII_TRAITS = ['email', 'phone', 'userId', 'externalId'] as const

/** Split identify traits into identity fields (protected) and the rest (stored). */
function protectTraits(traits: Record<string, unknown>, visitorId: string, pii: Pii, phoneRegion?: string): { traits: Record<string, unknown>; person: ProtectedPerson | null } {
  const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null)
  const email = str(traits.email)
  const phone = str(traits.phone)
  const externalId = str(traits.userId) ?? str(traits.externalId)
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(traits)) if (!(PII_TRAITS as readonly string[]).includes(k)) rest[k] = v
  if (email === null && phone === null && externalId === null) return { traits: rest, person: null }
  return { traits: rest, person: pii.protect({ email, phone, externalId }, visitorId, phoneRegion) }
}

export function prepareEvent(raw: unknown, ctx: EventContext, pii: Pii): PreparedEvent {
  if (byteLength(raw) > LIMITS.eventBytes) return { ok: false, code: ERRORS.EVENT_TOO_LARGE.code }
  const parsed = eventSchema.safeParse(raw)
  if (!parsed.success) return { ok: false, code: ERRORS[codeFor(parsed.error.issues[0]?.path ?? [])].code }
  const e = parsed.data
  const ts = correctTs(e.ts, ctx)
  const touchTs = e.touch?.ts === undefined ? ts : correctTs(e.touch.ts, ctx)
  if (!inRange(ts) || !inRange(touchTs)) return { ok: false, code: ERRORS.INVALID_EVENT.code }
  let traits = e.traits ?? null
  let person: ProtectedPerson | null = null
  if (traits !== null) {
    try {
      // Every event type is scrubbed: raw email/phone must never reach storage.
      const split = protectTraits(traits, e.vid, pii, ctx.phoneRegion)
      traits = split.traits
      person = e.type === 'identify' ? split.person : null
    } catch (err) {
      if (err instanceof ClError) return { ok: false, code: err.code }
      throw err
    }
  }
  return {
    ok: true,
    person,
    event: {
      siteId: ctx.siteId,
      id: e.id,
      type: e.type,
      ts,
      receivedAt: ctx.receivedAt,
      visitorId: e.vid,
      sessionId: e.sid,
      // Personal data in tracked text never reaches storage (redact.ts).
      url: redactOrNull(e.url, redactUrl),
      ref: redactOrNull(e.ref, redactUrl),
      title: redactOrNull(e.title, redactText),
      name: e.name ?? null,
      props: e.props ? redactProps(e.props, redactUrl) : null,
      traits,
      touch: e.touch ? cleanTouch(e.touch, ts, ctx) : null,
      // Only a backfill with the secret key may move a lead's original source earlier.
      imported: ctx.trustTs,
    },
  }
}
