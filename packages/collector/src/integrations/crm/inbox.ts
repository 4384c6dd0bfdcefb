// The CRM side of `serve`, for every connector: the worker that settles the durable webhook inbox
// (read the deal from the CRM, write it through the deals pipeline) and delivers the write-back
// outbox (write-back.ts), pulls of changed deals (every --crm-sync-minutes, and `closeloop crm
// sync`), and the deal write both share. Every step is
// idempotent: a row processed twice, or a deal pulled after its webhook, writes the same deal.

import { nextRetry, DEFAULT_BACKOFF, type BackoffPolicy } from '../backoff.js'
import { PollLoop } from '../poll-loop.js'
import { clError, toClError } from '../../errors.js'
import type { Pii } from '../../identity/pii.js'
import { VISITOR_ID_RE } from '../../ingest/schemas.js'
import { writeDealBatch } from '../../outcomes/deal-batch.js'
import { stageKey } from '../../outcomes/stages.js'
import type { CrmConnectionRecord, CrmInboxEntry, Site, Store } from '../../store/types.js'
import type { IntegrationEnv } from '../types.js'
import { CrmCallError, type CrmDeal, type CrmInboxItem } from './adapter.js'
import { loadConnection, type LoadedConnection } from './connections.js'
import { mapCrmDeal, type CrmDealChange } from './deal-mapping.js'
import { drainOutbox, queueDealWriteBack, type WriteBackOutcome } from './write-back.js'

/** Counters the worker reports to (the collector's /metrics). */
export interface CrmMetrics {
  deal(kind: string): void
  error(kind: string, retried: boolean): void
  writeBack?(kind: string, object: 'contact' | 'deal', outcome: WriteBackOutcome): void
}

export interface CrmContext {
  store: Store
  pii: Pii
  integrationKey: Buffer
  env: IntegrationEnv
  metrics?: CrmMetrics
  log?: (fields: Record<string, unknown>, message: string) => void
}

export type DealOutcome = { written: true; changed: boolean } | { written: false; reason: string; error: boolean }

/**
 * The deal's people as the deals pipeline names them: a contact whose `cl_visitor_id` is a visitor
 * Closeloop linked to a lead is that lead (the form was sent from that browser), else its e-mail.
 */
async function dealPeople(store: Store, siteId: string, people: CrmDealChange['people']): Promise<{ leadIds: string[]; emails: string[] }> {
  const leadIds: string[] = []
  const emails: string[] = []
  for (const p of people) {
    const lead = p.visitorId !== null && VISITOR_ID_RE.test(p.visitorId) ? await store.findLeadByVisitor(siteId, p.visitorId) : null
    if (lead !== null) { if (!leadIds.includes(lead)) leadIds.push(lead) } else if (p.email !== null) emails.push(p.email)
  }
  return { leadIds, emails }
}

/**
 * One CRM deal → the deals pipeline. The CRM's own decision on the stage (its won/lost flag, else
 * the site's mapping) is passed as the site's mapping of the deal's stage name, so the history
 * keeps the CRM's name. A deal with no contact Closeloop can link (by visitor ID or e-mail) is
 * skipped (not an error: the pull picks it up once a contact is on it). With the connection's
 * write-back on, the deal's attribution is queued for the CRM right after the deal is written.
 */
