// The default store: one SQLite file (better-sqlite3) in WAL mode. One connection, statements
// prepared once, every write through group commit (one transaction per event-loop turn).
//
// Durability (`synchronous: 'FULL'`, the default): an acknowledged write survives power loss. SQLite
// runs with PRAGMA synchronous=NORMAL, so its COMMIT writes the WAL frames without an fsync, and the
// store then syncs the WAL file itself (fdatasync, as SQLite does on Linux) in libuv's thread pool;
// only after that sync are the requests of the transaction answered (a failed sync rejects them
// and every later transaction: nothing is acknowledged that is not on disk, and a retry is
// deduplicated). This is what synchronous=FULL would do, but the sync no longer blocks the event
// loop: other requests are parsed and answered, and the next transaction commits, while it runs
// (group-commit.ts: commits made during a sync share the next one).
// SQLite's own rules for NORMAL still sync the WAL header when the WAL is reused and the database
// file at checkpoints. The one difference: other requests may read a transaction's data during its
// fsync, before it is acknowledged. `synchronous: 'NORMAL'` skips the fsync (an acknowledged write
// then only survives a process crash, not a power loss).
//
// Group commit is what makes this affordable: one fsync per flush, shared by every request in it.
// Measured against synchronous=FULL (alternating runs, load 1.2–1.5): /v1/identify on 1M touchpoints
// 1,736–2,119 vs 1,393–1,647 req/s at 10 connections (p99 12–14 ms either way); /v1/collect unchanged
// (its main thread is busy with the requests themselves).

import Database from 'better-sqlite3'
import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { nanoid } from 'nanoid'
import { clError } from '../errors.js'
import { GroupCommit, type Job } from './group-commit.js'
import { Checkpointer } from './sqlite-checkpointer.js'
import { SQLITE_MIGRATIONS, type Migration } from './migrations/sqlite.js'
import {
  boundPayload, conflictFromRow, QUALITY_MAX_TS, QUALITY_MIN_TS, qualityFromRows, rejectedFromRow, siteFromRow, type Row,
} from './rows.js'
import { identifySync } from './sqlite-identify.js'
import {
  eraseDealsSync, getDealsSync, linkPendingDealsSync, listRatesSync, loadReportDataSync, loadSpendSync, prepareLoopStatements, upsertDealsSync, upsertRatesSync,
  upsertSpendSync, type LoopStatements,
} from './sqlite-loop.js'
import type { FxRate } from '../currency.js'
import type { Deal, DealWrite, DealWriteResult, ReportData, ReportLoadOptions, ReportTableData, SpendWrite } from '../outcome-types.js'
import { compileJourneys } from '../attribution/table.js'
import { ingestBatch } from './sqlite-ingest.js'
import { REPORT_CACHE_DEFAULTS, SqliteReportCache, type ReportCacheStats } from './sqlite-report-cache.js'
import { anySuppressed, eraseSync, exportSync, journeySync } from './sqlite-privacy.js'
import { prepareStatements, type Db, type Statements, type Stmt } from './sqlite-statements.js'
import type {
  Erased, IdentityKey, IdentifyInput, IdentifyOutcome, IngestEvent, IngestResult, LeadConflict, LeadJourney, NewSite, PersonExport, PersonSelector, QualityStats, RejectedEvent,
  Site, Store, StoreStats,
} from './types.js'

export interface SqliteStoreOptions {
  /** Database file path (`:memory:` only for throwaway use; tests use real files). */
  file: string
  /** `FULL` (default): acknowledged after the WAL is fsynced; `NORMAL` trades power-loss safety for speed. */
  synchronous?: 'FULL' | 'NORMAL'
  /** Flush without waiting for the next event-loop turn once this many events are pending. */
  maxPendingEvents?: number
  /** Schema to apply; defaults to every known migration. */
  migrations?: readonly Migration[]
  /** WAL checkpoints run in a worker thread this often (ms); 0 leaves them to SQLite on commit. */
  checkpointIntervalMs?: number
  /** Touches kept in memory for reports, over all sites (see sqlite-report-cache.ts); 0 keeps none. */
  reportCacheTouches?: number
}

export const SQLITE_DEFAULTS = { synchronous: 'FULL', maxPendingEvents: 5_000, checkpointIntervalMs: 250 } as const

