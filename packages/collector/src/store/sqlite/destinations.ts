// Destinations and their conversion outbox for SQLite: writes inside the store's group-commit
// transaction (as `destinations` write ops, and the outbox rows of a deal write or an identify
// inside theirs), reads straight from the prepared statements.

import { planConversions, type DestinationRegistry, type StageReached } from '../../integrations/destinations/plan.js'
import { boundConversionReason, countFromRow, destinationFromRow, FEED_KIND_LIST, OUTBOX_COLUMNS, OUTBOX_WITH_LEAD, outboxFromRow, outboxValues } from '../destination-rows.js'
import type { Row } from '../rows.js'
import type { ConversionCount, ConversionOutboxRow, ConversionOutcome, DestinationRecord, DestinationStatusPatch, NewDestination, Stage } from '../types.js'
import type { Prepared } from './statements.js'

const FEEDS = FEED_KIND_LIST.map((k) => `'${k}'`).join(', ')
const WITH_LEAD = OUTBOX_WITH_LEAD

export const DESTINATION_SQL = {
  destInsert: 'INSERT INTO destinations (id, site_id, kind, options, send, feed_user, feed_secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  destById: 'SELECT * FROM destinations WHERE id = ?',
  destList: 'SELECT * FROM destinations ORDER BY created_at, id',
  destOfSite: 'SELECT * FROM destinations WHERE site_id = ? ORDER BY created_at, id',
  destDelete: 'DELETE FROM destinations WHERE id = ?',
  destDeleteOutbox: 'DELETE FROM conversion_outbox WHERE destination_id = ?',
  destSent: 'UPDATE destinations SET last_sent_at = ? WHERE id = ?',
  destError: 'UPDATE destinations SET last_error = ?, last_error_at = ? WHERE id = ?',
  siteCurrency: 'SELECT currency FROM sites WHERE id = ?',
  leadPii: 'SELECT email_enc, phone_enc FROM leads WHERE site_id = ? AND id = ?',
  leadVisitorCount: 'SELECT count(*) AS n FROM lead_visitors WHERE site_id = ? AND lead_id = ?',
  leadClicks: `SELECT t.click_id, t.click_id_type, t.ts FROM lead_visitors lv
     JOIN touches t ON t.site_id = lv.site_id AND t.visitor_id = lv.visitor_id
     WHERE lv.site_id = ? AND lv.lead_id = ? AND t.click_id IS NOT NULL AND t.ts <= ? ORDER BY t.ts DESC LIMIT 100`,
  outboxInsert: `INSERT INTO conversion_outbox (${OUTBOX_COLUMNS}) VALUES (${OUTBOX_COLUMNS.split(',').map(() => '?').join(', ')})
     ON CONFLICT (destination_id, lead_id, stage) DO NOTHING`,
  outboxDue: `SELECT o.key FROM conversion_outbox o JOIN destinations d ON d.id = o.destination_id
     WHERE o.status = 'pending' AND o.next_at <= ? AND d.kind NOT IN (${FEEDS}) ORDER BY o.next_at, o.queued_at, o.key LIMIT ?`,
  outboxClaim: 'UPDATE conversion_outbox SET next_at = ? WHERE key = ?',
  outboxByKey: `${WITH_LEAD} WHERE o.key = ?`,
  outboxSent: `UPDATE conversion_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, reason = NULL WHERE key = ? AND status = 'pending'`,
  outboxRetry: `UPDATE conversion_outbox SET attempts = attempts + 1, next_at = ?, reason = ? WHERE key = ? AND status = 'pending'`,
  outboxFailed: `UPDATE conversion_outbox SET status = 'failed', attempts = attempts + 1, reason = ? WHERE key = ? AND status = 'pending'`,
  outboxFeed: `${WITH_LEAD} WHERE o.destination_id = ? AND o.status IN ('pending', 'sent') AND o.occurred_at >= ? ORDER BY o.occurred_at, o.key`,
  outboxFeedServed: `UPDATE conversion_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ? WHERE destination_id = ? AND status = 'pending' AND occurred_at >= ?`,
  outboxEraseLead: 'DELETE FROM conversion_outbox WHERE site_id = ? AND lead_id = ?',
  outboxCounts: `SELECT o.destination_id, d.kind, o.stage, o.status, o.reason, count(*) AS n, sum(o.revenue) AS revenue
     FROM conversion_outbox o JOIN destinations d ON d.id = o.destination_id GROUP BY o.destination_id, d.kind, o.stage, o.status, o.reason`,
  outboxCountsOfSite: `SELECT o.destination_id, d.kind, o.stage, o.status, o.reason, count(*) AS n, sum(o.revenue) AS revenue
     FROM conversion_outbox o JOIN destinations d ON d.id = o.destination_id WHERE o.site_id = ?
     GROUP BY o.destination_id, d.kind, o.stage, o.status, o.reason`,
} as const

export type DestinationStatements = Prepared<typeof DESTINATION_SQL>

