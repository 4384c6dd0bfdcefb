// The scale-out store: PostgreSQL through a `pg` pool, for any number of stateless collector
// processes. Writes group-commit like the SQLite store (one transaction per flush, each request
// in its own savepoint, answered after COMMIT); reads use the pool directly.

import type { DestinationRegistry, StageReached } from '../../integrations/destinations/plan.js'
import {
  addDestinationPg, claimConversionsPg, conversionCountsPg, feedConversionsPg, getDestinationPg, listDestinationsPg, queueConversionsPg,
  removeDestinationPg, settleConversionsPg, stagesOfLeadPg, updateDestinationStatusPg,
} from './destinations.js'
import type { ConversionCount, ConversionOutboxRow, ConversionOutcome, DestinationRecord, DestinationStatusPatch, NewDestination } from '../types.js'
import pg from 'pg'
import { nanoid } from 'nanoid'
import { clError } from '../../errors.js'
import { GroupCommit, type Job } from '../group-commit.js'
import { advisoryKeys, batchRetryDelayMs, isRetryable, MAX_BATCH_ATTEMPTS, RetryBatch } from './contention.js'
import { POSTGRES_MIGRATIONS, type Migration } from './migrations.js'
import { MATCH_KEY_COLUMNS, MATCH_KEYS_UPGRADE } from '../sqlite/migrations.js'
import { identifyPg } from './identify.js'
import { assignAccountPg, getAccountPg } from './accounts.js'
import {
  addCrmConnectionPg, dueCrmInboxPg, enqueueCrmInboxPg, getCrmConnectionPg, listCrmConnectionsPg, pendingCrmInboxPg, pruneCrmInboxPg, removeCrmConnectionPg,
  settleCrmInboxPg, updateCrmStatusPg, enqueueCrmOutboxPg, dueCrmOutboxPg, settleCrmOutboxPg, crmOutboxCountsPg, pruneCrmOutboxPg,
} from './crm.js'
import { getDealsPg, linkPendingDealsPg, upsertDealsPg } from './deals.js'
import { loadReportDataPg } from './report-data.js'
import { listRatesPg, upsertRatesPg, upsertSpendPg } from './spend.js'
import type { FxRate } from '../../outcomes/currency.js'
import type { Deal, DealWrite, DealWriteResult, ReportData, ReportLoadOptions, ReportTableData, SpendWrite } from '../../outcomes/types.js'
import { loadReportTablePg } from './report.js'
import { ingestPg } from './ingest.js'
import { anySuppressedPg, erasePg, exportPg, journeyPg } from './privacy.js'
import { DELETE_OLD_EVENTS, DELETE_OLD_REJECTED, DELETE_OLD_TOUCHES, numbered } from '../retention-sql.js'
import {
  boundPayload, COUNT_DROPPED_SQL, QUALITY_DROPPED_SQL, utcDayStart, conflictFromRow, leadFromRow, QUALITY_MAX_TS, QUALITY_MIN_TS, QUALITY_REJECTED_SQL, QUALITY_TOUCHES_SQL, qualityFromRows, rejectedFromRow,
  siteFromRow, type Row,
} from '../rows.js'
import type {
  AccountView, CrmConnectionRecord, CrmInboxEntry, CrmInboxOutcome, CrmOutboxCounts, CrmOutboxEntry, CrmOutboxOutcome, CrmOutboxWrite, CrmStatusPatch, NewCrmConnection, DroppedCount, Erased, IdentityKey, IdentifyInput, IdentifyOutcome, IngestEvent, IngestResult, Lead, LeadConflict, LeadJourney, NewSite, PersonExport, PersonSelector, QualityStats, RejectedEvent,
  Site, Store, StoreStats,
} from '../types.js'