export async function writeCrmDeal(ctx: CrmContext, site: Site, deal: CrmDeal, record: CrmConnectionRecord | null = null): Promise<DealOutcome> {
  const change = mapCrmDeal(deal, site.settings.stageMapping)
  if (change.stage === null) {
    return { written: false, error: true, reason: `Unknown stage "${change.crmStage.slice(0, 100)}" of deal ${deal.id}; map it with closeloop sites update --name SITE --stage "NAME=won|lost|…"` }
  }
  const { leadIds, emails } = await dealPeople(ctx.store, site.id, change.people)
  if (leadIds.length === 0 && emails.length === 0) return { written: false, error: false, reason: `deal ${deal.id} has no contact with a visitor ID or an e-mail` }
  const key = stageKey(change.crmStage)
  const mapping = Object.fromEntries([[change.crmStage, change.stage], ...Object.entries(site.settings.stageMapping ?? {}).filter(([name]) => stageKey(name) !== key)])
  const company = deal.contacts.map((c) => c.company?.trim() ?? '').find((c) => c !== '') ?? null
  const raw = {
    dealId: change.dealId, stage: change.crmStage, amount: change.amount, currency: change.currency, ts: change.ts,
    ...(leadIds.length > 0 ? { leadIds } : {}), ...(emails.length > 0 ? { emails } : {}), ...(company !== null ? { company } : {}),
  }
  const { written, rejected } = await writeDealBatch(ctx.store, { ...site, settings: { ...site.settings, stageMapping: mapping } }, [{ at: 0, raw }], { pii: ctx.pii, now: ctx.env.now() })
  if (rejected.length > 0) {
    const err = rejected[0].error
    return { written: false, error: true, reason: `deal ${deal.id}: ${err.code} ${err.message}` }
  }
  // Not in the deal's transaction: the credit is computed from the stored deal. Nothing is lost
  // when the process dies between the two: the inbox row is settled, and a pull's cursor stored,
  // only after this returns, so the deal is written again (a no-op) and the write-back queued then.
  if (record !== null) await queueDealWriteBack(ctx, site, record, deal, ctx.env.now())
  return { written: true, changed: written[0].result.changed }
}

const describe = (err: unknown): string => (err instanceof CrmCallError ? err.message : `${toClError(err).code}: ${toClError(err).message}`)

/** Settles one inbox row; returns what became of it. */
async function processEntry(ctx: CrmContext, entry: CrmInboxEntry, policy: BackoffPolicy, random: () => number): Promise<'done' | 'retry' | 'failed'> {
  const { store } = ctx
  const now = ctx.env.now()
  const record = await store.getCrmConnection(entry.connectionId)
  if (record === null) {
    await store.settleCrmInbox(entry.id, { status: 'failed', reason: 'connection removed' })
    return 'failed'
  }
  let loaded: LoadedConnection
  let site: Site | null
  try {
    loaded = loadConnection(record, ctx.integrationKey)
    site = await store.getSite(record.siteId)
    if (site === null) throw clError('SITE_NOT_FOUND')
  } catch (err) {
    await fail(ctx, record, entry.id, describe(err), now)
    return 'failed'
  }
  try {
    const item = JSON.parse(entry.item) as CrmInboxItem
    const errors = await applyItem(ctx, loaded, site, item)
    if (errors.length > 0) {
      await fail(ctx, record, entry.id, errors.join('; '), now)
      return 'failed'
    }
    await store.settleCrmInbox(entry.id, { status: 'done' })
    return 'done'
  } catch (err) {
    const reason = describe(err)
    const decision = err instanceof CrmCallError && err.retry
      ? nextRetry({ attempts: entry.attempts + 1, queuedAt: entry.receivedAt, now, retryAfterMs: err.retryAfterMs }, random, policy)
      : { retry: false as const }
    if (!decision.retry) {
      await fail(ctx, record, entry.id, reason, now)
      return 'failed'
    }
    ctx.metrics?.error(record.kind, true)
    await store.updateCrmStatus(record.id, { error: { reason, at: now } })
    await store.settleCrmInbox(entry.id, { status: 'retry', at: decision.at, reason })
    ctx.log?.({ connection: record.id, at: decision.at }, `CRM inbox row retried later: ${reason}`)
    return 'retry'
  }
}

async function fail(ctx: CrmContext, record: CrmConnectionRecord, id: string, reason: string, now: number): Promise<void> {
  ctx.metrics?.error(record.kind, false)
  await ctx.store.updateCrmStatus(record.id, { error: { reason, at: now } })
  await ctx.store.settleCrmInbox(id, { status: 'failed', reason })
  ctx.log?.({ connection: record.id }, `CRM inbox row failed: ${reason}`)
}