export class SqliteStore implements Store {
  readonly db: Db
  private stmts: Statements | null = null
  private dataVersionStmt: Stmt | null = null
  private loopStmts: LoopStatements | null = null
  private readonly writer: GroupCommit<Statements>
  private readonly migrations: readonly Migration[]
  private readonly checkpointer: Checkpointer | null
  private readonly reportCache: SqliteReportCache
  private readonly walFile: string | null
  private walFd: number | null = null
  private fsyncs = 0
  private closed = false

  constructor(options: SqliteStoreOptions) {
    if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true })
    this.db = new Database(options.file)
    this.db.pragma('journal_mode = WAL')
    // The store fsyncs the WAL itself after each group commit (see the top of this file).
    this.db.pragma('synchronous = NORMAL')
    this.walFile = (options.synchronous ?? SQLITE_DEFAULTS.synchronous) === 'FULL' && options.file !== ':memory:' ? options.file + '-wal' : null
    // A CLI command (e.g. `closeloop sites add`) may write while `serve` holds the file.
    this.db.pragma('busy_timeout = 5000')
    this.db.pragma('foreign_keys = ON')
    // SQLite's own page cache: 8 MB. Reads past it come from the OS page cache at the cost of a
    // pread. Measured at 1M touchpoints against 32 MB: collector RSS 50 MB lower (start-up reads
    // every touch through it), /v1/identify no slower (2.2-2.3k req/s at 10 connections), bulk
    // /v1/import 10-18% slower (17.3k vs 19.5k events/s), far from its budget either way.
    this.db.pragma('cache_size = -8000')
    // A big import commits ~100 MB of WAL at once; without a limit the file keeps that size
    // after the checkpoint.
    this.db.pragma('journal_size_limit = 67108864')
    const interval = options.checkpointIntervalMs ?? SQLITE_DEFAULTS.checkpointIntervalMs
    this.checkpointer = options.file !== ':memory:' && interval > 0 ? new Checkpointer(this.db, options.file, interval) : null
    this.migrations = options.migrations ?? SQLITE_MIGRATIONS
    this.reportCache = new SqliteReportCache(
      () => this.loop,
      () => this.dataVersionStmt ?? (this.dataVersionStmt = this.db.prepare('PRAGMA data_version').pluck()),
      this.db,
      options.reportCacheTouches ?? REPORT_CACHE_DEFAULTS.maxTouches,
    )
    this.writer = new GroupCommit<Statements>((jobs) => this.runBatch(jobs), {
      maxPendingWeight: options.maxPendingEvents ?? SQLITE_DEFAULTS.maxPendingEvents,
      sync: this.walFile === null ? undefined : () => this.syncWal(),
    })
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
    const applied = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => Number(r.version)))
    const record = this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
    for (const m of [...this.migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue
      this.db.transaction(() => {
        this.db.exec(m.sql)
        record.run(m.version, m.name, Date.now())
      }).immediate()
    }
    this.stmts ??= prepareStatements(this.db)
    this.dataVersionStmt ??= this.db.prepare('PRAGMA data_version').pluck()
    this.loopStmts ??= prepareLoopStatements(this.db)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writer.drain()
    await this.checkpointer?.stop()
    if (this.walFd !== null) closeSync(this.walFd)
    // SQLite's advice for long-lived connections: refresh planner statistics on the way out.
    this.db.pragma('optimize')
    // Leave a database file that holds everything, and an empty WAL.
    this.db.pragma('wal_checkpoint(TRUNCATE)')
    this.db.close()
  }

  dataVersion(): string {
    return `${this.writer.stats.jobs}.${this.dataVersionStmt?.get() ?? 0}`
  }

  /** What the in-memory report input holds and how often it was (re)built. */
  reportCacheStats(): ReportCacheStats {
    return { ...this.reportCache.stats }
  }

  stats(): StoreStats {
    const { flushes, jobs, maxBatch, commitSizes } = this.writer.stats
    return { flushes, jobs, maxBatch, commitSizes: [...commitSizes], fsyncs: this.fsyncs, reportCache: this.reportCacheStats() }
  }

  private get s(): Statements {
    if (!this.stmts) throw clError('INTERNAL', 'SqliteStore used before migrate()')
    return this.stmts
  }

  /** One transaction for the whole group; each job in a savepoint so one failure stays its own. */
  private async runBatch(jobs: Array<Job<Statements>>): Promise<void> {
    const s = this.s
    const cache = this.reportCache
    s.tx.begin.run()
    try {
      for (const job of jobs) {
        s.tx.savepoint.run()
        cache.beginJob()
        try {
          job.result = job.run(s)
          s.tx.release.run()
        } catch (err) {
          job.failed = true
          job.error = err
          cache.failJob()
          s.tx.rollbackTo.run()
          s.tx.release.run()
        }
      }
      cache.beforeCommit()
      s.tx.commit.run()
    } catch (err) {
      cache.rolledBack()
      if (this.db.inTransaction) s.tx.rollback.run()
      throw err
    }
    cache.committed()
  }

  /** Makes the committed WAL frames durable, off the event loop (only with `synchronous: 'FULL'`). */
  private syncWal(): Promise<void> {
    if (this.walFile === null) return Promise.resolve()
    // Opened once the WAL exists (after the first write); the same inode for the store's life
    // (SQLite truncates it, never replaces it, while a connection is open).
    this.walFd ??= openSync(this.walFile, 'r+')
    const fd = this.walFd
    return new Promise((resolve, reject) => fdatasync(fd, (err) => {
      if (err) reject(err)
      else { this.fsyncs++; resolve() }
    }))
  }

  /**
   * Run `run` inside the next group-commit transaction (its own savepoint); resolves after COMMIT.
   * For store extensions living in their own module (e.g. deals): prepare their statements once
   * after migrate(), then write through here so they share the durability rules.
   */
  write<T>(run: (s: Statements) => T, weight = 1): Promise<T> {
    if (this.closed) return Promise.reject(clError('INTERNAL', 'Store is closed'))
    return this.writer.submit(run, weight) as Promise<T>
  }

  async createSite(input: NewSite): Promise<Site> {
    const id = nanoid()
    const now = Date.now()
    return this.write((s) => {
      if (s.sites.byName.get(input.name)) throw clError('VALIDATION', `A site named "${input.name}" already exists`)
      s.sites.insert.run(
        id, input.name, input.publicKey, JSON.stringify(input.origins), input.cookieDomain ?? null,
        input.currency ?? 'USD', JSON.stringify(input.settings ?? {}), now,
      )
      s.sites.insertKey.run(input.secretKeyId, id, input.secretKeyHash, now)
      return siteFromRow(s.sites.byId.get(id) as Row)
    })
  }

  async getSite(id: string): Promise<Site | null> {
    const row = this.s.sites.byId.get(id) as Row | undefined
    return row ? siteFromRow(row) : null
  }

  async getSiteByName(name: string): Promise<Site | null> {
    const row = this.s.sites.byName.get(name) as Row | undefined
    return row ? siteFromRow(row) : null
  }

  async getSiteByPublicKey(publicKey: string): Promise<Site | null> {
    const row = this.s.sites.byPublicKey.get(publicKey) as Row | undefined
    return row ? siteFromRow(row) : null
  }

  async getSiteBySecretKeyId(keyId: string): Promise<{ site: Site; secretKeyHash: string } | null> {
    const row = this.s.sites.byKeyId.get(keyId) as Row | undefined
    return row ? { site: siteFromRow(row), secretKeyHash: String(row.secret_hash) } : null
  }

  async listSites(): Promise<Site[]> {
    return (this.s.sites.list.all() as Row[]).map(siteFromRow)
  }

  async updateSite(id: string, patch: Partial<Pick<Site, 'origins' | 'cookieDomain' | 'currency' | 'settings' | 'name'>>): Promise<Site> {
    return this.write((s) => {
      const row = s.sites.byId.get(id) as Row | undefined
      if (!row) throw clError('NOT_FOUND', 'Unknown site')
      const next = { ...siteFromRow(row), ...patch }
      s.sites.update.run(next.name, JSON.stringify(next.origins), next.cookieDomain, next.currency, JSON.stringify(next.settings), id)
      return siteFromRow(s.sites.byId.get(id) as Row)
    })
  }

  ingest(events: IngestEvent[]): Promise<IngestResult> {
    if (events.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0, suppressed: 0, outcome: [] })
    const cache = this.reportCache
    const onTouch = (e: IngestEvent & { touch: NonNullable<IngestEvent['touch']> }) =>
      cache.touch(e.siteId, e.visitorId, e.ts, e.touch.channel, e.touch.source, e.touch.medium, e.touch.campaign ?? null)
    return this.write((s) => ingestBatch(s, events, onTouch), events.length)
  }

  recordRejected(rows: RejectedEvent[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve()
    return this.write((s) => {
      for (const r of rows) s.ingest.insertRejected.run(r.siteId, r.receivedAt, r.code, boundPayload(r.payload))
    }, rows.length)
  }

  async listRejected(siteId: string, limit = 100): Promise<RejectedEvent[]> {
    return (this.s.ingest.listRejected.all(siteId, limit) as Row[]).map(rejectedFromRow)
  }

  async qualityStats(siteId: string, from: number | null, to: number | null): Promise<QualityStats> {
    const range = [siteId, from ?? QUALITY_MIN_TS, to ?? QUALITY_MAX_TS]
    return qualityFromRows(this.s.ingest.qualityTouches.all(...range) as Row[], this.s.ingest.qualityRejected.all(...range) as Row[])
  }

  async listConflicts(siteId: string, limit = 100): Promise<LeadConflict[]> {
    return (this.s.ingest.listConflicts.all(siteId, limit) as Row[]).map(conflictFromRow)
  }

  identify(input: IdentifyInput): Promise<IdentifyOutcome> {
    return this.write((s) => {
      if (input.suppression && anySuppressed(s, input.siteId, input.suppression)) throw clError('SUPPRESSED')
      const now = Date.now()
      const outcome = identifySync(s, input, now)
      // Deals that arrived before their person are linked in the same transaction.
      linkPendingDealsSync(this.loop, input.siteId, outcome.leadId, input.keys, now)
      this.reportCache.leadsChanged(input.siteId, [outcome.leadId])
      return outcome
    })
  }

  async getLead(siteId: string, leadId: string): Promise<LeadJourney | null> {
    return journeySync(this.s, siteId, leadId)
  }

  async isSuppressed(siteId: string, hashes: string[]): Promise<boolean> {
    const s = this.s
    return anySuppressed(s, siteId, hashes)
  }

  erase(siteId: string, who: PersonSelector, suppressionHashes: string[]): Promise<Erased> {
    return this.write((s) => {
      this.reportCache.touchesDeleted(siteId)
      return eraseSync(s, siteId, who, suppressionHashes, Date.now(), (leadIds) => eraseDealsSync(this.loop, siteId, leadIds, who.emailHash, who.externalIdHash))
    })
  }

  async exportPerson(siteId: string, who: PersonSelector): Promise<PersonExport> {
    return exportSync(this.s, siteId, who)
  }

  private get loop(): LoopStatements {
    if (!this.loopStmts) throw clError('INTERNAL', 'SqliteStore used before migrate()')
    return this.loopStmts
  }

  upsertDeals(siteId: string, deals: DealWrite[]): Promise<DealWriteResult[]> {
    if (deals.length === 0) return Promise.resolve([])
    return this.write(() => {
      const results = upsertDealsSync(this.loop, siteId, deals, Date.now())
      this.reportCache.dealsChanged(siteId, results.map((r) => r.dealId))
      return results
    }, deals.length)
  }

  linkPendingDeals(siteId: string, leadId: string, keys: IdentityKey[]): Promise<number> {
    return this.write(() => {
      const linked = linkPendingDealsSync(this.loop, siteId, leadId, keys, Date.now())
      this.reportCache.leadsChanged(siteId, [leadId])
      return linked
    })
  }

  async getDeals(siteId: string, leadId: string): Promise<Deal[]> {
    return getDealsSync(this.loop, siteId, leadId)
  }

  upsertSpend(siteId: string, rows: SpendWrite[]): Promise<{ inserted: number; updated: number }> {
    return this.write(() => upsertSpendSync(this.loop, siteId, rows, Date.now()), rows.length)
  }

  upsertRates(siteId: string, rates: FxRate[]): Promise<number> {
    return this.write(() => upsertRatesSync(this.loop, siteId, rates, Date.now()), rates.length)
  }

  async listRates(siteId: string): Promise<FxRate[]> {
    return listRatesSync(this.loop, siteId)
  }

  async loadReportData(siteId: string, opts: ReportLoadOptions): Promise<ReportData> {
    return loadReportDataSync(this.loop, siteId, opts)
  }

  async warmReports(): Promise<number> {
    for (const site of await this.listSites()) this.reportCache.warm(site.id)
    return this.reportCache.stats.touches
  }

  async loadReportTable(siteId: string, opts: ReportLoadOptions): Promise<ReportTableData> {
    // content/term/landing are not kept in memory (rarely asked for; long, many-valued strings).
    if (opts.extra) {
      const data = loadReportDataSync(this.loop, siteId, opts)
      return { table: compileJourneys(data.journeys), spend: data.spend }
    }
    const { table, release } = this.reportCache.table(siteId, opts.touchesFrom, opts.touchesTo)
    return { table, spend: loadSpendSync(this.loop, siteId, opts), release }
  }
}
