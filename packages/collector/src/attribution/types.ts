// Public shapes of the attribution engine. Everything here is plain data: the engine is
// pure (journeys and spend in, credits and reports out) so it can be checked against published
// worked examples, and the storage layer only has to produce these shapes.

import type { TouchTable } from './table.js'
import type { ChainSolver } from './models/absorbing.js'

/**
 * The funnel stages a deal moves through. The engine owns this vocabulary (it ranks stages to
 * find conversions); storage and the CRM stage mapping use it as is.
 */
export type Stage = 'lead' | 'mql' | 'sql' | 'opportunity' | 'won' | 'lost'
export const STAGES: readonly Stage[] = ['lead', 'mql', 'sql', 'opportunity', 'won', 'lost']

export const MODELS = [
  'first_touch',
  'last_touch',
  'linear',
  'time_decay',
  'position_based',
  'w_shaped',
  'full_path',
  'markov',
  'shapley',
] as const
export type ModelName = (typeof MODELS)[number]

/** Dimensions read from a touch. */
export const TOUCH_DIMENSIONS = ['channel', 'source', 'medium', 'campaign', 'source_medium', 'content', 'term', 'landing'] as const
export type TouchDimension = (typeof TOUCH_DIMENSIONS)[number]
/** Dimensions read from the conversion time (ISO week / calendar month, UTC). */
export const TIME_DIMENSIONS = ['week', 'month'] as const
export type TimeDimension = (typeof TIME_DIMENSIONS)[number]
export type Dimension = TouchDimension | TimeDimension
// Marked pure (a spread is not) so a bundle that imports only MODELS (the dashboard) drops it.
export const DIMENSIONS: readonly Dimension[] = /* @__PURE__ */ (TOUCH_DIMENSIONS as readonly Dimension[]).concat(TIME_DIMENSIONS)

export const CONVERSIONS = ['lead', 'sql', 'opportunity', 'won'] as const satisfies readonly Stage[]
export type ConversionKind = (typeof CONVERSIONS)[number]

/**
 * One arrival from a source, as the engine needs it. Not the store's Touch: the engine's own pure
 * input (the fields reports read, plus `direct`), so attribution/ depends on nothing outside it.
 */
export interface AttributionTouch {
  /** Epoch milliseconds. */
  ts: number
  channel: string
  source: string
  medium: string
  campaign?: string | null
  content?: string | null
  term?: string | null
  landing?: string | null
  /**
   * Direct visit. When omitted: source `(direct)` with medium `(none)`, `(not set)` or empty
   * (GA4's Direct rule).
   */
  direct?: boolean
}

export interface DealStageChange {
  stage: Stage
  /** When the stage was reached, epoch ms. */
  ts: number
}

export interface JourneyDeal {
  dealId: string
  /** In the report currency; null counts as 0. */
  amount: number | null
  /** Every stage change, any order. */
  stages: readonly DealStageChange[]
  /**
   * Every known lead of the deal (lead IDs), primary first, when it names several: the journey
   * holding the deal is the primary's. Absent or one entry: the holding journey's lead only.
   */
  leads?: readonly string[]
}

/** One lead's touches (all its visitors), or one anonymous visitor's. */
export interface Journey {
  id: string
  /** Identify time (the `lead` conversion); null/undefined for an anonymous visitor. */
  identifiedAt?: number | null
  /** Any order; the engine sorts by ts. */
  touches: readonly AttributionTouch[]
  deals?: readonly JourneyDeal[]
  /** The lead's account (company), for account journeys; null/absent without one. */
  account?: string | null
}

/**
 * Whose touches make a deal's path: its primary lead's (`lead`), all its leads' (`deal`, the
 * default), or every lead of the primary's account plus the deal's own leads (`account`).
 */
export const JOURNEY_MODES = ['lead', 'deal', 'account'] as const
export type JourneyMode = (typeof JOURNEY_MODES)[number]

export interface SpendRow {
  /** UTC day, YYYY-MM-DD. */
  date: string
  source: string
  medium?: string | null
  campaign?: string | null
  /** In the report currency. */
  amount: number
}

export interface AttributionOptions {
  model: ModelName
  by: Dimension
  /** Default `won`. */
  conversion?: ConversionKind
  /** Epoch ms, inclusive; null = unbounded. Selects conversions by conversion time. */
  from?: number | null
  /** Epoch ms, inclusive; null = unbounded. */
  to?: number | null
  /** Default 90. */
  lookbackDays?: number
  /** time_decay half-life, default 7. */
  halfLifeDays?: number
}

