// Row ↔ domain mapping shared by the SQLite and PostgreSQL stores. Both schemas use the same
// column names; the drivers differ only in returning JSON as text or as parsed values and
// 64-bit integers as numbers or strings, which these helpers absorb.

import { DROP_REASONS, type DropReason, type IdentityKind, type Lead, type LeadConflict, type QualityStats, type RejectedEvent, type Site, type SiteSettings, type StoredTouch } from './types.js'

type Scalar = string | number | bigint | null
export type Row = Record<string, unknown>

/** Bound on stored rejected-event excerpts: enough to debug, too little to become a data store. */
export const REJECTED_PAYLOAD_MAX = 2048

function json<T>(value: unknown, fallback: T): T {
  if (value == null) return fallback
  if (typeof value === 'string') return JSON.parse(value) as T
  return value as T
}

function int(value: unknown): number {
  return typeof value === 'number' ? value : Number(value as Scalar)
}

function intOrNull(value: unknown): number | null {
  return value == null ? null : int(value)
}

/** A nullable number column (amounts are REAL / DOUBLE PRECISION). */
export function numOrNull(value: unknown): number | null {
  return value == null ? null : Number(value)
}

/** GA4's "Landing page": the URL without query string or fragment (query strings carry click IDs). */
export function landingPage(v: unknown): string | null {
  if (typeof v !== 'string' || v === '') return null
  // indexOf, not a regex: this runs for every touch stored and every touch a report scans.
  const q = v.indexOf('?')
  const h = v.indexOf('#')
  const cut = q < 0 ? h : h < 0 ? q : Math.min(q, h)
  return cut < 0 ? v : v.slice(0, cut)
}

function str(value: unknown): string | null {
  return value == null ? null : String(value)
}

export function siteFromRow(row: Row): Site {
  return {
    id: String(row.id),
    name: String(row.name),
    publicKey: String(row.public_key),
    origins: json<string[]>(row.origins, []),
    cookieDomain: str(row.cookie_domain),
    currency: String(row.currency),
    settings: json<SiteSettings>(row.settings, {}),
    createdAt: int(row.created_at),
  }
}

export function leadFromRow(row: Row): Lead {
  return {
    id: String(row.id),
    siteId: String(row.site_id),
    createdAt: int(row.created_at),
    identifiedAt: int(row.identified_at),
    emailEnc: str(row.email_enc),
    phoneEnc: str(row.phone_enc),
    externalId: str(row.external_id),
    traits: json<Record<string, unknown>>(row.traits, {}),
    firstTouchId: str(row.first_touch_id),
    accountId: str(row.account_id),
  }
}

export function firstTouchTs(row: Row): number | null {
  return intOrNull(row.first_touch_ts)
}

export function touchFromRow(row: Row): StoredTouch {
  return {
    touchId: String(row.id),
    visitorId: String(row.visitor_id),
    sessionId: String(row.session_id),
    ts: int(row.ts),
    source: String(row.source),
    medium: String(row.medium),
    campaign: str(row.campaign),
    term: str(row.term),
    content: str(row.content),
    id: str(row.utm_id),
    source_platform: str(row.source_platform),
    creative_format: str(row.creative_format),
    marketing_tactic: str(row.marketing_tactic),
    click_id: str(row.click_id),
    click_id_type: str(row.click_id_type),
    referrer: str(row.referrer),
    landing: str(row.landing),
    channel: String(row.channel),
    // Present only when captured: most touches have none.
    ...(row.fbp == null ? {} : { fbp: String(row.fbp) }),
  }
}

export const TOUCH_COLUMNS =
  'site_id, id, visitor_id, session_id, ts, source, medium, campaign, term, content, utm_id, source_platform, ' +
  'creative_format, marketing_tactic, click_id, click_id_type, referrer, landing, channel, fbp'

export function eventFromRow(row: Row): Record<string, unknown> {
  return {
    id: String(row.id),
    type: String(row.type),
    ts: int(row.ts),
    receivedAt: int(row.received_at),
    visitorId: String(row.visitor_id),
    sessionId: String(row.session_id),
    url: str(row.url),
    ref: str(row.ref),
    title: str(row.title),
    name: str(row.name),
    props: json<Record<string, unknown> | null>(row.props, null),
    traits: json<Record<string, unknown> | null>(row.traits, null),
  }
}

