// Shapes of deals, spend and exchange rates as routes hand them to the store (already validated,
// stage-mapped and converted to the site currency) and as the store returns them.

import type { IdentityKey, Stage } from '../store/types.js'
import type { FxRate } from './currency.js'
import type { Journey, SpendRow } from '../attribution/types.js'
import type { TouchTable } from '../attribution/table.js'

export type { FxRate }

/**
 * How a deal names its person: our lead ID, and/or identity key hashes (email first). The hashes
 * are kept on a deal whose person is not known yet, so a later identify links it.
 */
export interface DealMatch {
  leadId: string | null
  keys: IdentityKey[]
}

export interface DealWrite {
  dealId: string
  /** The primary person. */
  match: DealMatch
  /**
   * The deal's other people, in order (positions 1…): replaces the ones stored when given;
   * absent = left as stored.
   */
  contacts?: DealMatch[]
  /** The CRM company of the deal's people (bounded): each known person joins its account. */
  company?: string | null
  stage: Stage
  /** The CRM's own stage name, as sent (bounded). */
  crmStage: string
  /** In the site currency; null when the CRM sent none. */
  amount: number | null
  /** As sent, with its currency (null = the site currency). */
  originalAmount: number | null
  originalCurrency: string | null
  /** When the stage was reached. */
  ts: number
}

export interface DealWriteResult {
  dealId: string
  /** null while the deal's person is not known yet (a pending deal). */
  leadId: string | null
  /** Current stage (of the latest stage change by time). */
  stage: Stage
  /** True when this write added a history entry (a new stage, or a new amount). */
  changed: boolean
  /** The match was a leadId the site does not have: nothing was stored. */
  unknownLead?: boolean
  /** A person named is in another CRM company than the deal's `company`: nothing was stored (this lead). */
  accountConflict?: string
  /** Positions (0 = primary, then `contacts`) of the people not known yet: linked when identify creates them. */
  pending?: number[]
}

export interface DealStageEntry {
  stage: Stage
  crmStage: string
  ts: number
  amount: number | null
}

export interface Deal {
  dealId: string
  leadId: string | null
  stage: Stage
  amount: number | null
  originalAmount: number | null
  originalCurrency: string | null
  createdAt: number
  updatedAt: number
  /** Oldest first. */
  history: DealStageEntry[]
}

export interface SpendWrite {
  /** UTC day YYYY-MM-DD. */
  date: string
  source: string
  /** '' when absent, so the upsert key is total. */
  medium: string
  campaign: string
  /** In the site currency. */
  amount: number
  originalAmount: number
  originalCurrency: string | null
}


/** What a report needs from storage, loaded in one pass (see Store.loadReportData). */
export interface ReportData {
  journeys: Journey[]
  spend: SpendRow[]
}

/** The same as ReportData with the journeys compiled into the engine's touch table. */
export interface ReportTableData {
  table: TouchTable
  spend: SpendRow[]
  /**
   * Called once when nothing will read `table` again: the store may then build its next table in
   * the same arrays. Optional to call (an unreleased table is garbage-collected) and to provide.
   */
  release?: () => void
}

/** Touch columns a report may group by beyond channel/source/medium/campaign (one at a time). */
export type TouchExtra = 'content' | 'term' | 'landing'

export interface ReportLoadOptions {
  /** Touches outside [touchesFrom, touchesTo] cannot be on any selected path; null = unbounded. */
  touchesFrom: number | null
  touchesTo: number | null
  /** Touch columns beyond channel/source/medium/campaign that the report groups by. */
  extra?: TouchExtra | null
}

/** Storage of the closing-the-loop data; part of Store. */
export interface OutcomeStore {
  /**
   * Upsert deals by (site, dealId), in input order, one transaction. A stage change (or a new
   * amount) adds a history entry; an identical repeat does not. A deal whose person is unknown is
   * kept with its key hashes and linked by linkPendingDeals.
   */
  upsertDeals(siteId: string, deals: DealWrite[]): Promise<DealWriteResult[]>
  /** Link deals still without a lead whose key hashes match these keys. Returns how many. */
  linkPendingDeals(siteId: string, leadId: string, keys: IdentityKey[]): Promise<number>
  /** Deals of a lead with their stage history, oldest first. */
  getDeals(siteId: string, leadId: string): Promise<Deal[]>
  /** Upsert by (site, date, source, medium, campaign). Returns rows inserted and updated. */
  upsertSpend(siteId: string, rows: SpendWrite[]): Promise<{ inserted: number; updated: number }>
  /** Upsert by (site, currency, date|standing). */
  upsertRates(siteId: string, rates: FxRate[]): Promise<number>
  listRates(siteId: string): Promise<FxRate[]>
  /**
   * Every journey of the site (leads: touches of all their visitors, identify time, deals with
   * stage history; anonymous visitors: their touches) and all spend, in a bounded number of
   * scans: no query per lead.
   */
  loadReportData(siteId: string, opts: ReportLoadOptions): Promise<ReportData>
  /**
   * What reports use: loadReportData's content as a compiled touch table (equal journeys and
   * touches; a store may build it without journey objects and keep it between reports).
   */
  loadReportTable(siteId: string, opts: ReportLoadOptions): Promise<ReportTableData>
  /**
   * Prepare what makes later report loads cheap, for every site (SQLite: reads each site's touches
   * into the in-memory report cache; PostgreSQL: nothing). Returns the touches now held.
   */
  warmReports(): Promise<number>
}
