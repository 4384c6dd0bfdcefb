// Attribution written back to the CRM (`crm add --write-back`), for every connector alike: what is
// queued in the durable outbox after an identify and after a CRM deal is written, and its delivery
// by the worker of `serve` (adapter.writeBack, retries with backoff and Retry-After, give-up).
//
// Rows are coalesced per record (a contact row per lead, a deal row per CRM deal): writes are
// idempotent and only the latest values matter, so a burst of changes is one CRM call.

import { nextRetry, DEFAULT_BACKOFF, type BackoffPolicy } from '../backoff.js'
import { toClError } from '../../errors.js'
import { summarizeJourney } from '../../identity/journey.js'
import type { Pii } from '../../identity/pii.js'
import { VISITOR_ID_RE } from '../../ingest/schemas.js'
import { dealCredit } from '../../reports/deal-credit.js'
import type { CrmConnectionRecord, CrmOutboxEntry, CrmOutboxWrite, LeadJourney, Site, Store, StoredTouch } from '../../store/types.js'
import type { DeliveryResult, IntegrationEnv } from '../types.js'
import type { CrmDeal, CrmWriteBack, DealWriteBackFields, LeadWriteBackFields } from './adapter.js'
import { loadConnection } from './connections.js'

export type WriteBackOutcome = 'sent' | 'retry' | 'failed'

/** Counters of write-back attempts (the collector's /metrics). */
export interface WriteBackMetrics {
  writeBack(kind: string, object: 'contact' | 'deal', outcome: WriteBackOutcome): void
}

export interface OutboxContext {
  store: Store
  pii: Pii
  integrationKey: Buffer
  env: IntegrationEnv
  metrics?: Partial<WriteBackMetrics>
  log?: (fields: Record<string, unknown>, message: string) => void
}

/** A claimed row is handed out again after this long if its delivery never settled (a crash). */
export const OUTBOX_LEASE_MS = 5 * 60_000

const touchFields = (t: StoredTouch | null) => ({
  source: t?.source || null, medium: t?.medium || null, campaign: t?.campaign || null, channel: t?.channel || null,
})

/** A lead's contact fields: its ID and the first and last touch identify answers with. */
export function leadWriteBackFields(journey: LeadJourney): LeadWriteBackFields {
  const { firstTouch, lastTouch } = summarizeJourney(journey)
  const first = touchFields(firstTouch)
  const last = touchFields(lastTouch)
  return {
    closeloop_lead_id: journey.lead.id,
    closeloop_first_source: first.source, closeloop_first_medium: first.medium, closeloop_first_campaign: first.campaign, closeloop_first_channel: first.channel,
    closeloop_last_source: last.source, closeloop_last_medium: last.medium, closeloop_last_campaign: last.campaign, closeloop_last_channel: last.channel,
  }
}

async function writeBackConnections(store: Store, siteId: string): Promise<CrmConnectionRecord[]> {
  return (await store.listCrmConnections()).filter((c) => c.siteId === siteId && c.writeBack)
}

const contactRow = (connectionId: string, journey: LeadJourney, contactId: string | null): CrmOutboxWrite => ({
  connectionId, object: 'contact', target: journey.lead.id, contactId, emailEnc: journey.lead.emailEnc, fields: JSON.stringify(leadWriteBackFields(journey)),
})

/**
 * After an identify: the lead's contact fields for every write-back connection of its site. The
 * contact is found by its CRM ID when a deal named it before (kept on the row), else by e-mail; a
 * lead without an e-mail and never on a CRM deal cannot be found in the CRM and is skipped.
 */
export async function queueLeadWriteBack(store: Store, siteId: string, journey: LeadJourney, now: number): Promise<number> {
  if (journey.lead.emailEnc === null) return 0
  const connections = await writeBackConnections(store, siteId)
  if (connections.length === 0) return 0
  return store.enqueueCrmOutbox(connections.map((c) => contactRow(c.id, journey, null)), now)
}

/**
 * After a CRM deal was written: the deal's credited channel and campaign, and the contact fields of
 * its people (their CRM IDs are known here), for the connection the deal came from.
 */
export async function queueDealWriteBack(ctx: Pick<OutboxContext, 'store' | 'pii'>, site: Site, record: CrmConnectionRecord, deal: CrmDeal, now: number): Promise<number> {
  if (!record.writeBack) return 0
  const { store, pii } = ctx
  // Each contact's lead as the deal write linked it: by the visitor its form was sent from, else by e-mail.
  const people: Array<{ contactId: string; leadId: string }> = []
  for (const c of deal.contacts) {
    let leadId = c.visitorId !== null && VISITOR_ID_RE.test(c.visitorId) ? await store.findLeadByVisitor(site.id, c.visitorId) : null
    if (leadId === null && c.email !== null) {
      let key
      try {
        key = pii.normalize({ email: c.email }).keys.find((k) => k.kind === 'email')
      } catch {
        key = undefined
      }
      leadId = key ? await store.findLeadByKey(site.id, key) : null
    }
    if (leadId !== null && !people.some((p) => p.leadId === leadId)) people.push({ contactId: c.id, leadId })
  }
  const rows: CrmOutboxWrite[] = []
  const credit = await dealCredit(store, site, deal.id, people.map((p) => p.leadId))
  if (credit !== null) {
    const fields: DealWriteBackFields = { closeloop_channel: credit.channel, closeloop_campaign: credit.campaign }
    rows.push({ connectionId: record.id, object: 'deal', target: deal.id, contactId: null, emailEnc: null, fields: JSON.stringify(fields) })
  }
  for (const p of people) {
    const journey = await store.getLead(site.id, p.leadId)
    if (journey !== null) rows.push(contactRow(record.id, journey, p.contactId))
  }
  return store.enqueueCrmOutbox(rows, now)
}

