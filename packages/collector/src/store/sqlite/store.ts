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
// Group commit is what makes this affordable: one fsync per flush, shared by every request in it
// (bench/RESULTS.md has the comparison with synchronous=FULL).

import Database from 'better-sqlite3'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { nanoid } from 'nanoid'
import { clError } from '../../errors.js'
import { Checkpointer } from './checkpointer.js'
import { MATCH_KEY_COLUMNS, MATCH_KEYS_UPGRADE, SQLITE_MIGRATIONS, type Migration } from './migrations.js'
import {
  conflictFromRow, leadFromRow, QUALITY_MAX_TS, QUALITY_MIN_TS, qualityFromRows, rejectedFromRow, siteFromRow, type Row,
} from '../rows.js'
import { getAccountSync } from './accounts.js'
import { crmOutboxCountsSync, dueCrmInboxSync, getCrmConnectionSync, listCrmConnectionsSync, pendingCrmInboxSync, type CrmWrite } from './crm.js'
import { getDealsSync } from './deals.js'
import type { OutcomeStatements } from './outcome-statements.js'
import { loadReportDataSync, loadSpendSync } from './report-data.js'
import { listRatesSync } from './spend.js'
import type { FxRate } from '../../outcomes/currency.js'
import type { Deal, DealWrite, DealWriteResult, ReportData, ReportLoadOptions, ReportTableData, SpendWrite } from '../../outcomes/types.js'
import { REPORT_CACHE_DEFAULTS, SqliteReportCache, type ReportCacheStats } from './report-cache.js'
import { anySuppressed, exportSync, journeySync } from './privacy.js'
import type { Db, Statements, Stmt } from './statements.js'
import { configureConnection, SqliteWriter, type BatchDelta, type OtherWrites } from './writer.js'
import type { SitePatch, WriteOp } from './writes.js'
import type { DestinationRegistry } from '../../integrations/destinations/plan.js'
import { conversionCountsSync, getDestinationSync, listDestinationsSync, type DestinationWrite } from './destinations.js'
import type {
  AccountView, ConversionCount, ConversionOutboxRow, ConversionOutcome, CrmConnectionRecord, CrmInboxEntry, CrmInboxOutcome, CrmOutboxCounts, CrmOutboxEntry, CrmOutboxOutcome, CrmOutboxWrite, CrmStatusPatch, DestinationRecord, DestinationStatusPatch, DroppedCount, Erased, IdentifyInput, IdentifyOutcome, IdentityKey, IngestEvent, IngestResult, Lead, LeadConflict, LeadJourney, NewCrmConnection, NewDestination, NewSite, PersonExport, PersonSelector, QualityStats, RejectedEvent,
  Site, Store, StoreStats,
} from '../types.js'

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
  /** Touches kept in memory for reports, over all sites (see report-cache.ts); 0 keeps none. */
  reportCacheTouches?: number
  /** Destination adapters that decide which conversion rows a stage change queues (default: this build's). */
  destinations?: DestinationRegistry
}

export const SQLITE_DEFAULTS = { synchronous: 'FULL', maxPendingEvents: 5_000, checkpointIntervalMs: 250 } as const

// SQLite's own page cache: 8 MB per connection. Reads past it come from the OS page cache at the
// cost of a pread. A larger cache raised the collector's RSS (start-up reads every touch through
// it) for little gain in bulk import and none in identify (bench/RESULTS.md).
const CACHE_SIZE_KB = 8000

/**
 * The database holds personal data: a data directory it creates is 0700 and the file (with its
 * -wal and -shm, which SQLite creates with the file's mode) 0600 — also an older file made 0644.
 */
function ownerOnlyFile(file: string): void {
  const dir = dirname(file)
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
  closeSync(openSync(file, 'a', 0o600))
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try { chmodSync(f, 0o600) } catch { /* absent, or not ours to change: SQLite reports what matters */ }
  }
}

