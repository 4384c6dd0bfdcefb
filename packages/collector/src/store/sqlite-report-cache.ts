// Report input kept in memory for the SQLite store: per site, its touches as a TouchLog and its
// leads/links/deals, so a report costs a few linear passes over typed arrays instead of a
// million-row scan that builds a million objects (the scan is ~2 µs a touch before any JS work).
//
// Kept true by the store itself, which is the only writer of its connection:
// - a committed ingest appends its new touches (staged per job, dropped with a failed job's
//   savepoint, appended once the transaction committed; a failed commit drops everything);
// - identify marks its lead, a deal write its deal, as dirty: the next report re-reads just those
//   (refreshOutcomesSync), or everything when too many are dirty; erasure drops the site;
// - a commit by any other connection (a CLI command, another process) changes PRAGMA
//   data_version. Every transaction that writes or deletes touches also moves a touch generation
//   (PRAGMA user_version, unused otherwise): when it moved only by our own commits, the touches
//   held are still right and only the leads, links and deals are loaded again (a CLI deals or
//   spend import beside `serve`); otherwise everything is dropped and rebuilt from the file.
// better-sqlite3 runs every write and every report load synchronously on this thread, so no load
// can observe a transaction half done.
//
// Memory is bounded: at most `maxTouches` touches over all sites (least recently reported site
// dropped first); a site larger than that is scanned for each report and not kept.

import type { TouchTable } from '../attribution/table.js'
import type { LoopStatements, SiteOutcomes } from './sqlite-loop.js'
import { loadOutcomesSync, refreshOutcomesSync, scanTouchesSync } from './sqlite-loop.js'
import type { Stmt } from './sqlite-statements.js'
import { buildTouchTable, TableBuffers, TouchLog } from './touch-log.js'

export const REPORT_CACHE_DEFAULTS = { maxTouches: 5_000_000 } as const

interface SiteCache {
  log: TouchLog
  outcomes: SiteOutcomes | null
  /** Written since `outcomes` was loaded: refreshed one by one at the next report. */
  dirtyLeads: Set<string>
  dirtyDeals: Set<string>
}

/** More dirty leads and deals than this share of the site's leads (or 1,000): load them all again. */
const REFRESH_SHARE = 0.1