/** The item's deals, read from the CRM and written; returns the reasons of deals refused. */
async function applyItem(ctx: CrmContext, loaded: LoadedConnection, site: Site, item: CrmInboxItem): Promise<string[]> {
  const { adapter, connection } = loaded
  // A deal deleted in the CRM stays in Closeloop: its touches were real (see docs/crm/hubspot.md).
  if (item.change === 'deleted') return []
  let dealIds: string[]
  if (item.object === 'deal') dealIds = [item.id]
  else dealIds = adapter.dealsOfContact ? await adapter.dealsOfContact(connection, item.id, ctx.env) : []
  const errors: string[] = []
  for (const id of dealIds) {
    const deal = item.object === 'deal' && item.deal ? item.deal : await adapter.readDeal(connection, id, ctx.env)
    if (deal === null) continue
    const out = await writeCrmDeal(ctx, site, deal, loaded.record)
    if (out.written) ctx.metrics?.deal(connection.kind)
    else if (out.error) errors.push(out.reason)
  }
  return errors
}

/** Settles every inbox row due now (in batches); returns how many were handled. */
export async function drainInbox(ctx: CrmContext, opts: { batch?: number; backoff?: BackoffPolicy; random?: () => number; signal?: AbortSignal } = {}): Promise<number> {
  let handled = 0
  // A row retried with a wait of ~0 is due again at once: each row is tried once per drain.
  const seen = new Set<string>()
  for (;;) {
    if (opts.signal?.aborted) return handled
    const due = (await ctx.store.dueCrmInbox(ctx.env.now(), (opts.batch ?? 50) + seen.size)).filter((e) => !seen.has(e.id))
    if (due.length === 0) return handled
    for (const entry of due) {
      seen.add(entry.id)
      if (opts.signal?.aborted) return handled
      await processEntry(ctx, entry, opts.backoff ?? DEFAULT_BACKOFF, opts.random ?? Math.random)
      handled++
    }
  }
}

export interface SyncResult {
  connectionId: string
  deals: number
  skipped: number
  errors: string[]
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const t = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
})

/**
 * Pulls the deals changed since the connection's cursor, page by page, storing the cursor after each
 * page (a pull that stops resumes there). A 429 or 5xx waits (Retry-After, backoff) and tries
 * again, at most `maxAttempts` times per page.
 */
export async function syncConnection(ctx: CrmContext, record: CrmConnectionRecord, opts: { maxAttempts?: number; backoff?: BackoffPolicy; random?: () => number; maxWaitMs?: number } = {}): Promise<SyncResult> {
  const result: SyncResult = { connectionId: record.id, deals: 0, skipped: 0, errors: [] }
  const { store } = ctx
  const loaded = loadConnection(record, ctx.integrationKey)
  const site = await store.getSite(record.siteId)
  if (site === null) throw clError('SITE_NOT_FOUND')
  let cursor = record.cursor
  const started = ctx.env.now()
  for (let attempts = 0; ;) {
    if (ctx.env.signal?.aborted) return result
    let page
    try {
      page = await loaded.adapter.fetch(loaded.connection, cursor, ctx.env)
    } catch (err) {
      attempts++
      const reason = describe(err)
      const now = ctx.env.now()
      const decision = err instanceof CrmCallError && err.retry && attempts < (opts.maxAttempts ?? 5)
        ? nextRetry({ attempts, queuedAt: started, now, retryAfterMs: err.retryAfterMs }, opts.random ?? Math.random, opts.backoff ?? { ...DEFAULT_BACKOFF, baseMs: 1000, capMs: 60_000 })
        : { retry: false as const }
      ctx.metrics?.error(record.kind, decision.retry)
      await store.updateCrmStatus(record.id, { error: { reason, at: now } })
      if (!decision.retry || decision.at - now > (opts.maxWaitMs ?? 5 * 60_000)) {
        result.errors.push(reason)
        return result
      }
      await sleep(decision.at - now, ctx.env.signal)
      continue
    }
    attempts = 0
    for (const deal of page.deals) {
      const out = await writeCrmDeal(ctx, site, deal, record)
      if (out.written) {
        result.deals++
        ctx.metrics?.deal(record.kind)
      } else if (out.error) {
        result.errors.push(out.reason)
        ctx.metrics?.error(record.kind, false)
        await store.updateCrmStatus(record.id, { error: { reason: out.reason, at: ctx.env.now() } })
      } else {
        result.skipped++
      }
    }
    cursor = page.cursor
    await store.updateCrmStatus(record.id, { cursor, ...(page.more ? {} : { lastSyncAt: ctx.env.now() }) })
    if (!page.more) return result
  }
}

