// The one writing connection of a SQLite store: group commit (one transaction for many requests,
// each in its own savepoint), the WAL fsync that makes a batch durable, and the bookkeeping that
// tells the report cache what changed. Writes come as data (writes.ts), so this class could run on
// another thread with its own connection; it runs on the store's thread, because a writer thread
// measured no faster on two cores and cost memory (bench/RESULTS.md).
//
// Other writers: a CLI command or another process may commit to the same file. This connection's
// PRAGMA data_version moves only for those, and every transaction that stores or deletes touches
// also moves a touch generation (PRAGMA user_version, unused otherwise). `others()` compares both
// with what this writer last saw: nothing, only leads/deals/spend (`outcomes`), or touches (`all`).
// The generation a batch committed is reported with its delta, so a cache that scanned the file
// meanwhile can tell whether the scan already saw that batch's touches.

import { fdatasync, openSync, closeSync } from 'node:fs'
import { GroupCommit, type GroupCommitStats, type Job } from '../group-commit.js'
import { prepareOutcomeStatements, type OutcomeStatements } from './outcome-statements.js'
import { prepareStatements, type Db, type Statements, type Stmt } from './statements.js'
import type { DestinationRegistry } from '../../integrations/destinations/plan.js'
import { emptyDelta, runWrite, type CacheDelta, type WriteOp } from './writes.js'

export type OtherWrites = 'none' | 'outcomes' | 'all'

/** What one durable batch changed, for the report cache. */
export interface BatchDelta extends CacheDelta {
  /** The touch generation this batch committed (set when it stored or deleted touches). */
  gen: number | null
  /** Another writer had stored touches since this writer's previous commit. */
  othersWroteTouches: boolean
}

export interface WriterStats extends GroupCommitStats {
  fsyncs: number
}

export interface SqliteWriterOptions {
  /** The WAL file to fdatasync after each commit; null when commits need not survive power loss. */
  walFile: string | null
  maxPendingEvents: number
  /** Called with each batch's changes once it is durable, before its requests are answered. */
  onDurable: (delta: BatchDelta) => void
  /** Destination adapters that decide which conversion rows a stage change queues (default: this build's). */
  destinations?: DestinationRegistry
}

/** The settings of the store's connection (it reads and writes). */
export function configureConnection(db: Db): void {
  db.pragma('journal_mode = WAL')
  // The store fsyncs the WAL itself after each group commit (see store.ts).
  db.pragma('synchronous = NORMAL')
  // A CLI command (e.g. `closeloop sites add`) may write while `serve` holds the file.
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  // Deleted rows are overwritten, not left in free pages: an erased person's bytes do not stay
  // in the file (erase also truncates the WAL, see store.ts).
  db.pragma('secure_delete = ON')
  // A big import commits ~100 MB of WAL at once; without a limit the file keeps that size
  // after the checkpoint.
  db.pragma('journal_size_limit = 67108864')
}

export class SqliteWriter {
  readonly s: Statements
  readonly outcomes: OutcomeStatements
  private readonly commit: GroupCommit<WriteOp, BatchDelta>
  private readonly dataVersion: Stmt
  private readonly userVersion: Stmt
  private walFd: number | null = null
  private fsyncs = 0
  /** data_version and touch generation as of this writer's last commit or check. */
  private version: unknown
  private touchGen: number
  /** A commit of ours found another writer's touches: the next `others()` says so even before that batch is durable. */
  private othersTouchesSeen = false

  constructor(private readonly db: Db, private readonly options: SqliteWriterOptions) {
    this.s = prepareStatements(db)
    this.outcomes = prepareOutcomeStatements(db)
    this.dataVersion = db.prepare('PRAGMA data_version').pluck()
    this.userVersion = db.prepare('PRAGMA user_version').pluck()
    this.version = this.dataVersion.get()
    this.touchGen = Number(this.userVersion.get())
    this.commit = new GroupCommit<WriteOp, BatchDelta>((jobs) => this.runBatch(jobs), {
      maxPendingWeight: options.maxPendingEvents,
      sync: options.walFile === null ? undefined : () => this.syncWal(),
      beforeSettle: options.onDurable,
    })
  }

  submit(op: WriteOp, weight = 1): Promise<unknown> {
    return this.commit.submit(op, weight)
  }

  /** What other writers committed since this writer last looked. */
  others(): OtherWrites {
    const seen = this.othersTouchesSeen
    this.othersTouchesSeen = false
    const version = this.dataVersion.get()
    if (version === this.version) return seen ? 'all' : 'none'
    this.version = version
    const gen = Number(this.userVersion.get())
    if (gen === this.touchGen) return seen ? 'all' : 'outcomes'
    this.touchGen = gen
    return 'all'
  }

  stats(): WriterStats {
    const { flushes, jobs, maxBatch, lastBatch, commitSizes } = this.commit.stats
    return { flushes, jobs, maxBatch, lastBatch, commitSizes: [...commitSizes], fsyncs: this.fsyncs }
  }

  /** Resolves when every write submitted so far has committed (or failed). */
  drain(): Promise<void> {
    return this.commit.drain()
  }

  async close(): Promise<void> {
    await this.commit.drain()
    if (this.walFd !== null) closeSync(this.walFd)
    this.walFd = null
  }

  /** One transaction for the whole group; each job in a savepoint so one failure stays its own. */
  private async runBatch(jobs: Array<Job<WriteOp>>): Promise<BatchDelta> {
    const { s } = this
    const batch: BatchDelta = { ...emptyDelta(), gen: null, othersWroteTouches: false }
    s.tx.begin.run()
    try {
      const ctx = { s, outcomes: this.outcomes, delta: batch, destinations: this.options.destinations }
      for (const job of jobs) {
        s.tx.savepoint.run()
        // A job adds its changes to the batch's; a job rolled back to its savepoint takes them back.
        const mark = [batch.touches.length, batch.leads.length, batch.deals.length, batch.erased.length]
        try {
          job.result = runWrite(ctx, job.run)
          s.tx.release.run()
        } catch (err) {
          job.failed = true
          job.error = err
          s.tx.rollbackTo.run()
          s.tx.release.run()
          ;[batch.touches.length, batch.leads.length, batch.deals.length, batch.erased.length] = mark
        }
      }
      if (batch.touches.length > 0 || batch.erased.length > 0) {
        const gen = Number(this.userVersion.get())
        // Moved since our last commit or check: another writer stored touches meanwhile.
        if (gen !== this.touchGen) batch.othersWroteTouches = true
        batch.gen = (gen + 1) % 2 ** 31
        this.db.pragma(`user_version = ${batch.gen}`)
      }
      s.tx.commit.run()
    } catch (err) {
      if (this.db.inTransaction) s.tx.rollback.run()
      throw err
    }
    if (batch.gen !== null) this.touchGen = batch.gen
    if (batch.othersWroteTouches) this.othersTouchesSeen = true
    return batch
  }

  /** Makes the committed WAL frames durable, off the event loop (only with `walFile`). */
  private syncWal(): Promise<void> {
    const file = this.options.walFile
    if (file === null) return Promise.resolve()
    // Opened once the WAL exists (after the first write); the same inode for the store's life
    // (SQLite truncates it, never replaces it, while a connection is open).
    this.walFd ??= openSync(file, 'r+')
    const fd = this.walFd
    return new Promise((resolve, reject) => fdatasync(fd, (err) => {
      if (err) reject(err)
      else { this.fsyncs++; resolve() }
    }))
  }
}