export interface PostgresStoreOptions {
  connectionString: string
  /** Schema to work in (search_path); default the server's (`public`). Tests use a fresh one. */
  schema?: string
  /** Pool size; one connection serves the group-commit writer, the rest reads. */
  max?: number
  maxPendingEvents?: number
  /** Wait this long (ms) for more requests before committing a batch (see GroupCommitOptions.lingerMs). */
  lingerMs?: number
  migrations?: readonly Migration[]
  /** Destination adapters that decide which conversion rows a stage change queues (default: this build's). */
  destinations?: DestinationRegistry
}

export const POSTGRES_DEFAULTS = { max: 10, maxPendingEvents: 5_000, lingerMs: 0 } as const
// Serialises migrations and keyed data upgrades across processes starting at once (any constant, shared by all).
const MIGRATION_LOCK = 0x636c6f73

/** A write queued for the next group-commit transaction. */
type PgTask = (c: pg.PoolClient) => Promise<unknown>

const UNIQUE_VIOLATION = '23505'

export class PostgresStore implements Store {
  readonly pool: pg.Pool
  private readonly writer: GroupCommit<PgTask>
  private readonly migrations: readonly Migration[]
  private readonly destinations: DestinationRegistry | undefined
  private closed = false
  private readonly ingests = new WeakMap<object, readonly IngestEvent[]>()
  /** Advisory lock names of a job (identify: its identity keys; deals: their IDs), taken in one sorted sweep at the start of its transaction. */
  private readonly rowLocks = new WeakMap<object, string[]>()
  /** Transactions run again whole after a deadlock or serialization failure. */
  private batchRetries = 0

