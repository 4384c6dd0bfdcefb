// What the dashboard reads: the server's own response types, imported type-only (esbuild erases
// them, nothing of the server reaches the bundle), the model list (a plain constant), and the
// query every report view shares.

import type { ConversionKind, ModelName } from '../../attribution/types.js'

export { CONVERSIONS, MODELS } from '../../attribution/types.js'
export type { AttributionReport, ConversionKind, ModelName, ModelsComparison, ReportRow } from '../../attribution/types.js'
export type { LeadList, LeadView } from '../../http/routes/leads.js'
export type { QualityReport } from '../../reports/quality.js'
export type { SeriesReport } from '../../reports/query.js'
export type { StoredTouch } from '../../store/types.js'
export type { SessionInfo } from '../plugin.js'

export interface ReportQuery {
  model: ModelName
  from: string
  to: string
  conversion: ConversionKind
  /** Touches older than this many days before a conversion earn no credit; undefined = the site's setting. */
  lookbackDays?: number
}
