// The delivery side of `serve` for API destinations: claim due outbox rows (a claim pushes their
// next attempt out, so collectors sharing PostgreSQL never take the same rows at once, and a crash
// leaves them due again later), send them per destination in batches through the adapter, and
// settle each row: sent, retried with backoff (never sooner than Retry-After) or failed with the
// platform's reason; after 7 days of retries a row fails with its last reason. A resend after a
// crash carries the same keys as order/event IDs, so the platform counts the conversion once.

import { DEFAULT_BACKOFF, nextRetry, type BackoffPolicy } from '../backoff.js'
import { PollLoop } from '../poll-loop.js'
import { toClError } from '../../errors.js'
import type { Pii } from '../../identity/pii.js'
import type { ConversionOutboxRow, ConversionOutcome, Store } from '../../store/types.js'
import type { IntegrationEnv } from '../types.js'
import { isFeedAdapter, type ConversionRow, type DestinationAdapter, type RowResult } from './adapter.js'
import { loadDestination, type LoadedDestination } from './destinations.js'
import type { DestinationRegistry } from './plan.js'
import { destinationRegistry } from './registry.js'

/** Counters the worker reports to (the collector's /metrics). */
export interface DeliveryMetrics {
  delivered(kind: string, outcome: 'sent' | 'retry' | 'failed', rows: number): void
}

export interface DeliveryContext {
  store: Store
  pii: Pii
  integrationKey: Buffer
  env: IntegrationEnv
  registry?: DestinationRegistry
  metrics?: DeliveryMetrics
  log?: (fields: Record<string, unknown>, message: string) => void
}

export interface DeliveryOptions {
  /** How often due rows are looked for, ms. */
  pollMs?: number
  /** How long a claim holds rows: a crashed collector's rows are due again after it, ms. */
  claimMs?: number
  /** Rows per claim; each destination's share is sent in batches of `batchSize`. */
  claimLimit?: number
  batchSize?: number
  backoff?: BackoffPolicy
  random?: () => number
}

export const DELIVERY_DEFAULTS = { pollMs: 5000, claimMs: 5 * 60_000, claimLimit: 500, batchSize: 200 } as const

const describe = (err: unknown): string => `${toClError(err).code}: ${toClError(err).message}`

/** The row as the adapter takes it: e-mail and phone decrypted for this send only. */
function conversionRow(pii: Pii, r: ConversionOutboxRow): ConversionRow {
  return {
    key: r.key, leadId: r.leadId, stage: r.stage, conversionName: r.conversionName, value: r.value, currency: r.currency,
    occurredAt: r.occurredAt, click: r.click, email: pii.reveal(r.emailEnc), phone: pii.reveal(r.phoneEnc), fbp: r.fbp,
  }
}

/** One attempt's result → what is stored. */
function settle(row: ConversionOutboxRow, result: RowResult['result'] | undefined, now: number, random: () => number, policy: BackoffPolicy): ConversionOutcome {
  const r = result ?? { status: 'retry' as const, retryAfterMs: null, reason: 'the platform gave no result for this row' }
  if (r.status === 'sent') return { status: 'sent', at: now }
  if (r.status === 'failed') return { status: 'failed', reason: r.reason }
  const decision = nextRetry({ attempts: row.attempts + 1, queuedAt: row.queuedAt, now, retryAfterMs: r.retryAfterMs }, random, policy)
  return decision.retry ? { status: 'retry', at: decision.at, reason: r.reason } : { status: 'failed', reason: `gave up after ${Math.round(policy.giveUpAfterMs / 86_400_000)} days of retries: ${r.reason}` }
}

/** Sends one destination's claimed rows in batches; returns the outcomes to store. */
async function deliver(ctx: DeliveryContext, loaded: LoadedDestination, rows: ConversionOutboxRow[], opts: Required<Pick<DeliveryOptions, 'batchSize'>> & { random: () => number; policy: BackoffPolicy }): Promise<Array<{ key: string; outcome: ConversionOutcome }>> {
  const { adapter, destination } = loaded
  const out: Array<{ key: string; outcome: ConversionOutcome }> = []
  if (isFeedAdapter(adapter)) return out
  for (let i = 0; i < rows.length; i += opts.batchSize) {
    const chunk = rows.slice(i, i + opts.batchSize)
    let results: RowResult[]
    try {
      results = await adapter.send(adapter.buildBatch(chunk.map((r) => conversionRow(ctx.pii, r)), destination), destination, ctx.env)
    } catch (err) {
      // A fault of ours or the network's, not the platform's word on the rows: try them again later.
      const reason = describe(err)
      results = chunk.map((r) => ({ key: r.key, result: { status: 'retry', retryAfterMs: null, reason } }))
    }
    const byKey = new Map(results.map((r) => [r.key, r.result]))
    const now = ctx.env.now()
    for (const row of chunk) out.push({ key: row.key, outcome: settle(row, byKey.get(row.key), now, opts.random, opts.policy) })
  }
  return out
}

