// What the dashboard reads: the server's own response types, imported type-only (esbuild erases
// them, nothing of the server reaches the bundle), the model list (a plain constant), and the
// query every report view shares.

import type { AttributionReport, ConversionKind, JourneyMode, ModelName } from '../../attribution/types.js'
import type { Kpis } from '../../attribution/kpis.js'

export { CONVERSIONS, JOURNEY_MODES, MODELS } from '../../attribution/types.js'
export type { AttributionReport, ConversionKind, JourneyMode, ModelName, ModelsComparison, ReportRow } from '../../attribution/types.js'
export type { Kpis }
export type { FunnelDimension, FunnelRow, FunnelStage } from '../../attribution/funnel.js'
export type { FunnelReport } from '../../reports/funnel.js'
export type { AccountBody } from '../../http/routes/accounts.js'
export type { LeadList, LeadView } from '../../http/routes/leads.js'
export type { QualityReport } from '../../reports/quality.js'
export type { DestinationsReport, DestinationStatus } from '../../reports/destinations.js'
export type { SeriesReport } from '../../reports/query.js'
export type { StoredTouch } from '../../store/types.js'
export type { SessionInfo } from '../plugin.js'
export type { ConnectionStatus } from '../../integrations/crm/connections.js'

/** GET /v1/reports/attribution: the report, its journey mode and the B2B KPIs. */
export type AttributionResponse = AttributionReport & { journey: JourneyMode; kpis: Kpis }

export interface ReportQuery {
  model: ModelName
  from: string
  to: string
  conversion: ConversionKind
  /** Touches older than this many days before a conversion earn no credit; undefined = the site's setting. */
  lookbackDays?: number
  /** Whose touches make a deal's path; undefined = the site's setting. */
  journey?: JourneyMode
}