/** A destination write as plain data (see writes.ts). */
export type DestinationWrite =
  | { kind: 'add'; input: NewDestination }
  | { kind: 'remove'; id: string }
  | { kind: 'claim'; now: number; until: number; limit: number }
  | { kind: 'settle'; outcomes: Array<{ key: string; outcome: ConversionOutcome }> }
  | { kind: 'feed'; destinationId: string; since: number; now: number }
  | { kind: 'status'; id: string; patch: DestinationStatusPatch }

export function runDestinationWrite(s: DestinationStatements, w: DestinationWrite): unknown {
  switch (w.kind) {
    case 'add': {
      const d = w.input
      s.destInsert.run(d.id, d.siteId, d.kind, JSON.stringify(d.options), JSON.stringify(d.send), d.feedUser, d.feedSecretHash, d.createdAt)
      return destinationFromRow(s.destById.get(d.id) as Row)
    }
    case 'remove':
      s.destDeleteOutbox.run(w.id)
      return s.destDelete.run(w.id).changes > 0
    case 'claim': {
      const keys = (s.outboxDue.all(w.now, w.limit) as Row[]).map((r) => String(r.key))
      for (const k of keys) s.outboxClaim.run(w.until, k)
      return keys.map((k) => outboxFromRow(s.outboxByKey.get(k) as Row))
    }
    case 'settle':
      for (const { key, outcome: o } of w.outcomes) {
        if (o.status === 'sent') s.outboxSent.run(o.at, key)
        else if (o.status === 'retry') s.outboxRetry.run(o.at, boundConversionReason(o.reason), key)
        else s.outboxFailed.run(boundConversionReason(o.reason), key)
      }
      return undefined
    case 'status':
      if (w.patch.sentAt !== undefined) s.destSent.run(w.patch.sentAt, w.id)
      if (w.patch.error !== undefined) s.destError.run(boundConversionReason(w.patch.error.reason), w.patch.error.at, w.id)
      return undefined
    case 'feed': {
      const rows = (s.outboxFeed.all(w.destinationId, w.since) as Row[]).map(outboxFromRow)
      s.outboxFeedServed.run(w.now, w.destinationId, w.since)
      return rows
    }
  }
}

/**
 * Queues the conversion rows of stages leads reached, inside the transaction that made them reach
 * it. A (destination, lead, stage) already in the outbox is left as it is: only the first reach counts.
 */
export function queueConversionsSync(s: DestinationStatements, registry: DestinationRegistry | undefined, siteId: string, reached: readonly StageReached[], now: number): number {
  if (reached.length === 0) return 0
  const destinations = (s.destOfSite.all(siteId) as Row[]).map(destinationFromRow)
  if (destinations.length === 0) return 0
  const currency = String((s.siteCurrency.get(siteId) as Row | undefined)?.currency ?? 'USD')
  let queued = 0
  for (const r of reached) {
    if (!destinations.some((d) => d.send[r.stage] !== undefined)) continue
    const lead = s.leadPii.get(siteId, r.leadId) as Row | undefined
    if (!lead) continue
    const facts = {
      visitors: Number((s.leadVisitorCount.get(siteId, r.leadId) as Row).n),
      hasEmail: lead.email_enc != null, hasPhone: lead.phone_enc != null,
      clicks: (s.leadClicks.all(siteId, r.leadId, r.ts) as Row[]).map((c) => ({ type: String(c.click_id_type ?? ''), value: String(c.click_id), ts: Number(c.ts) })),
    }
    for (const p of planConversions(destinations, r, facts, currency, registry)) queued += s.outboxInsert.run(...outboxValues(siteId, p, now)).changes
  }
  return queued
}

/** Every stage a lead's deals reached, at its first time (an identify that linked waiting deals). */
export function stagesOfDeals(history: ReadonlyArray<{ leadId: string; stage: Stage; ts: number; amount: number | null }>): StageReached[] {
  const first = new Map<string, StageReached>()
  for (const h of history) {
    const k = `${h.leadId}\n${h.stage}`
    const prev = first.get(k)
    if (!prev || h.ts < prev.ts) first.set(k, { leadId: h.leadId, stage: h.stage, ts: h.ts, amount: h.amount })
  }
  return [...first.values()]
}

export const getDestinationSync = (s: DestinationStatements, id: string): DestinationRecord | null => {
  const row = s.destById.get(id) as Row | undefined
  return row ? destinationFromRow(row) : null
}

export const listDestinationsSync = (s: DestinationStatements, siteId?: string): DestinationRecord[] =>
  ((siteId === undefined ? s.destList.all() : s.destOfSite.all(siteId)) as Row[]).map(destinationFromRow)

export const conversionCountsSync = (s: DestinationStatements, siteId?: string): ConversionCount[] =>
  ((siteId === undefined ? s.outboxCounts.all() : s.outboxCountsOfSite.all(siteId)) as Row[]).map(countFromRow)

export const eraseConversionsSync = (s: DestinationStatements, siteId: string, leadIds: readonly string[]): void => {
  for (const id of leadIds) s.outboxEraseLead.run(siteId, id)
}

export type { ConversionOutboxRow }
