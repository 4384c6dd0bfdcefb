// Row ↔ record mapping of the destination tables, shared by the SQLite and PostgreSQL stores.

import type { PlannedRow } from '../integrations/destinations/plan.js'
import type { Row } from './rows.js'
import type { ConversionCount, ConversionOutboxRow, ConversionStatus, DestinationRecord, Stage } from './types.js'

const intOrNull = (v: unknown): number | null => (v == null ? null : Number(v))
const strOrNull = (v: unknown): string | null => (v == null ? null : String(v))
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T

/**
 * The outbox row with what is read at send time: the lead's e-mail and phone ciphertexts and the
 * Meta browser ID of its newest touch that has one (any of its visitors). Standard SQL, both stores.
 */
export const OUTBOX_WITH_LEAD = `SELECT o.*, l.email_enc, l.phone_enc,
    (SELECT t.fbp FROM lead_visitors lv JOIN touches t ON t.site_id = lv.site_id AND t.visitor_id = lv.visitor_id
      WHERE lv.site_id = o.site_id AND lv.lead_id = o.lead_id AND t.fbp IS NOT NULL ORDER BY t.ts DESC, t.id DESC LIMIT 1) AS fbp
  FROM conversion_outbox o LEFT JOIN leads l ON l.id = o.lead_id`

/** Kinds whose rows the platform pulls as a feed: the delivery worker never claims them. */
export const FEED_KIND_LIST = ['google-ads-feed', 'microsoft-ads-feed'] as const

export function destinationFromRow(r: Row): DestinationRecord {
  return {
    id: String(r.id), siteId: String(r.site_id), kind: String(r.kind),
    options: json<Record<string, string | boolean>>(r.options), send: json<DestinationRecord['send']>(r.send),
    feedUser: strOrNull(r.feed_user), feedSecretHash: strOrNull(r.feed_secret_hash), createdAt: Number(r.created_at),
    lastSentAt: intOrNull(r.last_sent_at), lastError: strOrNull(r.last_error), lastErrorAt: intOrNull(r.last_error_at),
  }
}

export function outboxFromRow(r: Row): ConversionOutboxRow {
  return {
    key: String(r.key), destinationId: String(r.destination_id), siteId: String(r.site_id), leadId: String(r.lead_id),
    stage: String(r.stage) as Stage, conversionName: String(r.conversion_name), value: r.value == null ? null : Number(r.value),
    revenue: r.revenue == null ? null : Number(r.revenue), currency: String(r.currency), occurredAt: Number(r.occurred_at),
    matchBy: r.match_by == null ? null : (String(r.match_by) as 'click' | 'identity'),
    click: r.click_id == null ? null : { type: String(r.click_type), value: String(r.click_id), ts: Number(r.click_ts) },
    status: String(r.status) as ConversionStatus, attempts: Number(r.attempts), nextAt: Number(r.next_at), reason: strOrNull(r.reason),
    queuedAt: Number(r.queued_at), sentAt: intOrNull(r.sent_at), emailEnc: strOrNull(r.email_enc), phoneEnc: strOrNull(r.phone_enc),
    fbp: strOrNull(r.fbp),
  }
}

export function countFromRow(r: Row): ConversionCount {
  return {
    destinationId: String(r.destination_id), kind: String(r.kind), stage: String(r.stage) as Stage, status: String(r.status) as ConversionStatus,
    reason: strOrNull(r.reason), rows: Number(r.n), revenue: Number(r.revenue ?? 0),
  }
}

/** The outbox insert's values, in OUTBOX_COLUMNS order. */
export const OUTBOX_COLUMNS = 'key, destination_id, site_id, lead_id, stage, conversion_name, value, revenue, currency, occurred_at, match_by, click_type, click_id, click_ts, status, attempts, next_at, reason, queued_at'

export function outboxValues(siteId: string, p: PlannedRow, now: number): unknown[] {
  const click = p.match?.by === 'click' ? p.match.click : null
  return [
    p.key, p.destinationId, siteId, p.leadId, p.stage, p.conversionName, p.value, p.revenue, p.currency, p.occurredAt,
    p.match?.by ?? null, click?.type ?? null, click?.value ?? null, click?.ts ?? null, p.status, 0, now, p.reason, now,
  ]
}

/** Failure reasons are shown in `destinations status`; a platform's error body is bounded here. */
export const boundConversionReason = (reason: string): string => reason.slice(0, 500)