export interface DrainOptions {
  batch?: number
  backoff?: BackoffPolicy
  random?: () => number
  signal?: AbortSignal
  leaseMs?: number
}

/** One row → the CRM write it stands for, or the reason it cannot be made. */
function writeOf(ctx: OutboxContext, entry: CrmOutboxEntry): CrmWriteBack | string {
  const fields = JSON.parse(entry.fields) as Record<string, string | null>
  if (entry.object === 'deal') return { object: 'deal', dealId: entry.target, fields: fields as unknown as DealWriteBackFields }
  const email = ctx.pii.reveal(entry.emailEnc)
  if (entry.contactId === null && email === null) return 'the contact has neither a known CRM ID nor a readable e-mail'
  return { object: 'contact', contactId: entry.contactId, email, fields: fields as unknown as LeadWriteBackFields }
}

async function deliver(ctx: OutboxContext, entry: CrmOutboxEntry, policy: BackoffPolicy, random: () => number, drainStart: number): Promise<WriteBackOutcome> {
  const { store } = ctx
  const now = ctx.env.now()
  const record = await store.getCrmConnection(entry.connectionId)
  /** Settles the row as sent (no reason) or failed with the reason; counts the outcome. */
  const finish = async (kind: string, reason: string | null): Promise<WriteBackOutcome> => {
    const at = ctx.env.now()
    if (reason === null) await store.settleCrmOutbox(entry.id, entry.version, { status: 'sent', at })
    else {
      await store.settleCrmOutbox(entry.id, entry.version, { status: 'failed', at, reason })
      ctx.log?.({ connection: entry.connectionId, object: entry.object }, `CRM write-back failed: ${reason}`)
    }
    const outcome = reason === null ? 'sent' : 'failed'
    ctx.metrics?.writeBack?.(kind, entry.object, outcome)
    return outcome
  }
  if (record === null) return finish('unknown', 'connection removed')
  if (!record.writeBack) return finish(record.kind, 'write-back is off for this connection')
  let result: DeliveryResult
  try {
    const { adapter, connection } = loadConnection(record, ctx.integrationKey)
    const write = writeOf(ctx, entry)
    if (typeof write === 'string') return finish(record.kind, write)
    result = await adapter.writeBack(connection, write, ctx.env)
  } catch (err) {
    // A connection this build cannot load, or an adapter that threw: final, with the coded reason.
    const e = toClError(err)
    return finish(record.kind, `${e.code}: ${e.message}`)
  }
  if (result.status === 'sent') return finish(record.kind, null)
  if (result.status === 'failed') return finish(record.kind, result.reason)
  const decision = nextRetry({ attempts: entry.attempts + 1, queuedAt: entry.queuedAt, now, retryAfterMs: result.retryAfterMs }, random, policy)
  if (!decision.retry) return finish(record.kind, `gave up after ${entry.attempts + 1} attempts: ${result.reason}`)
  // After the drain's start: the drain claims rows due by then, so this one waits for the next.
  await store.settleCrmOutbox(entry.id, entry.version, { status: 'retry', at: ctx.env.now(), next: Math.max(decision.at, drainStart + 1), reason: result.reason })
  ctx.log?.({ connection: entry.connectionId, object: entry.object, at: decision.at }, `CRM write-back retried later: ${result.reason}`)
  ctx.metrics?.writeBack?.(record.kind, entry.object, 'retry')
  return 'retry'
}

/** Delivers every write-back due now (in batches); returns how many rows were tried. */
export async function drainOutbox(ctx: OutboxContext, opts: DrainOptions = {}): Promise<number> {
  let handled = 0
  // Rows due at the drain's start, each claimed once: a claimed row's next time moves past it, and
  // a retry is set after it, so the loop ends even when a retry's wait is ~0.
  const start = ctx.env.now()
  for (;;) {
    if (opts.signal?.aborted) return handled
    const due = await ctx.store.dueCrmOutbox(start, opts.batch ?? 50, opts.leaseMs ?? OUTBOX_LEASE_MS)
    if (due.length === 0) return handled
    for (const entry of due) {
      if (opts.signal?.aborted) return handled
      await deliver(ctx, entry, opts.backoff ?? DEFAULT_BACKOFF, opts.random ?? Math.random, start)
      handled++
    }
  }
}
