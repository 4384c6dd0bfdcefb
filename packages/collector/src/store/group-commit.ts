// Group commit: writes from many concurrent requests share one transaction, and each
// request's promise settles only after that transaction committed, so an acknowledged event is
// durable while the cost of the fsync is shared by everyone who was waiting.
//
// The queue knows nothing about databases: a job's `run` is whatever task the implementation
// queues (a closure, or a write described as data), and the implementation supplies `runBatch`,
// which opens a transaction, runs each job inside its own savepoint (a failing job is rolled back
// alone and its error kept), and commits. Jobs run in submission order. What runBatch resolves
// with is handed to `beforeSettle` once the batch is durable, before any of its jobs settles.
//
// A store whose COMMIT is not durable by itself (SQLite with synchronous=NORMAL) also supplies
// `sync`, which makes every commit so far durable (an fdatasync of the WAL). The next transaction
// runs while a sync is in flight: a sync started after a commit covers it, so the commits made
// meanwhile share one queued sync, and a batch is answered only after a sync that began after its
// COMMIT. A failed sync fails every later one too (`syncError`): after a failed fsync the kernel
// may have dropped the pages, and the commits behind them would be answered on a lie.

export interface Job<T> {
  run: T
  /** Set by runBatch when the job failed and was rolled back to its savepoint alone. */
  failed?: boolean
  error?: unknown
  result?: unknown
  /** Weight toward the early-flush threshold (e.g. number of events). */
  weight: number
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

/** Upper bounds of the commit-size histogram (jobs per transaction); a last bucket is +Inf. */
export const COMMIT_SIZE_BOUNDS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]

export interface GroupCommitStats {
  /** Committed transactions. */
  flushes: number
  /** Jobs (requests) committed. */
  jobs: number
  /** Largest number of jobs one transaction carried. */
  maxBatch: number
  /** Jobs in the most recent transaction. */
  lastBatch: number
  /** Transactions by jobs carried, per COMMIT_SIZE_BOUNDS bucket (not cumulative; last is +Inf). */
  commitSizes: number[]
}

export interface GroupCommitOptions<B = unknown> {
  /** Flush at once, without waiting for the next turn of the event loop, above this weight. */
  maxPendingWeight: number
  /** Makes every commit so far durable; when given, jobs settle only after a sync that began after their commit. */
  sync?: () => Promise<void>
  /**
   * Wait this long (ms) for more requests before flushing a batch below maxPendingWeight (default 0:
   * the next turn of the event loop). Several processes sharing a database each see a fraction of
   * the load: a short linger keeps their batches, and so the cost per commit, like one process's.
   */
  lingerMs?: number
  /** Hears what runBatch resolved with, once the batch is durable and before its jobs settle. */
  beforeSettle?: (batch: B) => void
}

export class GroupCommit<T, B = unknown> {
  private pending: Array<Job<T>> = []
  private pendingWeight = 0
  private scheduled = false
  private inFlight: Promise<void> | null = null
  /** The sync running now, and the one queued behind it for the commits made meanwhile. */
  private syncing: Promise<void> | null = null
  private queuedSync: Promise<void> | null = null
  private syncError: unknown = null
  readonly stats: GroupCommitStats = { flushes: 0, jobs: 0, maxBatch: 0, lastBatch: 0, commitSizes: COMMIT_SIZE_BOUNDS.map(() => 0).concat(0) }

  constructor(
    /** Runs every job in one transaction; resolves after COMMIT, rejects when the commit failed. */
    private readonly runBatch: (jobs: Array<Job<T>>) => Promise<B>,
    private readonly options: GroupCommitOptions<B>,
  ) {}

  submit<R = unknown>(run: T, weight = 1): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ run, weight, resolve: resolve as (v: unknown) => void, reject })
      this.pendingWeight += weight
      if (this.pendingWeight >= this.options.maxPendingWeight) this.kick()
      else if (!this.scheduled) {
        this.scheduled = true
        // setImmediate, not a microtask: requests whose I/O completed in the same event-loop
        // turn get to join this transaction.
        if (this.options.lingerMs) setTimeout(() => this.kick(), this.options.lingerMs)
        else setImmediate(() => this.kick())
      }
    })
  }

  /** Resolves when everything submitted so far has been committed (or failed). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.inFlight || this.syncing || this.queuedSync) {
      if (this.inFlight) await this.inFlight
      else if (this.pending.length > 0) this.kick()
      else await (this.queuedSync ?? this.syncing)?.catch(() => undefined)
    }
  }

  private kick(): void {
    this.scheduled = false
    if (this.inFlight || this.pending.length === 0) return
    const jobs = this.pending
    this.pending = []
    this.pendingWeight = 0
    this.inFlight = this.flush(jobs).finally(() => {
      this.inFlight = null
      if (this.pending.length > 0) this.kick()
    })
  }

  private async flush(jobs: Array<Job<T>>): Promise<void> {
    let batch: B
    try {
      batch = await this.runBatch(jobs)
    } catch (err) {
      for (const job of jobs) job.reject(err)
      return
    }
    this.stats.flushes++
    this.stats.jobs += jobs.length
    this.stats.lastBatch = jobs.length
    if (jobs.length > this.stats.maxBatch) this.stats.maxBatch = jobs.length
    const bucket = COMMIT_SIZE_BOUNDS.findIndex((b) => jobs.length <= b)
    this.stats.commitSizes[bucket < 0 ? COMMIT_SIZE_BOUNDS.length : bucket]++
    const settle = () => {
      this.options.beforeSettle?.(batch)
      for (const job of jobs) {
        if (job.failed) job.reject(job.error)
        else job.resolve(job.result)
      }
    }
    // Not awaited: the next transaction may run while this one's sync is in flight.
    if (this.options.sync) this.durable().then(settle, (err) => { for (const job of jobs) job.reject(err) })
    else settle()
  }

  /** Resolves once a sync that began after now has succeeded. */
  private durable(): Promise<void> {
    if (this.syncError) return Promise.reject(this.syncError)
    if (!this.syncing) return this.startSync()
    // The running sync may have begun before this commit: one more after it, shared.
    this.queuedSync ??= this.syncing.then(
      () => { this.queuedSync = null; return this.startSync() },
      (err) => { this.queuedSync = null; throw err },
    )
    return this.queuedSync
  }

  private startSync(): Promise<void> {
    if (this.syncError) return Promise.reject(this.syncError)
    const run = this.options.sync!().then(
      () => { if (this.syncing === run) this.syncing = null },
      (err) => {
        this.syncError ??= err
        if (this.syncing === run) this.syncing = null
        throw err
      },
    )
    this.syncing = run
    return run
  }
}