type Staged = [siteId: string, visitor: string, ts: number, channel: string, source: string, medium: string, campaign: string | null]

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
  private staged: Staged[] = []
  private jobMark = 0
  private version: unknown = undefined
  /** The touch generation our held touches reflect; undefined until first read or written. */
  private touchGen: number | undefined = undefined
  /** The current transaction writes or deletes touches (of any site: other processes' caches care). */
  private touchesWritten = false
  private pendingGen: number | undefined = undefined
  private othersWroteTouches = false
  readonly stats: ReportCacheStats = { touchScans: 0, outcomeLoads: 0, refreshed: 0, appended: 0, keptAfterOtherWrites: 0, touches: 0, sites: 0, tablesReleased: 0 }

  constructor(
    private readonly s: () => LoopStatements,
    private readonly dataVersion: () => Stmt,
    private readonly db: { pragma(sql: string, opts: { simple: true }): unknown },
    private readonly maxTouches: number = REPORT_CACHE_DEFAULTS.maxTouches,
  ) {}

  private readGen(): number {
    return Number(this.db.pragma('user_version', { simple: true }))
  }

  // ---- called by the store's write path -------------------------------------------------------

  /** A job starts in its savepoint. */
  beginJob(): void {
    this.jobMark = this.staged.length
  }

  /** The job was rolled back to its savepoint: its touches never happened. */
  failJob(): void {
    this.staged.length = this.jobMark
  }

  /** A touch inserted by the current job. Only sites already cached need it. */
  touch(siteId: string, visitor: string, ts: number, channel: string, source: string, medium: string, campaign: string | null): void {
    this.touchesWritten = true
    if (this.sites.has(siteId)) this.staged.push([siteId, visitor, ts, channel, source, medium, campaign])
  }

  /** Inside the transaction, just before COMMIT: move the touch generation if touches changed. */
  beforeCommit(): void {
    if (!this.touchesWritten) return
    const gen = this.readGen()
    // Moved since our last commit or check: another process wrote touches meanwhile.
    if (this.touchGen !== undefined && gen !== this.touchGen) this.othersWroteTouches = true
    this.pendingGen = (gen + 1) % 2 ** 31
    this.db.pragma(`user_version = ${this.pendingGen}`, { simple: true })
  }

  /** The transaction committed: staged touches are now stored. */
  committed(): void {
    if (this.pendingGen !== undefined) this.touchGen = this.pendingGen
    if (this.othersWroteTouches) this.clear()
    this.resetBatch()
    for (const [siteId, visitor, ts, channel, source, medium, campaign] of this.staged) {
      const site = this.sites.get(siteId)
      if (!site) continue
      site.log.append(visitor, ts, channel, source, medium, campaign)
      this.stats.appended++
      this.stats.touches++
    }
    this.staged = []
    this.evict()
  }

  /** The transaction failed as a whole: what is stored is unknown here, so start over. */
  rolledBack(): void {
    this.staged = []
    this.resetBatch()
    this.clear()
    this.touchGen = undefined
  }

  private resetBatch(): void {
    this.touchesWritten = false
    this.pendingGen = undefined
    this.othersWroteTouches = false
  }

  /** Identify (or deal linking) touched these leads: their identify time, visitors and deals. */
  leadsChanged(siteId: string, leadIds: readonly string[]): void {
    const site = this.sites.get(siteId)
    if (site?.outcomes) for (const id of leadIds) site.dirtyLeads.add(id)
  }

  /** These deals were written (stage, amount or lead changed). */
  dealsChanged(siteId: string, dealIds: readonly string[]): void {
    const site = this.sites.get(siteId)
    if (site?.outcomes) for (const id of dealIds) site.dirtyDeals.add(id)
  }

  /** Touches, leads and deals of the site were deleted (erasure). */
  touchesDeleted(siteId: string): void {
    this.touchesWritten = true
    this.drop(siteId)
  }

  // ---- called by reports ------------------------------------------------------------------------

  /**
   * The site's touch table for touches in [from, to] (null = unbounded), and `release`: the caller
   * reads the table no more, so its arrays may hold the next table built (see TableBuffers).
   */
  table(siteId: string, from: number | null, to: number | null): { table: TouchTable; release: () => void } {
    this.checkVersion()
    let site = this.sites.get(siteId)
    if (site) {
      // Most recently used last.
      this.sites.delete(siteId)
      this.sites.set(siteId, site)
    } else {
      site = this.fresh(this.scan(siteId, Infinity))
      if (site.log.size <= this.maxTouches) this.keep(siteId, site)
      else this.tooBig.add(siteId)
    }
    const outcomes = this.outcomesOf(siteId, site)
    const buffers = this.spare ?? new TableBuffers()
    this.spare = null
    const table = buildTouchTable(site.log, outcomes, from ?? -Infinity, to ?? Infinity, buffers)
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
    this.checkVersion()
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

  /**
   * Another connection committed (PRAGMA data_version moved): if it left the touch generation
   * where our own commits put it, only leads, links and deals may have changed; else nothing held
   * here can be trusted.
   */
  private checkVersion(): void {
    const version = this.dataVersion().get()
    if (version === this.version) return
    const first = this.version === undefined
    this.version = version
    const gen = this.readGen()
    if (first && this.sites.size === 0) {
      this.touchGen = gen
      return
    }
    if (this.touchGen !== undefined && gen === this.touchGen) {
      for (const site of this.sites.values()) site.outcomes = null
      this.stats.keptAfterOtherWrites++
      return
    }
    this.clear()
    this.touchGen = gen
  }

  private count(siteId: string): number {
    return Number((this.s().touchCount.get(siteId) as { n: number }).n)
  }

  /** A site's touches into a new log sized for them (5% room for appends), at most `limit`. */
  private scan(siteId: string, limit: number, count = this.count(siteId)): TouchLog {
    const log = new TouchLog(Math.ceil(Math.min(count, limit) * 1.05))
    scanTouchesSync(this.s(), siteId, log, null, null, limit)
    this.stats.touchScans++
    return log
  }

  private keep(siteId: string, site: SiteCache): void {
    this.sites.set(siteId, site)
    this.stats.touches += site.log.size
    this.stats.sites = this.sites.size
    this.evict(siteId)
  }

  private fresh(log: TouchLog): SiteCache {
    return { log, outcomes: null, dirtyLeads: new Set(), dirtyDeals: new Set() }
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
