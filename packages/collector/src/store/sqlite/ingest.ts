// Writing one batch of events inside the current (group-commit) transaction. Synchronous on
// purpose: better-sqlite3 is synchronous, and the whole flush must not yield to the event loop
// while its transaction is open.

import { firstTouchTs, jsonOrNull, type Row } from '../rows.js'
import type { Statements } from './statements.js'
import type { IngestEvent, IngestResult } from '../types.js'

/** `onTouch` hears of each touch stored (inside the transaction, before it commits). */
export function ingestBatch(s: Statements, events: readonly IngestEvent[], onTouch?: (e: IngestEvent & { touch: NonNullable<IngestEvent['touch']> }) => void): IngestResult {
  const outcome: IngestResult['outcome'] = new Array(events.length)
  let accepted = 0
  const leadsByVisitor = new Map<string, Row[]>()
  // Per site and hash, once per batch (a batch's events mostly share a visitor).
  const suppressedHash = new Map<string, boolean>()
  const isSuppressed = (siteId: string, hash: string): boolean => {
    const key = siteId + '\u0000' + hash
    let hit = suppressedHash.get(key)
    if (hit === undefined) suppressedHash.set(key, (hit = s.privacy.isSuppressed.get(siteId, hash) !== undefined))
    return hit
  }
  let suppressed = 0
  const order = insertionOrder(events)
  for (let k = 0; k < order.length; k++) {
    const i = order[k]
    const e = events[i]
    if (e.suppression && e.suppression.some((h) => isSuppressed(e.siteId, h))) {
      outcome[i] = 'suppressed'
      suppressed++
      continue
    }
    const inserted = s.ingest.insertEvent.run(
      e.siteId, e.id, e.type, e.ts, e.receivedAt, e.visitorId, e.sessionId,
      e.url ?? null, e.ref ?? null, e.title ?? null, e.name ?? null, jsonOrNull(e.props), jsonOrNull(e.traits),
    ).changes
    if (inserted === 0) {
      outcome[i] = 'duplicate'
      continue
    }
    outcome[i] = 'accepted'
    accepted++
    if (e.touch) {
      // The touch takes the event's (skew-corrected) time: one clock for a visitor's journey.
      const t = e.touch
      const stored = s.ingest.insertTouch.run(
        e.siteId, e.id, e.visitorId, e.sessionId, e.ts, t.source, t.medium, t.campaign ?? null, t.term ?? null,
        t.content ?? null, t.id ?? null, t.source_platform ?? null, t.creative_format ?? null, t.marketing_tactic ?? null,
        t.click_id ?? null, t.click_id_type ?? null, t.referrer ?? null, t.landing ?? null, t.channel, t.fbp ?? null,
      ).changes
      if (stored > 0) onTouch?.(e as IngestEvent & { touch: typeof t })
      settleOriginalSource(s, e, leadsByVisitor)
    }
  }
  return { accepted, duplicates: events.length - accepted - suppressed, suppressed, outcome }
}

const SORT_FROM = 64

/**
 * Large batches are written in key order (site, visitor, time, ID), stable for equal keys so
 * the first copy of a repeated event is the accepted one. The unique indexes of events and
 * touches are keyed by visitor, so this turns scattered b-tree inserts into runs on the same
 * pages: on a large import into a growing file it is the difference between touching each leaf
 * page once per visitor and once per event.
 */
function insertionOrder(events: readonly IngestEvent[]): number[] {
  const order = Array.from({ length: events.length }, (_, i) => i)
  if (events.length < SORT_FROM) return order
  return order.sort((a, b) => {
    const x = events[a]
    const y = events[b]
    if (x.siteId !== y.siteId) return x.siteId < y.siteId ? -1 : 1
    if (x.visitorId !== y.visitorId) return x.visitorId < y.visitorId ? -1 : 1
    if (x.ts !== y.ts) return x.ts - y.ts
    return a - b
  })
}

/**
 * A new touch of an already identified visitor: it becomes the lead's original source only when
 * the lead has none yet, or when it was explicitly imported and is earlier. A collected
 * touch from another device with an earlier clock never moves it.
 */
function settleOriginalSource(s: Statements, e: IngestEvent, cache: Map<string, Row[]>): void {
  // Looked up once per visitor and batch; rows are updated in place below, and nothing else
  // links visitors while this batch runs.
  const key = e.siteId + '\u0000' + e.visitorId
  let leads = cache.get(key)
  if (!leads) {
    leads = s.leads.ofVisitor.all(e.siteId, e.visitorId) as Row[]
    cache.set(key, leads)
  }
  for (const lead of leads) {
    const currentTs = firstTouchTs(lead)
    if (lead.first_touch_id == null || (e.imported === true && currentTs !== null && e.ts < currentTs)) {
      s.leads.setFirstTouch.run(e.id, e.ts, lead.id)
      lead.first_touch_id = e.id
      lead.first_touch_ts = e.ts
    }
  }
}