export function jsonOrNull(value: Record<string, unknown> | null | undefined): string | null {
  return value == null ? null : JSON.stringify(value)
}

export function boundPayload(payload: string): string {
  return payload.length > REJECTED_PAYLOAD_MAX ? payload.slice(0, REJECTED_PAYLOAD_MAX) : payload
}

export function rejectedFromRow(row: Row): RejectedEvent {
  return { siteId: str(row.site_id), receivedAt: int(row.received_at), code: String(row.code), payload: String(row.payload) }
}

export function conflictFromRow(row: Row): LeadConflict {
  return { keptLeadId: String(row.kept_lead_id), otherLeadId: String(row.other_lead_id), kind: String(row.kind) as IdentityKind, createdAt: int(row.created_at) }
}

// Data quality (Store.qualityStats): one grouped scan of the paid touches, one of rejections. A
// value is tagged unless empty, (not set) or (none), as in the reports' UTM completeness.
const TAGGED = (c: string) => `coalesce(trim(${c}), '') NOT IN ('', '(not set)', '(none)')`
export const QUALITY_TOUCHES_SQL = (p: (i: number) => string) =>
  `SELECT source, medium, click_id_type, count(*) AS n,
     sum(CASE WHEN ${TAGGED('source')} AND ${TAGGED('medium')} AND ${TAGGED('campaign')} THEN 1 ELSE 0 END) AS complete
   FROM touches WHERE site_id = ${p(1)} AND ts >= ${p(2)} AND ts <= ${p(3)}
     AND (channel LIKE 'Paid %' OR channel IN ('Display', 'Cross-network'))
   GROUP BY source, medium, click_id_type`
export const QUALITY_REJECTED_SQL = (p: (i: number) => string) =>
  `SELECT code, count(*) AS n FROM rejected_events WHERE site_id = ${p(1)} AND received_at >= ${p(2)} AND received_at <= ${p(3)}
   GROUP BY code ORDER BY n DESC, code`
// A day's count is in the range when its day starts in it or the range starts within that day.
export const QUALITY_DROPPED_SQL = (p: (i: number) => string) =>
  `SELECT reason, sum(count) AS n FROM dropped_events WHERE site_id = ${p(1)} AND day + 86400000 > ${p(2)} AND day <= ${p(3)}
   GROUP BY reason`
export const COUNT_DROPPED_SQL = (p: (i: number) => string) =>
  `INSERT INTO dropped_events (site_id, day, reason, count) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
   ON CONFLICT (site_id, day, reason) DO UPDATE SET count = dropped_events.count + excluded.count`
export const utcDayStart = (t: number): number => Math.floor(t / 86_400_000) * 86_400_000
export const QUALITY_MIN_TS = -8.64e15
export const QUALITY_MAX_TS = 8.64e15

export function qualityFromRows(touchRows: Row[], rejectedRows: Row[], droppedRows: Row[]): QualityStats {
  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as QualityStats['dropped']
  for (const r of droppedRows) if ((DROP_REASONS as readonly string[]).includes(String(r.reason))) dropped[String(r.reason) as DropReason] = Number(r.n)
  let paidTouches = 0
  let completePaid = 0
  const untaggedPaid: QualityStats['untaggedPaid'] = []
  for (const r of touchRows) {
    const n = Number(r.n)
    const complete = Number(r.complete)
    paidTouches += n
    completePaid += complete
    if (n > complete) untaggedPaid.push({ source: String(r.source), medium: String(r.medium), clickIdType: str(r.click_id_type), touches: n - complete })
  }
  untaggedPaid.sort((a, b) => b.touches - a.touches || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
  return {
    paidTouches,
    completePaid,
    untaggedPaid: untaggedPaid.slice(0, 50),
    rejected: rejectedRows.map((r) => ({ code: String(r.code), count: Number(r.n) })),
    dropped,
  }
}

/** A deal's `leads` in a report journey (attribution JourneyDeal.leads): the primary, then the other known people (once each); undefined when there are none. */
export function dealLeads(primary: string, others: readonly string[]): string[] | undefined {
  if (others.length === 0) return undefined
  const out = [primary]
  for (const o of others) if (!out.includes(o)) out.push(o)
  return out.length > 1 ? out : undefined
}