export class SqliteStore implements Store {
  readonly db: Db
  private dataVersionStmt: Stmt | null = null
  private writer: SqliteWriter | null = null
  private readonly options: SqliteStoreOptions
  private readonly migrations: readonly Migration[]
  private checkpointer: Checkpointer | null = null
  private readonly reportCache: SqliteReportCache
  private closed = false

  constructor(options: SqliteStoreOptions) {
    this.options = options
    if (options.file !== ':memory:') ownerOnlyFile(options.file)
    this.db = new Database(options.file)
    configureConnection(this.db)
    this.db.pragma(`cache_size = -${CACHE_SIZE_KB}`)
    this.migrations = options.migrations ?? SQLITE_MIGRATIONS
    const gen = this.db.prepare('PRAGMA user_version').pluck()
    this.reportCache = new SqliteReportCache(
      () => this.outcomes,
      (fn) => this.db.transaction(fn)(),
      () => gen,
      options.reportCacheTouches ?? REPORT_CACHE_DEFAULTS.maxTouches,
    )
  }

  /** Applies pending migrations on this connection, then starts the writer. */
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
    // Reads use the writer's statements: one connection, everything prepared once.
    this.writer ??= this.startWriter()
    this.dataVersionStmt ??= this.db.prepare('PRAGMA data_version').pluck()
  }

  private startWriter(): SqliteWriter {
    const o = this.options
    const file = o.file
    const onDisk = file !== ':memory:'
    const walFile = (o.synchronous ?? SQLITE_DEFAULTS.synchronous) === 'FULL' && onDisk ? file + '-wal' : null
    const maxPendingEvents = o.maxPendingEvents ?? SQLITE_DEFAULTS.maxPendingEvents
    const onDurable = (delta: BatchDelta) => {
      // The batch is stored whatever happens here: a cache that failed to follow starts over
      // rather than leaving the batch's requests unanswered.
      try {
        this.reportCache.durable(delta)
      } catch {
        this.reportCache.clear()
      }
    }
    const interval = o.checkpointIntervalMs ?? SQLITE_DEFAULTS.checkpointIntervalMs
    const checkpoints = onDisk && interval > 0
    if (checkpoints) {
      this.db.pragma('wal_autocheckpoint = 0')
      this.checkpointer = new Checkpointer(file, interval, () => { if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000') })
    }
    return new SqliteWriter(this.db, { walFile, maxPendingEvents, onDurable, destinations: o.destinations })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writer?.close()
    await this.checkpointer?.stop()
    // SQLite's advice for long-lived connections: refresh planner statistics on the way out.
    this.db.pragma('optimize')
    // Leave a database file that holds everything, and an empty WAL.
    this.db.pragma('wal_checkpoint(TRUNCATE)')
    this.db.close()
  }

  dataVersion(): string {
    return `${this.writer?.stats().jobs ?? 0}.${this.dataVersionStmt?.get() ?? 0}`
  }

  /** What the in-memory report input holds and how often it was (re)built. */
  reportCacheStats(): ReportCacheStats {
    return { ...this.reportCache.stats }
  }

  stats(): StoreStats {
    const { flushes, jobs, maxBatch, commitSizes, fsyncs } = this.writer?.stats() ?? { flushes: 0, jobs: 0, maxBatch: 0, commitSizes: [], fsyncs: 0 }
    return { flushes, jobs, maxBatch, commitSizes, fsyncs, reportCache: this.reportCacheStats() }
  }

  private get s(): Statements {
    if (!this.writer) throw clError('INTERNAL', 'SqliteStore used before migrate()')
    return this.writer.s
  }

  /** Runs `op` inside the next group-commit transaction (its own savepoint); resolves once it is durable. */
  private write<T>(op: WriteOp, weight = 1): Promise<T> {
    if (this.closed) return Promise.reject(clError('INTERNAL', 'Store is closed'))
    if (!this.writer) return Promise.reject(clError('INTERNAL', 'SqliteStore used before migrate()'))
    return this.writer.submit(op, weight) as Promise<T>
  }

  createSite(input: NewSite): Promise<Site> {
    return this.write({ op: 'createSite', id: nanoid(), input })
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

  updateSite(id: string, patch: SitePatch): Promise<Site> {
    return this.write({ op: 'updateSite', id, patch })
  }

  ingest(events: IngestEvent[]): Promise<IngestResult> {
    if (events.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0, suppressed: 0, outcome: [] })
    return this.write({ op: 'ingest', events }, events.length)
  }

  recordRejected(rows: RejectedEvent[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve()
    return this.write({ op: 'recordRejected', rows }, rows.length)
  }

  countDropped(rows: DroppedCount[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve()
    return this.write({ op: 'countDropped', rows }, rows.length)
  }

  async listRejected(siteId: string, limit = 100): Promise<RejectedEvent[]> {
    return (this.s.ingest.listRejected.all(siteId, limit) as Row[]).map(rejectedFromRow)
  }

  async qualityStats(siteId: string, from: number | null, to: number | null): Promise<QualityStats> {
    const range = [siteId, from ?? QUALITY_MIN_TS, to ?? QUALITY_MAX_TS]
    const s = this.s.ingest
    return qualityFromRows(s.qualityTouches.all(...range) as Row[], s.qualityRejected.all(...range) as Row[], s.qualityDropped.all(...range) as Row[])
  }

  async listConflicts(siteId: string, limit = 100): Promise<LeadConflict[]> {
    return (this.s.ingest.listConflicts.all(siteId, limit) as Row[]).map(conflictFromRow)
  }

  identify(input: IdentifyInput): Promise<IdentifyOutcome> {
    return this.write({ op: 'identify', input })
  }

  async getLead(siteId: string, leadId: string): Promise<LeadJourney | null> {
    return journeySync(this.s, siteId, leadId)
  }

  async findLeadByKey(siteId: string, key: IdentityKey): Promise<string | null> {
    const row = this.s.leads.identityLead.get(siteId, key.kind, key.hash) as Row | undefined
    return row ? String(row.lead_id) : null
  }

  async findLeadByVisitor(siteId: string, visitorId: string): Promise<string | null> {
    const row = this.s.leads.visitorLead.get(siteId, visitorId) as Row | undefined
    return row ? String(row.lead_id) : null
  }

  async recentLeads(siteId: string, limit: number): Promise<Lead[]> {
    return (this.s.leads.recent.all(siteId, limit) as Row[]).map(leadFromRow)
  }

  async getAccount(siteId: string, accountId: string): Promise<AccountView | null> {
    return getAccountSync(this.outcomes, siteId, accountId)
  }

  async isSuppressed(siteId: string, hashes: string[]): Promise<boolean> {
    const s = this.s
    return anySuppressed(s, siteId, hashes)
  }

  async erase(siteId: string, who: PersonSelector, suppressionHashes: string[]): Promise<Erased> {
    const erased = await this.write<Erased>({ op: 'erase', siteId, who, hashes: suppressionHashes })
    await this.truncateWal()
    return erased
  }

  applyRetention(siteId: string, before: number): Promise<{ events: number; touches: number }> {
    return this.write({ op: 'retention', siteId, before })
  }

  pruneRejected(before: number): Promise<number> {
    return this.write({ op: 'pruneRejected', before })
  }

  /** The WAL still holds pages as they were before a delete: copy them back and empty it. */
  private async truncateWal(): Promise<void> {
    if (this.options.file === ':memory:') return
    for (let i = 0; i < 50; i++) {
      const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>
      if (r.busy === 0) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  async rekeyMatchHashes(rekey: (hash: string) => string): Promise<number> {
    if (!this.writer) throw clError('INTERNAL', 'SqliteStore used before migrate()')
    // Not a WriteOp (it carries a function): queued writes go first, then one IMMEDIATE
    // transaction, which also waits for another process's write and then sees its marker.
    await this.writer.drain()
    this.db.function('cl_rekey', { deterministic: true }, (h: unknown) => (h == null ? null : rekey(String(h))))
    const done = this.db.prepare('SELECT 1 FROM data_upgrades WHERE name = ?')
    const mark = this.db.prepare('INSERT INTO data_upgrades (name, rows, applied_at) VALUES (?, ?, ?)')
    const rows = this.db.transaction(() => {
      if (done.get(MATCH_KEYS_UPGRADE)) return 0
      let n = 0
      for (const [table, column] of MATCH_KEY_COLUMNS) {
        n += this.db.prepare(`UPDATE ${table} SET ${column} = cl_rekey(${column}) WHERE ${column} IS NOT NULL`).run().changes
      }
      mark.run(MATCH_KEYS_UPGRADE, n, Date.now())
      return n
    }).immediate()
    // Report inputs need no refresh: a pending deal joins its lead on both sides' rewritten keys.
    // The old keys' bytes are overwritten (secure_delete), the WAL's copies checkpointed away.
    if (rows > 0) await this.truncateWal()
    return rows
  }

  async exportPerson(siteId: string, who: PersonSelector): Promise<PersonExport> {
    return exportSync(this.s, siteId, who)
  }

  private get outcomes(): OutcomeStatements {
    if (!this.writer) throw clError('INTERNAL', 'SqliteStore used before migrate()')
    return this.writer.outcomes
  }

  upsertDeals(siteId: string, deals: DealWrite[]): Promise<DealWriteResult[]> {
    if (deals.length === 0) return Promise.resolve([])
    return this.write({ op: 'upsertDeals', siteId, deals }, deals.length)
  }

  linkPendingDeals(siteId: string, leadId: string, keys: IdentityKey[]): Promise<number> {
    return this.write({ op: 'linkPendingDeals', siteId, leadId, keys })
  }

  async getDeals(siteId: string, leadId: string): Promise<Deal[]> {
    return getDealsSync(this.outcomes, siteId, leadId)
  }

  upsertSpend(siteId: string, rows: SpendWrite[]): Promise<{ inserted: number; updated: number }> {
    return this.write({ op: 'upsertSpend', siteId, rows }, rows.length)
  }

  upsertRates(siteId: string, rates: FxRate[]): Promise<number> {
    return this.write({ op: 'upsertRates', siteId, rates }, rates.length)
  }

  async listRates(siteId: string): Promise<FxRate[]> {
    return listRatesSync(this.outcomes, siteId)
  }

  async loadReportData(siteId: string, opts: ReportLoadOptions): Promise<ReportData> {
    return loadReportDataSync(this.outcomes, siteId, opts)
  }

  async warmReports(): Promise<number> {
    const sites = await this.listSites()
    this.reportCache.others(this.othersWrote())
    for (const site of sites) this.reportCache.warm(site.id)
    return this.reportCache.stats.touches
  }

  /** What other writers (a CLI command, another process) committed since the last look. */
  private othersWrote(): OtherWrites {
    if (!this.writer) throw clError('INTERNAL', 'SqliteStore used before migrate()')
    return this.writer.others()
  }

  async loadReportTable(siteId: string, opts: ReportLoadOptions): Promise<ReportTableData> {
    this.reportCache.others(this.othersWrote())
    const { table, release } = this.reportCache.table(siteId, opts.touchesFrom, opts.touchesTo, opts.extra ?? null)
    return { table, spend: loadSpendSync(this.outcomes, siteId, opts), release }
  }

  private crm<T>(write: CrmWrite): Promise<T> {
    return this.write({ op: 'crm', write })
  }

  addCrmConnection(input: NewCrmConnection): Promise<CrmConnectionRecord> {
    return this.crm({ kind: 'add', input })
  }

  async getCrmConnection(id: string): Promise<CrmConnectionRecord | null> {
    return getCrmConnectionSync(this.outcomes, id)
  }

  async listCrmConnections(): Promise<CrmConnectionRecord[]> {
    return listCrmConnectionsSync(this.outcomes)
  }

  removeCrmConnection(id: string): Promise<boolean> {
    return this.crm({ kind: 'remove', id })
  }

  updateCrmStatus(id: string, patch: CrmStatusPatch): Promise<void> {
    return this.crm({ kind: 'status', id, patch })
  }

  enqueueCrmInbox(connectionId: string, items: ReadonlyArray<{ key: string; item: string }>, receivedAt: number): Promise<{ stored: number; duplicates: number }> {
    return this.crm({ kind: 'enqueue', connectionId, items: items.map((i) => ({ id: nanoid(), ...i })), receivedAt })
  }

  async dueCrmInbox(now: number, limit: number): Promise<CrmInboxEntry[]> {
    return dueCrmInboxSync(this.outcomes, now, limit)
  }

  async pendingCrmInbox(): Promise<number> {
    return pendingCrmInboxSync(this.outcomes)
  }

  settleCrmInbox(id: string, outcome: CrmInboxOutcome): Promise<void> {
    return this.crm({ kind: 'settle', id, outcome })
  }

  pruneCrmInbox(before: number): Promise<number> {
    return this.crm({ kind: 'prune', before })
  }

  enqueueCrmOutbox(rows: readonly CrmOutboxWrite[], now: number): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0)
    return this.crm({ kind: 'outbox', rows: rows.map((r) => ({ ...r, id: nanoid() })), now })
  }

  async dueCrmOutbox(now: number, limit: number, leaseMs: number): Promise<CrmOutboxEntry[]> {
    // A write only when something is due: an idle worker's polls leave dataVersion (and so the
    // report cache) alone.
    if (this.outcomes.crmOutboxDue.get(now, 1) === undefined) return []
    return this.crm({ kind: 'outboxDue', now, limit, leaseMs })
  }

  settleCrmOutbox(id: string, version: number, outcome: CrmOutboxOutcome): Promise<boolean> {
    return this.crm({ kind: 'outboxSettle', id, version, outcome })
  }

  async crmOutboxCounts(): Promise<CrmOutboxCounts[]> {
    return crmOutboxCountsSync(this.outcomes)
  }

  pruneCrmOutbox(before: number): Promise<number> {
    return this.crm({ kind: 'outboxPrune', before })
  }

  private destinationWrite<T>(write: DestinationWrite): Promise<T> {
    return this.write({ op: 'destinations', write })
  }

  addDestination(input: NewDestination): Promise<DestinationRecord> {
    return this.destinationWrite({ kind: 'add', input })
  }

  async getDestination(id: string): Promise<DestinationRecord | null> {
    return getDestinationSync(this.outcomes, id)
  }

  async listDestinations(siteId?: string): Promise<DestinationRecord[]> {
    return listDestinationsSync(this.outcomes, siteId)
  }

  removeDestination(id: string): Promise<boolean> {
    return this.destinationWrite({ kind: 'remove', id })
  }

  claimConversions(now: number, claimUntil: number, limit: number): Promise<ConversionOutboxRow[]> {
    return this.destinationWrite({ kind: 'claim', now, until: claimUntil, limit })
  }

  settleConversions(outcomes: ReadonlyArray<{ key: string; outcome: ConversionOutcome }>): Promise<void> {
    if (outcomes.length === 0) return Promise.resolve()
    return this.destinationWrite({ kind: 'settle', outcomes: [...outcomes] })
  }

  updateDestinationStatus(id: string, patch: DestinationStatusPatch): Promise<void> {
    return this.destinationWrite({ kind: 'status', id, patch })
  }

  feedConversions(destinationId: string, since: number, now: number): Promise<ConversionOutboxRow[]> {
    return this.destinationWrite({ kind: 'feed', destinationId, since, now })
  }

  async conversionCounts(siteId?: string): Promise<ConversionCount[]> {
    return conversionCountsSync(this.outcomes, siteId)
  }
}