  constructor(options: PostgresStoreOptions) {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
      throw clError('INTERNAL', 'PostgreSQL schema name must be a plain lower-case identifier')
    }
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? POSTGRES_DEFAULTS.max,
      options: options.schema ? `-c search_path=${options.schema}` : undefined,
    })
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined)
    this.migrations = options.migrations ?? POSTGRES_MIGRATIONS
    this.destinations = options.destinations
    this.writer = new GroupCommit<PgTask>((jobs) => this.runBatch(jobs), {
      maxPendingWeight: options.maxPendingEvents ?? POSTGRES_DEFAULTS.maxPendingEvents,
      lingerMs: options.lingerMs ?? POSTGRES_DEFAULTS.lingerMs,
    })
  }

  async migrate(): Promise<void> {
    const c = await this.pool.connect()
    try {
      for (const m of [...this.migrations].sort((a, b) => a.version - b.version)) {
        await c.query('BEGIN')
        try {
          // Under the lock even the bookkeeping table's creation: concurrent CREATE TABLE IF NOT
          // EXISTS can still collide in PostgreSQL's catalog.
          await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
          await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)')
          const done = await c.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version])
          if (done.rows.length === 0) {
            await c.query(m.sql)
            await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()])
          }
          await c.query('COMMIT')
        } catch (err) {
          await c.query('ROLLBACK')
          throw err
        }
      }
    } finally {
      c.release()
    }
  }

  async rekeyMatchHashes(rekey: (hash: string) => string): Promise<number> {
    await this.writer.drain()
    const c = await this.pool.connect()
    try {
      await c.query('BEGIN')
      try {
        // Collectors starting at once: the first rewrites, the others wait here, then see its marker.
        await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
        const done = await c.query('SELECT 1 FROM data_upgrades WHERE name = $1', [MATCH_KEYS_UPGRADE])
        let n = 0
        if (done.rows.length === 0) {
          // Every distinct key once, mapped in pages (the key is the caller's, so the new values are
          // computed here), then each column rewritten set-based from the map.
          await c.query('CREATE TEMP TABLE match_rekey (old TEXT PRIMARY KEY, new TEXT) ON COMMIT DROP')
          await c.query(`INSERT INTO match_rekey (old) ${MATCH_KEY_COLUMNS.map(([t, col]) => `SELECT ${col} FROM ${t} WHERE ${col} IS NOT NULL`).join(' UNION ')}`)
          for (let after = ''; ;) {
            const page = await c.query<{ old: string }>('SELECT old FROM match_rekey WHERE old > $1 ORDER BY old LIMIT 10000', [after])
            if (page.rows.length === 0) break
            const olds = page.rows.map((r) => r.old)
            await c.query('UPDATE match_rekey m SET new = x.new FROM unnest($1::text[], $2::text[]) AS x(old, new) WHERE m.old = x.old', [olds, olds.map(rekey)])
            after = olds[olds.length - 1]
          }
          for (const [t, col] of MATCH_KEY_COLUMNS) {
            n += (await c.query(`UPDATE ${t} SET ${col} = m.new FROM match_rekey m WHERE ${t}.${col} = m.old`)).rowCount ?? 0
          }
          await c.query('INSERT INTO data_upgrades (name, rows, applied_at) VALUES ($1, $2, $3)', [MATCH_KEYS_UPGRADE, n, Date.now()])
        }
        await c.query('COMMIT')
        return n
      } catch (err) {
        await c.query('ROLLBACK')
        throw err
      }
    } finally {
      c.release()
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writer.drain()
    await this.pool.end()
  }

  /**
   * The server's snapshot (xmin:xmax:in-progress ids): it changes when any transaction that wrote
   * commits, in this process or another, so a report reuses a load only when nothing was committed
   * since it began. Nothing to write per transaction, one short query per report.
   */
  async dataVersion(): Promise<string> {
    const r = await this.pool.query<{ v: string }>('SELECT pg_current_snapshot()::text AS v')
    return r.rows[0].v
  }

  stats(): StoreStats {
    const { flushes, jobs, maxBatch, commitSizes } = this.writer.stats
    return { flushes, jobs, maxBatch, commitSizes: [...commitSizes], batchRetries: this.batchRetries }
  }

  /**
   * One transaction per flush. Each request runs in its own savepoint, except that a run of
   * consecutive ingests is written as ONE set of statements: per-request savepoints and
   * statements would cost ~8 round trips each, which at 64 requests per flush is most of the
   * flush. If the merged write fails, the run is replayed request by request so only the
   * offending request fails. A flush of one request, or of ingests only, needs no savepoint at
   * all. A transaction PostgreSQL picks as a deadlock victim is run again whole (contention.ts).
   */
  private async runBatch(jobs: Array<Job<PgTask>>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attemptBatch(jobs)
      } catch (err) {
        if (!(err instanceof RetryBatch)) throw err
        if (attempt >= MAX_BATCH_ATTEMPTS) throw err.reason
        this.batchRetries++
        await new Promise((r) => setTimeout(r, batchRetryDelayMs(attempt)))
      }
    }
  }

  /** One attempt at the batch's transaction; RetryBatch when PostgreSQL picked it as a victim. */
  private async attemptBatch(jobs: Array<Job<PgTask>>): Promise<void> {
    for (const job of jobs) {
      job.failed = false
      job.error = undefined
      job.result = undefined
    }
    const c = await this.pool.connect()
    let broken = false
    try {
      await c.query('BEGIN')
      // A lone request needs no savepoint (two round trips fewer): if it fails, so does the transaction.
      if (jobs.length === 1) return await this.runAlone(c, jobs[0])
      // Every identity key the batch's identify calls look up, locked before any row (see contention.ts).
      const keys = advisoryKeys(jobs.flatMap((job) => this.rowLocks.get(job.run) ?? []))
      if (keys.length > 0) await c.query('SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k', [keys])
      // A batch of ingests only (the common case): one set of statements and no savepoint. If it
      // fails, the transaction is begun again and the requests replayed one by one.
      const onlyIngests = jobs.every((job) => this.ingests.has(job.run))
      if (onlyIngests && (await this.runMergedIngest(c, jobs, false))) {
        await c.query('COMMIT')
        return
      }
      let i = 0
      while (i < jobs.length) {
        let j = i
        while (j < jobs.length && this.ingests.has(jobs[j].run)) j++
        if (!onlyIngests && j - i > 1 && (await this.runMergedIngest(c, jobs.slice(i, j), true))) {
          i = j
          continue
        }
        for (const job of jobs.slice(i, Math.max(j, i + 1))) await this.runOne(c, job)
        i = Math.max(j, i + 1)
      }
      await c.query('COMMIT')
    } catch (err) {
      await c.query('ROLLBACK').catch(() => { broken = true })
      throw err instanceof RetryBatch || !isRetryable(err) ? err : new RetryBatch(err)
    } finally {
      c.release(broken)
    }
  }

  /** The transaction of a batch of one: committed when the job succeeds, rolled back when it fails. */
  private async runAlone(c: pg.PoolClient, job: Job<PgTask>): Promise<void> {
    const keys = advisoryKeys(this.rowLocks.get(job.run) ?? [])
    if (keys.length > 0) await c.query('SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k', [keys])
    try {
      job.result = await job.run(c)
    } catch (err) {
      if (isRetryable(err)) throw err
      job.failed = true
      job.error = err
      await c.query('ROLLBACK')
      return
    }
    await c.query('COMMIT')
  }

  private async runOne(c: pg.PoolClient, job: Job<PgTask>): Promise<void> {
    await c.query('SAVEPOINT job')
    try {
      job.result = await job.run(c)
      await c.query('RELEASE SAVEPOINT job')
    } catch (err) {
      // The locks taken before this savepoint stay held: only a whole new attempt breaks the cycle.
      if (isRetryable(err)) throw new RetryBatch(err)
      job.failed = true
      job.error = err
      await c.query('ROLLBACK TO SAVEPOINT job')
      await c.query('RELEASE SAVEPOINT job')
    }
  }

  /** False when the merged write failed (and was rolled back): the caller replays one by one. */
  private async runMergedIngest(c: pg.PoolClient, run: Array<Job<PgTask>>, savepoint: boolean): Promise<boolean> {
    const batches = run.map((job) => this.ingests.get(job.run) ?? [])
    if (savepoint) await c.query('SAVEPOINT merged')
    let merged: IngestResult
    try {
      merged = await ingestPg(c, batches.flat())
      if (savepoint) await c.query('RELEASE SAVEPOINT merged')
    } catch (err) {
      if (isRetryable(err)) throw new RetryBatch(err)
      if (savepoint) {
        await c.query('ROLLBACK TO SAVEPOINT merged')
        await c.query('RELEASE SAVEPOINT merged')
      } else {
        await c.query('ROLLBACK')
        await c.query('BEGIN')
      }
      return false
    }
    let offset = 0
    run.forEach((job, k) => {
      const outcome = merged.outcome.slice(offset, offset + batches[k].length)
      offset += batches[k].length
      const accepted = outcome.filter((o) => o === 'accepted').length
      const suppressed = outcome.filter((o) => o === 'suppressed').length
      job.result = { accepted, duplicates: outcome.length - accepted - suppressed, suppressed, outcome } satisfies IngestResult
    })
    return true
  }

  /**
   * Run `run` inside the next group-commit transaction (its own savepoint); resolves after COMMIT.
   * For store extensions living in their own module (e.g. deals).
   */
  write<T>(run: (c: pg.PoolClient) => Promise<T>, weight = 1): Promise<T> {
    if (this.closed) return Promise.reject(clError('INTERNAL', 'Store is closed'))
    return this.writer.submit<T>(run, weight)
  }

  private async one(sql: string, values: unknown[]): Promise<Row | null> {
    const r = await this.pool.query<Row>(sql, values)
    return r.rows[0] ?? null
  }

  async createSite(input: NewSite): Promise<Site> {
    const id = nanoid()
    const now = Date.now()
    return this.write(async (c) => {
      try {
        const r = await c.query<Row>(
          `INSERT INTO sites (id, name, public_key, origins, cookie_domain, currency, settings, created_at)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::jsonb, $8) RETURNING *`,
          [id, input.name, input.publicKey, JSON.stringify(input.origins), input.cookieDomain ?? null, input.currency ?? 'USD', JSON.stringify(input.settings ?? {}), now],
        )
        await c.query('INSERT INTO site_keys (key_id, site_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)', [input.secretKeyId, id, input.secretKeyHash, now])
        return siteFromRow(r.rows[0])
      } catch (err) {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw clError('VALIDATION', `A site named "${input.name}" or with these keys already exists`)
        throw err
      }
    })
  }

  async getSite(id: string): Promise<Site | null> {
    const row = await this.one('SELECT * FROM sites WHERE id = $1', [id])
    return row ? siteFromRow(row) : null
  }

  async getSiteByName(name: string): Promise<Site | null> {
    const row = await this.one('SELECT * FROM sites WHERE name = $1', [name])
    return row ? siteFromRow(row) : null
  }

  async getSiteByPublicKey(publicKey: string): Promise<Site | null> {
    const row = await this.one('SELECT * FROM sites WHERE public_key = $1', [publicKey])
    return row ? siteFromRow(row) : null
  }

  async getSiteBySecretKeyId(keyId: string): Promise<{ site: Site; secretKeyHash: string } | null> {
    const row = await this.one('SELECT s.*, k.secret_hash FROM site_keys k JOIN sites s ON s.id = k.site_id WHERE k.key_id = $1', [keyId])
    return row ? { site: siteFromRow(row), secretKeyHash: String(row.secret_hash) } : null
  }

  async listSites(): Promise<Site[]> {
    const r = await this.pool.query<Row>('SELECT * FROM sites ORDER BY created_at, name')
    return r.rows.map(siteFromRow)
  }

  async updateSite(id: string, patch: Partial<Pick<Site, 'origins' | 'cookieDomain' | 'currency' | 'settings' | 'name'>>): Promise<Site> {
    return this.write(async (c) => {
      const cur = await c.query<Row>('SELECT * FROM sites WHERE id = $1 FOR UPDATE', [id])
      if (cur.rows.length === 0) throw clError('NOT_FOUND', 'Unknown site')
      const next = { ...siteFromRow(cur.rows[0]), ...patch }
      const r = await c.query<Row>(
        'UPDATE sites SET name = $2, origins = $3::jsonb, cookie_domain = $4, currency = $5, settings = $6::jsonb WHERE id = $1 RETURNING *',
        [id, next.name, JSON.stringify(next.origins), next.cookieDomain, next.currency, JSON.stringify(next.settings)],
      )
      return siteFromRow(r.rows[0])
    })
  }

  ingest(events: IngestEvent[]): Promise<IngestResult> {
    if (events.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0, suppressed: 0, outcome: [] })
    const run = (c: pg.PoolClient): Promise<IngestResult> => ingestPg(c, events)
    // Marks the job as mergeable with neighbouring ingests (see runBatch).
    this.ingests.set(run, events)
    return this.write(run, events.length)
  }

  recordRejected(rows: RejectedEvent[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve()
    return this.write(async (c) => {
      await c.query(
        `INSERT INTO rejected_events (site_id, received_at, code, payload)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])`,
        [rows.map((r) => r.siteId), rows.map((r) => r.receivedAt), rows.map((r) => r.code), rows.map((r) => boundPayload(r.payload))],
      )
    }, rows.length)
  }

  countDropped(rows: DroppedCount[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve()
    return this.write(async (c) => {
      for (const r of rows) await c.query(COUNT_DROPPED_SQL((i) => `$${i}`), [r.siteId, utcDayStart(r.receivedAt), r.reason, r.count])
    }, rows.length)
  }

  async qualityStats(siteId: string, from: number | null, to: number | null): Promise<QualityStats> {
    const range = [siteId, from ?? QUALITY_MIN_TS, to ?? QUALITY_MAX_TS]
    const [touches, rejected, dropped] = await Promise.all([
      this.pool.query<Row>(QUALITY_TOUCHES_SQL((i) => `$${i}`), range),
      this.pool.query<Row>(QUALITY_REJECTED_SQL((i) => `$${i}`), range),
      this.pool.query<Row>(QUALITY_DROPPED_SQL((i) => `$${i}`), range),
    ])
    return qualityFromRows(touches.rows, rejected.rows, dropped.rows)
  }

  async listConflicts(siteId: string, limit = 100): Promise<LeadConflict[]> {
    const r = await this.pool.query<Row>(
      'SELECT kept_lead_id, other_lead_id, kind, created_at FROM lead_conflicts WHERE site_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2',
      [siteId, limit],
    )
    return r.rows.map(conflictFromRow)
  }

  async listRejected(siteId: string, limit = 100): Promise<RejectedEvent[]> {
    const r = await this.pool.query<Row>(
      'SELECT * FROM rejected_events WHERE site_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2',
      [siteId, limit],
    )
    return r.rows.map(rejectedFromRow)
  }

  identify(input: IdentifyInput): Promise<IdentifyOutcome> {
    const run = async (c: pg.PoolClient): Promise<IdentifyOutcome> => {
      if (input.suppression && (await anySuppressedPg(c, input.siteId, input.suppression))) throw clError('SUPPRESSED')
      const now = Date.now()
      const outcome = await identifyPg(c, input, now)
      // A browser's identify of an existing lead links its visitor and nothing else (linkOnly).
      let linked = 0
      if (!input.linkOnly || outcome.created) {
        await assignAccountPg(c, input.siteId, outcome.leadId, input, now)
        // Deals that arrived before their person are linked in the same transaction.
        linked = await linkPendingDealsPg(c, input.siteId, outcome.leadId, input.keys, now)
      }
      // Conversions in the same transaction: the lead itself (a new lead reaches `lead`), and the stages of deals it was waiting for.
      const reached: StageReached[] = outcome.created ? [{ leadId: outcome.leadId, stage: 'lead', ts: input.ts, amount: null }] : []
      if (linked > 0) reached.push(...await stagesOfLeadPg(c, input.siteId, outcome.leadId))
      await queueConversionsPg(c, this.destinations, input.siteId, reached, now)
      return outcome
    }
    this.rowLocks.set(run, input.keys.map((k) => `identity\u0000${input.siteId}\u0000${k.kind}\u0000${k.hash}`))
    return this.write(run)
  }

  getLead(siteId: string, leadId: string): Promise<LeadJourney | null> {
    return journeyPg(this.pool, siteId, leadId)
  }

  async findLeadByKey(siteId: string, key: IdentityKey): Promise<string | null> {
    const r = await this.pool.query<Row>('SELECT lead_id FROM lead_identities WHERE site_id = $1 AND kind = $2 AND hash = $3', [siteId, key.kind, key.hash])
    return r.rows[0] ? String(r.rows[0].lead_id) : null
  }

  async findLeadByVisitor(siteId: string, visitorId: string): Promise<string | null> {
    const r = await this.pool.query<Row>('SELECT lead_id FROM lead_visitors WHERE site_id = $1 AND visitor_id = $2 ORDER BY linked_at DESC, lead_id DESC LIMIT 1', [siteId, visitorId])
    return r.rows[0] ? String(r.rows[0].lead_id) : null
  }

  async recentLeads(siteId: string, limit: number): Promise<Lead[]> {
    const r = await this.pool.query<Row>('SELECT * FROM leads WHERE site_id = $1 ORDER BY identified_at DESC, id DESC LIMIT $2', [siteId, limit])
    return r.rows.map(leadFromRow)
  }

  getAccount(siteId: string, accountId: string): Promise<AccountView | null> {
    return getAccountPg(this.pool, siteId, accountId)
  }

  async isSuppressed(siteId: string, hashes: string[]): Promise<boolean> {
    return anySuppressedPg(this.pool, siteId, hashes)
  }

  applyRetention(siteId: string, before: number): Promise<{ events: number; touches: number }> {
    return this.write(async (c) => ({
      touches: (await c.query(numbered(DELETE_OLD_TOUCHES), [siteId, before])).rowCount ?? 0,
      events: (await c.query(numbered(DELETE_OLD_EVENTS), [siteId, before])).rowCount ?? 0,
    }))
  }

  pruneRejected(before: number): Promise<number> {
    return this.write(async (c) => (await c.query(numbered(DELETE_OLD_REJECTED), [before])).rowCount ?? 0)
  }

  erase(siteId: string, who: PersonSelector, suppressionHashes: string[]): Promise<Erased> {
    return this.write((c) => erasePg(c, siteId, who, suppressionHashes, Date.now()))
  }

  exportPerson(siteId: string, who: PersonSelector): Promise<PersonExport> {
    return exportPg(this.pool, siteId, who)
  }

  upsertDeals(siteId: string, deals: DealWrite[]): Promise<DealWriteResult[]> {
    if (deals.length === 0) return Promise.resolve([])
    const run = async (c: pg.PoolClient): Promise<DealWriteResult[]> => {
      const now = Date.now()
      const results = await upsertDealsPg(c, siteId, deals, now)
      // A new stage of a known lead queues its conversions in this same transaction.
      const reached: StageReached[] = []
      for (let i = 0; i < results.length; i++) {
        const r = results[i]
        if (!r.changed || r.leadId === null || r.unknownLead || r.accountConflict) continue
        const d = deals[i]
        const amount = d.amount ?? (await c.query<Row>('SELECT amount FROM deals WHERE site_id = $1 AND id = $2', [siteId, d.dealId])).rows[0]?.amount
        reached.push({ leadId: r.leadId, stage: d.stage, ts: d.ts, amount: amount == null ? null : Number(amount) })
      }
      await queueConversionsPg(c, this.destinations, siteId, reached, now)
      return results
    }
    // A deal new to the store, written through two processes at once, would otherwise be inserted
    // twice (a unique violation for one of them): its ID is locked before its first read.
    this.rowLocks.set(run, deals.map((d) => `deal\u0000${siteId}\u0000${d.dealId}`))
    return this.write(run, deals.length)
  }

  linkPendingDeals(siteId: string, leadId: string, keys: IdentityKey[]): Promise<number> {
    return this.write(async (c) => {
      const now = Date.now()
      const linked = await linkPendingDealsPg(c, siteId, leadId, keys, now)
      if (linked > 0) await queueConversionsPg(c, this.destinations, siteId, await stagesOfLeadPg(c, siteId, leadId), now)
      return linked
    })
  }

  getDeals(siteId: string, leadId: string): Promise<Deal[]> {
    return getDealsPg(this.pool, siteId, leadId)
  }

  upsertSpend(siteId: string, rows: SpendWrite[]): Promise<{ inserted: number; updated: number }> {
    return this.write((c) => upsertSpendPg(c, siteId, rows, Date.now()), rows.length)
  }

  upsertRates(siteId: string, rates: FxRate[]): Promise<number> {
    return this.write((c) => upsertRatesPg(c, siteId, rates, Date.now()), rates.length)
  }

  listRates(siteId: string): Promise<FxRate[]> {
    return listRatesPg(this.pool, siteId)
  }

  loadReportData(siteId: string, opts: ReportLoadOptions): Promise<ReportData> {
    return loadReportDataPg(this.pool, siteId, opts)
  }

  /** Nothing is kept between PostgreSQL report loads (other collectors write to the same database). */
  async warmReports(): Promise<number> {
    return 0
  }

  loadReportTable(siteId: string, opts: ReportLoadOptions): Promise<ReportTableData> {
    return loadReportTablePg(this.pool, siteId, opts)
  }

  addCrmConnection(input: NewCrmConnection): Promise<CrmConnectionRecord> {
    return this.write((c) => addCrmConnectionPg(c, input))
  }

  getCrmConnection(id: string): Promise<CrmConnectionRecord | null> {
    return getCrmConnectionPg(this.pool, id)
  }

  listCrmConnections(): Promise<CrmConnectionRecord[]> {
    return listCrmConnectionsPg(this.pool)
  }

  removeCrmConnection(id: string): Promise<boolean> {
    return this.write((c) => removeCrmConnectionPg(c, id))
  }

  updateCrmStatus(id: string, patch: CrmStatusPatch): Promise<void> {
    return this.write((c) => updateCrmStatusPg(c, id, patch))
  }

  enqueueCrmInbox(connectionId: string, items: ReadonlyArray<{ key: string; item: string }>, receivedAt: number): Promise<{ stored: number; duplicates: number }> {
    return this.write((c) => enqueueCrmInboxPg(c, connectionId, items, receivedAt), Math.max(1, items.length))
  }

  dueCrmInbox(now: number, limit: number): Promise<CrmInboxEntry[]> {
    return dueCrmInboxPg(this.pool, now, limit)
  }

  pendingCrmInbox(): Promise<number> {
    return pendingCrmInboxPg(this.pool)
  }

  settleCrmInbox(id: string, outcome: CrmInboxOutcome): Promise<void> {
    return this.write((c) => settleCrmInboxPg(c, id, outcome))
  }

  pruneCrmInbox(before: number): Promise<number> {
    return this.write((c) => pruneCrmInboxPg(c, before))
  }

  enqueueCrmOutbox(rows: readonly CrmOutboxWrite[], now: number): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0)
    return this.write((c) => enqueueCrmOutboxPg(c, rows, now), rows.length)
  }

  dueCrmOutbox(now: number, limit: number, leaseMs: number): Promise<CrmOutboxEntry[]> {
    // On the pool, not the group-commit client: its own statement, committed at once.
    return dueCrmOutboxPg(this.pool, now, limit, leaseMs)
  }

  settleCrmOutbox(id: string, version: number, outcome: CrmOutboxOutcome): Promise<boolean> {
    return this.write((c) => settleCrmOutboxPg(c, id, version, outcome))
  }

  crmOutboxCounts(): Promise<CrmOutboxCounts[]> {
    return crmOutboxCountsPg(this.pool)
  }

  pruneCrmOutbox(before: number): Promise<number> {
    return this.write((c) => pruneCrmOutboxPg(c, before))
  }

  addDestination(input: NewDestination): Promise<DestinationRecord> {
    return this.write((c) => addDestinationPg(c, input))
  }

  getDestination(id: string): Promise<DestinationRecord | null> {
    return getDestinationPg(this.pool, id)
  }

  listDestinations(siteId?: string): Promise<DestinationRecord[]> {
    return listDestinationsPg(this.pool, siteId)
  }

  removeDestination(id: string): Promise<boolean> {
    return this.write((c) => removeDestinationPg(c, id))
  }

  claimConversions(now: number, claimUntil: number, limit: number): Promise<ConversionOutboxRow[]> {
    return this.write((c) => claimConversionsPg(c, now, claimUntil, limit))
  }

  settleConversions(outcomes: ReadonlyArray<{ key: string; outcome: ConversionOutcome }>): Promise<void> {
    if (outcomes.length === 0) return Promise.resolve()
    return this.write((c) => settleConversionsPg(c, outcomes), outcomes.length)
  }

  updateDestinationStatus(id: string, patch: DestinationStatusPatch): Promise<void> {
    return this.write((c) => updateDestinationStatusPg(c, id, patch))
  }

  feedConversions(destinationId: string, since: number, now: number): Promise<ConversionOutboxRow[]> {
    return this.write((c) => feedConversionsPg(c, destinationId, since, now))
  }

  conversionCounts(siteId?: string): Promise<ConversionCount[]> {
    return conversionCountsPg(this.pool, siteId)
  }
}