export const DEFAULTS = {
  conversion: 'won' as ConversionKind,
  lookbackDays: 90,
  halfLifeDays: 7,
  currency: 'USD',
} as const

/** Key of the row that receives conversions whose path is empty, so totals still add up. */
export const UNATTRIBUTED_KEY = '(unattributed)'
/**
 * Key of the touches outside a drill-down filter: stored text never holds NUL, so no touch value
 * equals it. Its row is never reported.
 */
export const OUTSIDE_KEY = '\u0000outside'
/** Key of a missing dimension value. */
export const NOT_SET_KEY = '(not set)'
/** Key of spend that matches no touch when the dimension cannot be derived from the spend row. */
export const UNMATCHED_SPEND_KEY = '(unmatched spend)'

/**
 * A drill-down: the report of the touches inside a filter (channel = X, source = Y, …). Touches
 * outside keep their place in every path (credit shares do not change) but their credit, touch
 * counts and spend are left out; a conversion without touches is in no drill-down. Rows then add
 * up to the parent row they were drilled from.
 */
export interface DrillDown {
  /** Per touch of the table: 1 when the touch is inside the filter. */
  inside: Uint8Array
  /** The filter, root first (the dimension drilled from at the top level). */
  filter: ReadonlyArray<readonly [TouchDimension, string]>
}

export interface ReportInput extends AttributionOptions {
  /** Journeys, or a table already compiled from them (or built from storage columns). */
  journeys: readonly Journey[] | TouchTable
  spend?: readonly SpendRow[]
  /** ISO 4217, echoed in the report. Default USD. */
  currency?: string
  /**
   * Names the `channel` row of spend that matches no touch (e.g. the GA4 classifier applied to
   * the spend row's source/medium/campaign). Without it such spend goes to `(unmatched spend)`.
   */
  spendChannel?: (row: SpendRow) => string
  drill?: DrillDown
  /** Solves markov's chains (EngineOptions.solver); default the exact in-process solve. */
  solver?: ChainSolver
}

export interface ReportMetrics {
  /** Touches in [from, to] (any journey, direct included) with this key. */
  touches: number
  /** `lead` conversions credited to the key by the same model. */
  leads: number
  /** Fractional credit of the selected conversions. */
  conversions: number
  /** Credited revenue (won: deal amount; sql/opportunity: deal amount as pipeline; lead: 0). */
  revenue: number
  spend: number
  /** revenue / spend */
  roas: number | null
  /** spend / conversions */
  cac: number | null
  /** spend / leads */
  costPerLead: number | null
  /** revenue / conversions */
  avgDealSize: number | null
  /** conversions / leads */
  conversionRate: number | null
}

export interface ReportRow extends ReportMetrics {
  key: string
}

export interface Coverage {
  /** Share of conversions whose path has at least one non-direct touch; null when none. */
  conversions: number | null
  /** Share of those conversions' revenue in all revenue; null when there is no revenue. */
  revenue: number | null
}

export interface AttributionReport {
  model: ModelName
  by: Dimension
  conversion: ConversionKind
  /** ISO 8601 or null (unbounded). */
  from: string | null
  to: string | null
  lookbackDays: number
  currency: string
  coverage: Coverage
  /** Share of paid-channel touches in the window carrying source, medium and campaign; null without paid touches. */
  utmCompleteness: number | null
  totals: ReportMetrics
  rows: ReportRow[]
}

/**
 * One key under one model: the model-dependent figures of a report row (the row's `touches` and
 * `spend` do not depend on the model). Equal to that model's `buildReport` row for the key.
 */
export type ModelColumn = Pick<ReportMetrics, 'leads' | 'conversions' | 'revenue' | 'roas' | 'cac' | 'costPerLead' | 'avgDealSize' | 'conversionRate'>

export interface ComparisonRow {
  key: string
  touches: number
  spend: number
  models: Record<ModelName, ModelColumn>
}

export interface ModelsComparison {
  by: Dimension
  conversion: ConversionKind
  from: string | null
  to: string | null
  lookbackDays: number
  currency: string
  models: readonly ModelName[]
  coverage: Coverage
  utmCompleteness: number | null
  /** Model-independent, equal to every model's `buildReport` totals. */
  totals: ReportMetrics
  /** Sorted by linear revenue, then linear conversions. */
  rows: ComparisonRow[]
}
