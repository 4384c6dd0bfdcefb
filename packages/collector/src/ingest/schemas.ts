// Every request shape, in one place. Every string is bounded; free-form objects go through
// boundedObject. Touch values are accepted up to 2048 characters and capped at 500 when cleaned.

import { MAX_COMPANY } from '../store/accounts.js'
import type { Touch } from '@closeloop/tracker'
import { z } from 'zod'
import { boundedObject } from './json-bounds.js'
import { cleanText } from './text.js'

export const LIMITS = {
  collectBody: 64 * 1024,
  collectEvents: 100,
  eventBytes: 32 * 1024,
  identifyBody: 64 * 1024,
} as const

/** Client-generated IDs (nanoid, UUID, …). */
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/
/** `_cl_vid`: 21 characters of the nanoid alphabet. */
export const VISITOR_ID_RE = /^[A-Za-z0-9_-]{21}$/

// overwrite, not transform: zod 4 wraps a transformed field in a pipe, an overwrite is one more
// check (about three times faster per event).
const text = (max: number) => z.string().max(max).overwrite(cleanText)
/** Event times must land in 2000-01-01 … 2100-01-01 (after clock correction): rejects seconds and garbage. */
export const TS_RANGE = { min: 946_684_800_000, max: 4_102_444_800_000 } as const
const epochMs = z.number().int().min(TS_RANGE.min).max(TS_RANGE.max)
// A client clock can be anywhere (a dead CMOS battery says 1970): collect corrects it, so the raw
// values are only required to be non-negative integers.
const clientMs = z.number().int().min(0).max(TS_RANGE.max)
// One pass: the bounded copy is both the check and the value kept.
const looseObject = z.unknown().transform((value, ctx): Record<string, unknown> => {
  const bounded = boundedObject(value)
  if (bounded === null) {
    ctx.issues.push({ code: 'custom', message: 'too deep, too many keys or strings too long', input: value })
    return z.NEVER
  }
  return bounded
})

export const visitorId = z.string().regex(VISITOR_ID_RE)

// Exactly the tracker's Touch fields (satisfies fails on a missing or extra one), each optional
// here: the input is untrusted and the server fills the defaults.
export const touchSchema = z.object({
  ts: clientMs.optional(),
  source: text(2048).nullish(),
  medium: text(2048).nullish(),
  campaign: text(2048).nullish(),
  term: text(2048).nullish(),
  content: text(2048).nullish(),
  id: text(2048).nullish(),
  source_platform: text(2048).nullish(),
  creative_format: text(2048).nullish(),
  marketing_tactic: text(2048).nullish(),
  click_id: text(2048).nullish(),
  click_id_type: text(64).nullish(),
  referrer: text(2048).nullish(),
  landing: text(2048).nullish(),
  // The client's channel is ignored: the server recomputes it (authoritative).
  channel: text(64).nullish(),
  // Checked when cleaned (ingest/fbp.ts): a malformed cookie drops the value, not the event.
  fbp: z.unknown().optional(),
} satisfies Record<keyof Touch, z.ZodType>)
export type TouchInput = z.infer<typeof touchSchema>

export const eventSchema = z.object({
  id: z.string().regex(ID_RE),
  type: z.enum(['page', 'track', 'identify']),
  ts: clientMs,
  vid: visitorId,
  sid: z.string().regex(ID_RE),
  url: text(2048).nullish(),
  ref: text(2048).nullish(),
  title: text(500).nullish(),
  // The tracker caps every value at 500 characters; a longer limit here would refuse what it sends.
  name: text(500).nullish(),
  props: looseObject.nullish(),
  traits: looseObject.nullish(),
  touch: touchSchema.nullish(),
}).refine((e) => e.type !== 'track' || (typeof e.name === 'string' && e.name !== ''), {
  message: 'track events need a name',
  path: ['name'],
})

/** The batch envelope; events are validated one by one so valid ones survive invalid neighbours. */
export const collectSchema = z.object({
  site: z.string().max(64),
  sentAt: clientMs.optional(),
  events: z.array(z.unknown()),
})

export const importSchema = z.object({
  events: z.array(z.unknown()),
})

export const identifySchema = z.object({
  // Absent when the tracker never ran (blocked, consent denied, Global Privacy Control): the lead is
  // still created or updated, with no visitor link. A form posts an empty field as "": also absent.
  visitorId: z.union([z.literal('').transform(() => undefined), visitorId]).nullish().transform((v) => v ?? undefined),
  email: z.string().max(320).nullish(),
  phone: z.string().max(64).nullish(),
  externalId: text(256).nullish(),
  // The person's CRM company: the lead's account (wins over the e-mail's domain).
  company: text(MAX_COMPANY).nullish(),
  traits: looseObject.nullish(),
  ts: epochMs.optional(),
})

export const personSchema = z.object({
  email: z.string().max(320).optional(),
  phone: z.string().max(64).optional(),
  externalId: z.string().max(256).optional(),
  visitorId: visitorId.optional(),
})
export type PersonInput = z.infer<typeof personSchema>

export const leadParamsSchema = z.object({ id: z.string().regex(ID_RE) })
export const accountParamsSchema = z.object({ id: z.string().regex(/^acc_[A-Za-z0-9_-]{1,64}$/) })

/** GET /v1/leads: one lead by email, or the newest `limit` leads. */
export const leadsQuerySchema = z.object({
  email: z.string().max(320).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
}).strict()
