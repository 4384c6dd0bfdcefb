// Request shapes of the closing-the-loop API: deals, spend, exchange rates, report queries
// Every string is bounded. Batches are validated item by item by the routes so
// valid items survive invalid neighbours.

import { MAX_COMPANY } from '../store/accounts.js'
import { z } from 'zod'
import { CONVERSIONS, DIMENSIONS, JOURNEY_MODES, MODELS } from '../attribution/types.js'
import { FUNNEL_DIMENSIONS } from '../attribution/funnel.js'
import { cleanText } from '../ingest/text.js'
import { parseDay, parseIsoTime } from '../ingest/dates.js'

export const OUTCOME_LIMITS = {
  dealsPerRequest: 1_000,
  /** People one deal may name (its buying committee). */
  leadsPerDeal: 50,
  spendRowsPerRequest: 10_000,
  ratesPerRequest: 10_000,
  body: 8 * 1024 * 1024,
} as const

const text = (max: number) => z.string().max(max).transform(cleanText)
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/
const MIN_MS = 946_684_800_000
const MAX_MS = 4_102_444_800_000
export const DAY_RE = /^\d{4}-\d{2}-\d{2}$/
const DAY_MS = 86_400_000

/**
 * Epoch ms, or an ISO 8601 string (what CRMs send). A bare day (YYYY-MM-DD) is the END of that
 * UTC day: a deal closed "on" a day comes after that day's visits, not before them at midnight.
 */
const timestamp = z.union([
  z.number().int().min(MIN_MS).max(MAX_MS),
  z.string().max(40).transform((s, ctx) => {
    const day = parseDay(s)
    const t = day !== null ? day + DAY_MS - 1 : parseIsoTime(s)
    if (t === null || t < MIN_MS || t > MAX_MS) {
      ctx.addIssue({ code: 'custom', message: 'not an ISO 8601 time or epoch milliseconds' })
      return z.NEVER
    }
    return t
  }),
])

/** A money amount: a number, or a numeric string such as "12000.50" (CRMs send both). */
export const money = z.union([
  z.number(),
  z.string().max(40).transform((s, ctx) => {
    const n = parseMoney(s)
    if (n === null) { ctx.addIssue({ code: 'custom', message: 'not a number' }); return z.NEVER }
    return n
  }),
]).refine((n) => Number.isFinite(n) && n >= 0 && n <= 1e13, { message: 'must be a number from 0 to 1e13' })

/** "12,000.50", " 99 ", "1e3" → number; thousands commas allowed, nothing else. */
export function parseMoney(raw: string): number | null {
  const s = raw.trim().replace(/,(?=\d{3}(\D|$))/g, '')
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null
  const n = Number(s)
  return Number.isFinite(n) ? n : null
}

export const dealSchema = z.object({
  dealId: text(200).pipe(z.string().trim().min(1)),
  leadId: z.string().regex(ID_RE).nullish(),
  email: z.string().max(320).nullish(),
  externalId: text(256).nullish(),
  // Several people (a buying committee): each entry one person; the first named is the primary.
  leadIds: z.array(z.string().regex(ID_RE)).max(OUTCOME_LIMITS.leadsPerDeal).nullish(),
  emails: z.array(z.string().max(320)).max(OUTCOME_LIMITS.leadsPerDeal).nullish(),
  externalIds: z.array(text(256)).max(OUTCOME_LIMITS.leadsPerDeal).nullish(),
  // The CRM company of the deal's people: each known person joins its account.
  company: text(MAX_COMPANY).nullish(),
  stage: text(100).pipe(z.string().trim().min(1)),
  amount: money.nullish(),
  currency: z.string().max(8).nullish(),
  ts: timestamp.optional(),
})
export type DealInput = z.infer<typeof dealSchema>

export const dealsBatchSchema = z.object({
  deals: z.array(z.unknown()).min(1).max(OUTCOME_LIMITS.dealsPerRequest),
})

export const spendRowSchema = z.object({
  date: z.string().regex(DAY_RE),
  source: text(500).pipe(z.string().trim().min(1)),
  medium: text(500).nullish(),
  campaign: text(500).nullish(),
  amount: money,
  currency: z.string().max(8).nullish(),
})
export type SpendRowInput = z.infer<typeof spendRowSchema>

export const spendBatchSchema = z.object({
  rows: z.array(z.unknown()).min(1).max(OUTCOME_LIMITS.spendRowsPerRequest),
})

export const rateSchema = z.object({
  date: z.string().regex(DAY_RE).nullish(),
  currency: z.string().max(8),
  rate: z.number().finite().positive().max(1e9),
})

export const ratesBatchSchema = z.object({
  rates: z.array(rateSchema).min(1).max(OUTCOME_LIMITS.ratesPerRequest),
})

/** A report bound: YYYY-MM-DD (UTC day), an ISO 8601 time, or epoch ms. */
const bound = z.string().max(40).transform((s, ctx) => {
  const t = /^\d{1,15}$/.test(s) ? Number(s) : parseIsoTime(s)
  if (t === null) { ctx.addIssue({ code: 'custom', message: 'not a date (YYYY-MM-DD), ISO time or epoch ms' }); return z.NEVER }
  // A bare day as `to` means the whole day.
  return { t, day: DAY_RE.test(s) }
})

const positiveNumber = (max: number) => z.string().max(20).transform((s, ctx) => {
  const n = Number(s)
  if (s.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) {
    ctx.addIssue({ code: 'custom', message: `must be a number above 0 and at most ${max}` })
    return z.NEVER
  }
  return n
})

/** Drill-down filters (dashboard): only touches with these values earn credit in the rows. */
export const FILTER_KEYS = ['channel', 'source', 'medium', 'campaign', 'source_medium', 'content', 'term', 'landing'] as const
export type FilterKey = (typeof FILTER_KEYS)[number]

const commonQuery = {
  ...Object.fromEntries(FILTER_KEYS.map((k) => [k, z.string().max(1000).optional()])) as Record<FilterKey, z.ZodOptional<z.ZodString>>,
  by: z.enum(DIMENSIONS as unknown as [string, ...string[]]).default('channel'),
  from: bound.optional(),
  to: bound.optional(),
  conversion: z.enum(CONVERSIONS).default('won'),
  lookbackDays: positiveNumber(3650).optional(),
  halfLifeDays: positiveNumber(3650).optional(),
  /** Whose touches make a deal's path; default the site's setting, else `deal`. */
  journey: z.enum(JOURNEY_MODES).optional(),
  /** Months of won revenue that make an account's lifetime value (the ltvToCac KPI), default 36. */
  ltvMonths: positiveNumber(600).optional(),
}

export const qualityQuerySchema = z.object({ from: commonQuery.from, to: commonQuery.to }).strict()

/** What was sent to the ad platforms: the whole outbox, no range. */
export const destinationsQuerySchema = z.object({}).strict()

export const attributionQuerySchema = z.object({
  model: z.enum(MODELS).default('linear'),
  ...commonQuery,
}).strict()

export const modelsQuerySchema = z.object({ ...commonQuery }).strict()

export const seriesQuerySchema = z.object({
  model: z.enum(MODELS).default('linear'),
  period: z.enum(['week', 'month']).default('week'),
  ...commonQuery,
}).strict()

/** The funnel: leads identified in from/to, by their original source. */
export const funnelQuerySchema = z.object({
  by: z.enum(FUNNEL_DIMENSIONS).default('channel'),
  from: commonQuery.from,
  to: commonQuery.to,
  journey: commonQuery.journey,
}).strict()
