// Report input kept in memory for the SQLite store: per site, its touches as a TouchLog and its
// leads/links/deals, so a report costs a few linear passes over typed arrays instead of a
// million-row scan that builds a million objects.
//
// Kept true by the store, whose writer (writer.ts) reports what each durable batch changed
// (`durable`, after the WAL fsync, so a report may scan between a commit and its delta):
// - its new touches are appended to the sites held, unless the site was scanned after that batch
//   committed: a scan records the touch generation (PRAGMA user_version, moved by every commit that
//   stores or deletes touches) it read in the same read transaction, and a batch carries the
//   generation it committed, so a scan that saw a batch is never appended to again;
// - identify marks its lead, a deal write its deal, as dirty: the next report re-reads just those
//   (refreshOutcomesSync), or everything when too many are dirty; erasure drops the site;
// - before each report the writer tells what other writers committed (`others`): nothing, only
//   leads/deals (the touches held are still right; outcomes are loaded again), or touches
//   (everything is dropped and rebuilt from the file).
// Failed jobs and failed transactions report nothing: what they did not store is not held.
//
// Memory is bounded: at most `maxTouches` touches over all sites (least recently reported site
// dropped first); a site larger than that is scanned for each report and not kept.

import type { TouchTable } from '../../attribution/table.js'
import type { TouchExtra } from '../../outcomes/types.js'
import { landingPage } from '../rows.js'
import type { OutcomeStatements } from './outcome-statements.js'
import { loadOutcomesSync, refreshOutcomesSync, type SiteOutcomes } from './report-outcomes.js'
import { scanTouchesSync } from './touch-scan.js'
import type { Stmt } from './statements.js'
import type { BatchDelta, OtherWrites } from './writer.js'
import { buildTouchTable, TableBuffers, TouchLog } from '../touch-log.js'

export const REPORT_CACHE_DEFAULTS = { maxTouches: 5_000_000 } as const

interface SiteCache {
  log: TouchLog
  /** Touch generation the scan saw: batches up to it are in `log` already. */
  gen: number | null
  outcomes: SiteOutcomes | null
  /** Written since `outcomes` was loaded: refreshed one by one at the next report. */
  dirtyLeads: Set<string>
  dirtyDeals: Set<string>
}

/** More dirty leads and deals than this share of the site's leads (or 1,000): load them all again. */
const REFRESH_SHARE = 0.1

export interface ReportCacheStats {
  /** Full scans of a site's touches (first report, or after a drop). */
  touchScans: number
  /** Loads of all of a site's leads, links and deals. */
  outcomeLoads: number
  /** Leads and deals refreshed one by one after identify and deal writes. */
  refreshed: number
  /** Touches appended by committed ingests. */
  appended: number
  /** Another connection wrote, but no touches: touches kept, leads/links/deals loaded again. */
  keptAfterOtherWrites: number
  /** Touches held over all sites. */
  touches: number
  sites: number
  /** Tables whose arrays were given back for the next table. */
  tablesReleased: number
}

export class SqliteReportCache {
  private readonly sites = new Map<string, SiteCache>()
  /** Sites found larger than the cache: warm() leaves them alone (until the next drop of everything). */
  private readonly tooBig = new Set<string>()
  /** The arrays of the last released table, for the next one. */
  private spare: TableBuffers | null = null
  readonly stats: ReportCacheStats = { touchScans: 0, outcomeLoads: 0, refreshed: 0, appended: 0, keptAfterOtherWrites: 0, touches: 0, sites: 0, tablesReleased: 0 }

  constructor(
    private readonly s: () => OutcomeStatements,
    /** Runs a function in one read transaction (a scan and the generation it saw must agree). */
    private readonly readTx: <T>(fn: () => T) => T,
    private readonly genStmt: () => Stmt,
    private readonly maxTouches: number = REPORT_CACHE_DEFAULTS.maxTouches,
  ) {}

  // ---- called by the store when writes are durable -----------------------------------------------

  /**
   * A batch of the store's own writes is durable: append its touches to the sites held (unless a
   * scan already saw them), mark its leads and deals for refreshing, drop erased sites.
   */
  durable(delta: BatchDelta): void {
    if (delta.othersWroteTouches) this.clear()
    const seen = (site: SiteCache): boolean => delta.gen !== null && site.gen !== null && site.gen >= delta.gen
    for (const siteId of delta.erased) {
      const site = this.sites.get(siteId)
      if (site && !seen(site)) this.drop(siteId)
    }
    for (const [siteId, visitor, ts, channel, source, medium, campaign, content, term, landing] of delta.touches) {
      const site = this.sites.get(siteId)
      if (!site || seen(site)) continue
      site.log.append(visitor, ts, channel, source, medium, campaign, content, term, landingPage(landing))
      this.stats.appended++
      this.stats.touches++
    }
    for (const [siteId, ids] of delta.leads) this.leadsChanged(siteId, ids)
    for (const [siteId, ids] of delta.deals) this.dealsChanged(siteId, ids)
    this.evict()
  }

  /** What other writers (a CLI command, another process) committed since the last check. */
  others(kind: OtherWrites): void {
    if (kind === 'none') return
    if (kind === 'outcomes') {
      for (const site of this.sites.values()) site.outcomes = null
      if (this.sites.size > 0) this.stats.keptAfterOtherWrites++
      return
    }
    this.clear()
  }