export interface CrmWorkerOptions {
  /** How often due inbox rows are looked for besides wake-ups (retries come due), ms. */
  pollMs?: number
  /** Minutes between pulls of every connection; 0 = never. */
  syncMinutes: number
  backoff?: BackoffPolicy
  random?: () => number
  /** Settled inbox rows are kept this long to recognise redeliveries (HubSpot retries for a day). */
  keepSettledMs?: number
  /** Sent and failed write-backs are kept this long (a sent contact row remembers the CRM contact ID). */
  keepWriteBacksMs?: number
  /** How long a claimed write-back waits before it is handed out again when its delivery never settled. */
  outboxLeaseMs?: number
}

/**
 * The background worker of `serve`: drains the inbox, then the write-back outbox, on wake-ups and
 * every pollMs; pulls on schedule.
 */
export class CrmWorker {
  private lastSync: number
  private lastPrune = 0
  private readonly abort = new AbortController()
  private readonly loop: PollLoop

  constructor(private readonly ctx: CrmContext, private readonly opts: CrmWorkerOptions) {
    this.ctx = { ...ctx, env: { ...ctx.env, signal: this.abort.signal } }
    // The first pull waits one interval: a restart must not hammer the CRM.
    this.lastSync = ctx.env.now()
    this.loop = new PollLoop(() => this.round(), opts.pollMs ?? 5000, (err) => {
      this.ctx.log?.({ err: describe(err) }, 'CRM worker round failed')
    })
  }

  start(): void {
    this.loop.start()
  }

  /** New inbox or outbox rows were stored: process them now. */
  wake(): void {
    this.loop.wake()
  }

  private async round(): Promise<void> {
    const ctx = this.ctx
    await drainInbox(ctx, { backoff: this.opts.backoff, random: this.opts.random, signal: this.abort.signal })
    await drainOutbox(ctx, { backoff: this.opts.backoff, random: this.opts.random, signal: this.abort.signal, leaseMs: this.opts.outboxLeaseMs })
    const now = ctx.env.now()
    if (this.opts.syncMinutes > 0 && now - this.lastSync >= this.opts.syncMinutes * 60_000) {
      this.lastSync = now
      for (const record of await ctx.store.listCrmConnections()) {
        if (this.loop.isStopped) return
        try {
          await syncConnection(ctx, record)
        } catch (err) {
          ctx.log?.({ connection: record.id, err: describe(err) }, 'CRM pull failed')
        }
      }
    }
    if (now - this.lastPrune >= 60 * 60_000) {
      this.lastPrune = now
      await ctx.store.pruneCrmInbox(now - (this.opts.keepSettledMs ?? 3 * 24 * 60 * 60_000))
      await ctx.store.pruneCrmOutbox(now - (this.opts.keepWriteBacksMs ?? 30 * 24 * 60 * 60_000))
    }
  }

  /** Stops scheduling, aborts CRM calls in flight, and waits for the current round. */
  async stop(): Promise<void> {
    const stopped = this.loop.stop()
    this.abort.abort()
    await stopped
  }
}