/** Claims and settles every due row once; returns how many rows were settled. */
export async function deliverDue(ctx: DeliveryContext, opts: DeliveryOptions = {}): Promise<number> {
  const registry = ctx.registry ?? destinationRegistry
  const policy = opts.backoff ?? DEFAULT_BACKOFF
  const random = opts.random ?? Math.random
  const batchSize = opts.batchSize ?? DELIVERY_DEFAULTS.batchSize
  const limit = opts.claimLimit ?? DELIVERY_DEFAULTS.claimLimit
  let settled = 0
  for (;;) {
    if (ctx.env.signal?.aborted) return settled
    const now = ctx.env.now()
    const claimed = await ctx.store.claimConversions(now, now + (opts.claimMs ?? DELIVERY_DEFAULTS.claimMs), limit)
    if (claimed.length === 0) return settled
    const byDestination = new Map<string, ConversionOutboxRow[]>()
    for (const r of claimed) {
      const list = byDestination.get(r.destinationId)
      if (list) list.push(r)
      else byDestination.set(r.destinationId, [r])
    }
    for (const [id, rows] of byDestination) {
      const record = await ctx.store.getDestination(id)
      if (record === null) continue // removed meanwhile: its rows went with it
      let loaded: LoadedDestination
      try {
        loaded = loadDestination(record, ctx.integrationKey, registry)
      } catch (err) {
        // A kind this build lacks, or options that no longer parse: the rows wait for a fixed collector.
        const reason = describe(err)
        await ctx.store.settleConversions(rows.map((r) => ({ key: r.key, outcome: settle(r, { status: 'retry', retryAfterMs: null, reason }, ctx.env.now(), random, policy) })))
        await ctx.store.updateDestinationStatus(id, { error: { reason, at: ctx.env.now() } })
        ctx.log?.({ destination: id }, `destination cannot be loaded: ${reason}`)
        continue
      }
      const outcomes = await deliver(ctx, loaded, rows, { batchSize, random, policy })
      await ctx.store.settleConversions(outcomes)
      settled += outcomes.length
      for (const o of ['sent', 'retry', 'failed'] as const) {
        const n = outcomes.filter((x) => x.outcome.status === o).length
        if (n > 0) ctx.metrics?.delivered(record.kind, o, n)
      }
      // The destination's health: its latest success and latest failure (an expired token, a refused row).
      const failed = outcomes.find((x) => x.outcome.status !== 'sent')
      const at = ctx.env.now()
      await ctx.store.updateDestinationStatus(id, {
        ...(outcomes.some((x) => x.outcome.status === 'sent') ? { sentAt: at } : {}),
        ...(failed && 'reason' in failed.outcome ? { error: { reason: failed.outcome.reason, at } } : {}),
      })
      if (failed) ctx.log?.({ destination: id, kind: record.kind }, `conversion ${failed.outcome.status}: ${'reason' in failed.outcome ? failed.outcome.reason : ''}`)
    }
    // A short claim took every due row; a row retried at once waits for the next round.
    if (claimed.length < limit) return settled
  }
}

/** The background worker of `serve`: delivers due rows every pollMs. */
export class ConversionWorker {
  private readonly abort = new AbortController()
  private readonly loop: PollLoop

  constructor(private readonly ctx: DeliveryContext, private readonly opts: DeliveryOptions = {}) {
    this.ctx = { ...ctx, env: { ...ctx.env, signal: this.abort.signal } }
    this.loop = new PollLoop(() => deliverDue(this.ctx, this.opts).then(() => undefined), opts.pollMs ?? DELIVERY_DEFAULTS.pollMs, (err) => {
      this.ctx.log?.({ err: describe(err) }, 'conversion delivery round failed')
    })
  }

  start(): void {
    this.loop.start()
  }

  /** Stops scheduling, aborts platform calls in flight, and waits for the current round. */
  async stop(): Promise<void> {
    const stopped = this.loop.stop()
    this.abort.abort()
    await stopped
  }
}

export type { DestinationAdapter }