  /** Identify (or deal linking) touched these leads: their identify time, visitors and deals. */
  private leadsChanged(siteId: string, leadIds: readonly string[]): void {
    const site = this.sites.get(siteId)
    if (site?.outcomes) for (const id of leadIds) site.dirtyLeads.add(id)
  }

  /** These deals were written (stage, amount or lead changed). */
  private dealsChanged(siteId: string, dealIds: readonly string[]): void {
    const site = this.sites.get(siteId)
    if (site?.outcomes) for (const id of dealIds) site.dirtyDeals.add(id)
  }

  // ---- called by reports ------------------------------------------------------------------------

  /**
   * The site's touch table for touches in [from, to] (null = unbounded), and `release`: the caller
   * reads the table no more, so its arrays may hold the next table built (see TableBuffers).
   */
  table(siteId: string, from: number | null, to: number | null, extra: TouchExtra | null = null): { table: TouchTable; release: () => void } {
    let site = this.sites.get(siteId)
    // A report by content, term or landing needs those columns: the site is read again with them
    // (once; ~2-3 B a touch more while held). Reports by the usual four ignore them.
    if (site && extra !== null && site.log.extras === null) {
      this.drop(siteId)
      site = undefined
    }
    if (site) {
      // Most recently used last.
      this.sites.delete(siteId)
      this.sites.set(siteId, site)
    } else {
      site = this.fresh(this.scan(siteId, Infinity, undefined, extra !== null))
      if (site.log.size <= this.maxTouches) this.keep(siteId, site)
      else this.tooBig.add(siteId)
    }
    const outcomes = this.outcomesOf(siteId, site)
    const buffers = this.spare ?? new TableBuffers()
    this.spare = null
    const table = buildTouchTable(site.log, outcomes, from ?? -Infinity, to ?? Infinity, buffers, extra)
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      // One spare set: what one table at a time needs; a second table in use at once is garbage after.
      this.spare = buffers
      this.stats.tablesReleased++
    }
    return { table, release }
  }

  /** Reads the site into the cache now, so its first report does not; a site too big to keep is left alone. */
  warm(siteId: string): void {
    if (this.sites.has(siteId) || this.tooBig.has(siteId)) return
    const count = this.count(siteId)
    if (count > this.maxTouches) {
      this.tooBig.add(siteId)
      return
    }
    const site = this.fresh(this.scan(siteId, this.maxTouches + 1, count))
    if (site.log.size > this.maxTouches) {
      this.tooBig.add(siteId)
      return
    }
    this.keep(siteId, site)
    this.outcomesOf(siteId, site)
  }

  private count(siteId: string): number {
    return Number((this.s().touchCount.get(siteId) as { n: number }).n)
  }

  /** A site's touches into a new log sized for them (5% room for appends), at most `limit`, and the generation seen. */
  private scan(siteId: string, limit: number, count?: number, withExtras = false): { log: TouchLog; gen: number } {
    return this.readTx(() => {
      const gen = Number(this.genStmt().get())
      const log = new TouchLog(Math.ceil(Math.min(count ?? this.count(siteId), limit) * 1.05), withExtras)
      scanTouchesSync(this.s(), siteId, log, null, null, limit)
      this.stats.touchScans++
      return { log, gen }
    })
  }

  private keep(siteId: string, site: SiteCache): void {
    this.sites.set(siteId, site)
    this.stats.touches += site.log.size
    this.stats.sites = this.sites.size
    this.evict(siteId)
  }

  private fresh({ log, gen }: { log: TouchLog; gen: number }): SiteCache {
    return { log, gen, outcomes: null, dirtyLeads: new Set(), dirtyDeals: new Set() }
  }

  private outcomesOf(siteId: string, site: SiteCache): SiteOutcomes {
    const dirty = site.dirtyLeads.size + site.dirtyDeals.size
    if (site.outcomes !== null && dirty <= Math.max(1000, REFRESH_SHARE * site.outcomes.leads.length)) {
      if (dirty > 0) {
        refreshOutcomesSync(this.s(), siteId, site.outcomes, site.log.visitors, site.dirtyLeads, site.dirtyDeals)
        this.stats.refreshed += dirty
      }
    } else {
      site.outcomes = loadOutcomesSync(this.s(), siteId, site.log.visitors)
      this.stats.outcomeLoads++
    }
    site.dirtyLeads.clear()
    site.dirtyDeals.clear()
    return site.outcomes
  }

  clear(): void {
    this.sites.clear()
    this.tooBig.clear()
    this.stats.touches = 0
    this.stats.sites = 0
  }

  private drop(siteId: string): void {
    const site = this.sites.get(siteId)
    if (!site) return
    this.sites.delete(siteId)
    this.stats.touches -= site.log.size
    this.stats.sites = this.sites.size
  }

  /** Drops least recently used sites (never `keep`) until the touches fit. */
  private evict(keep?: string): void {
    for (const id of this.sites.keys()) {
      if (this.stats.touches <= this.maxTouches) return
      if (id !== keep) this.drop(id)
    }
  }
}
