// What was sent back to the ad platforms, per destination and stage: sent, pending, failed (with
// the platforms' reasons) and not sendable (why), and the share of won revenue that could be sent
// back, with what is missing (no click ID of the platform, a click outside its window, no consent).
// One reading of the outbox counts, shared by `destinations status`, the API and the dashboard.

import { FEED_KINDS } from '../integrations/destinations/adapter.js'
import { feedPath } from '../integrations/destinations/destinations.js'
import { STAGES, type ConversionCount, type Site, type Store, type UnmatchedReason } from '../store/types.js'

export interface StageStatus {
  stage: string
  /** The conversion name the stage is sent as. */
  conversionName: string | null
  sent: number
  pending: number
  failed: number
  /** Leads that reached the stage but the platform cannot match. */
  unmatched: number
  /** Failure and not-sendable reasons with their row counts, most first. */
  reasons: Array<{ status: 'failed' | 'unmatched' | 'pending'; reason: string; rows: number }>
}

export interface WonRevenue {
  /** Revenue of won leads Closeloop knows (the rows' deal amounts, sendable or not). */
  total: number
  sent: number
  pending: number
  failed: number
  /** (sent + pending) / total; null without won revenue. */
  sendableShare: number | null
  missing: Record<UnmatchedReason, number>
}

export interface DestinationStatus {
  id: string
  kind: string
  /** The feed's path under the collector's base path; null for API destinations. */
  feed: string | null
  stages: StageStatus[]
  /** The delivery worker's latest send, and latest failure with its reason (epoch ms). */
  lastSentAt: number | null
  lastError: string | null
  lastErrorAt: number | null
  /** Its latest attempt failed: the error is newer than the last send. */
  failing: boolean
  /** Null when the destination does not send `won`. */
  won: WonRevenue | null
}

export interface DestinationsReport {
  currency: string
  destinations: DestinationStatus[]
}

/** Outbox counts of one destination → per stage, in the product's stage order. */
export function stageStatus(counts: readonly ConversionCount[], send: Partial<Record<string, { name: string }>> = {}): StageStatus[] {
  const by = new Map<string, StageStatus>()
  for (const stage of Object.keys(send)) by.set(stage, { stage, conversionName: send[stage]?.name ?? null, sent: 0, pending: 0, failed: 0, unmatched: 0, reasons: [] })
  for (const c of counts) {
    let s = by.get(c.stage)
    if (!s) by.set(c.stage, (s = { stage: c.stage, conversionName: send[c.stage]?.name ?? null, sent: 0, pending: 0, failed: 0, unmatched: 0, reasons: [] }))
    s[c.status] += c.rows
    if (c.reason !== null && c.status !== 'sent') s.reasons.push({ status: c.status, reason: c.reason, rows: c.rows })
  }
  for (const s of by.values()) s.reasons.sort((a, b) => b.rows - a.rows || a.reason.localeCompare(b.reason))
  return STAGES.filter((s) => by.has(s)).map((s) => by.get(s) as StageStatus)
}

export function wonRevenue(counts: readonly ConversionCount[]): WonRevenue {
  const w: WonRevenue = { total: 0, sent: 0, pending: 0, failed: 0, sendableShare: null, missing: { no_click_id: 0, outside_window: 0, no_consent: 0 } }
  for (const c of counts) {
    if (c.stage !== 'won') continue
    w.total += c.revenue
    if (c.status === 'unmatched') w.missing[(c.reason ?? 'no_click_id') as UnmatchedReason] += c.revenue
    else w[c.status] += c.revenue
  }
  w.sendableShare = w.total > 0 ? (w.sent + w.pending) / w.total : null
  return w
}

export async function destinationsReport(store: Store, site: Site): Promise<DestinationsReport> {
  const [destinations, counts] = await Promise.all([store.listDestinations(site.id), store.conversionCounts(site.id)])
  return {
    currency: site.currency,
    destinations: destinations.map((d) => {
      const mine = counts.filter((c) => c.destinationId === d.id)
      return {
        id: d.id, kind: d.kind, feed: (FEED_KINDS as readonly string[]).includes(d.kind) ? feedPath(d.id) : null,
        stages: stageStatus(mine, d.send), lastSentAt: d.lastSentAt, lastError: d.lastError, lastErrorAt: d.lastErrorAt,
        failing: d.lastErrorAt !== null && (d.lastSentAt === null || d.lastErrorAt > d.lastSentAt),
        won: d.send.won === undefined ? null : wonRevenue(mine),
      }
    }),
  }
}
