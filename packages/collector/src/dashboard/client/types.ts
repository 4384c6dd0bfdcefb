// Response shapes of the reports API (SPEC §6, §4). The dashboard only reads them; fields the
// server may leave out when undefined (e.g. ROAS without spend) are nullable.

export const MODELS = [
  'first_touch', 'last_touch', 'linear', 'time_decay', 'position_based',
  'w_shaped', 'full_path', 'markov', 'shapley',
] as const
export type Model = (typeof MODELS)[number]

export type Conversion = 'lead' | 'sql' | 'opportunity' | 'won'

export interface Figures {
  touches: number
  leads: number
  conversions: number
  revenue: number
  spend: number
  roas: number | null
  cac: number | null
  costPerLead: number | null
  avgDealSize: number | null
  conversionRate: number | null
}

export interface ReportRow extends Figures {
  key: string
}

export interface AttributionReport {
  model: string
  by: string
  conversion: string
  from: string | null
  to: string | null
  lookbackDays: number
  currency: string
  coverage: { conversions: number | null; revenue: number | null }
  utmCompleteness: number | null
  totals: Figures
  rows: ReportRow[]
}

export interface ReportQuery {
  model: Model
  from: string
  to: string
  conversion: Conversion
}

export interface StoredTouch {
  touchId?: string
  ts: number
  source: string
  medium: string
  campaign?: string | null
  term?: string | null
  content?: string | null
  click_id?: string | null
  click_id_type?: string | null
  referrer?: string | null
  landing?: string | null
  channel: string
  visitorId?: string
}

export interface DealStage {
  stage: string
  ts: number
  amount?: number | null
  currency?: string | null
}

export interface Deal {
  dealId: string
  stage: string
  amount?: number | null
  currency?: string | null
  history?: DealStage[]
}

export interface LeadView {
  lead: { id: string; createdAt?: number; identifiedAt?: number; externalId?: string | null; traits?: Record<string, unknown> }
  visitorIds: string[]
  touches: StoredTouch[]
  deals: Deal[]
}

// The server's own type: the client is bundled separately, and a type-only export is erased.
export type { QualityReport } from '../../reports/quality.js'

export interface SessionInfo {
  site: { name: string; currency: string }
}

/** Revenue over time by channel (`GET /v1/reports/series`). */
export interface SeriesReport {
  model: string
  period: 'week' | 'month'
  currency: string
  /** Period starts, YYYY-MM-DD, ascending. */
  periods: string[]
  channels: Array<{ channel: string; revenue: number[] }>
}

/** One key under one model (touches and spend are the row's: they do not depend on the model). */
export type ModelColumn = Omit<Figures, 'touches' | 'spend'>

export interface ModelsReport {
  by: string
  conversion: string
  currency: string
  models: string[]
  totals: Figures
  rows: Array<{ key: string; touches: number; spend: number; models: Record<string, ModelColumn> }>
}
