// Writing one batch of events in PostgreSQL inside the current group-commit transaction: a fixed
// number of set-based statements (unnest arrays) however large the batch, so a 100k-event import
// is a handful of round trips. Named statements: each connection parses and plans them once.

import type { PoolClient } from 'pg'
import { firstTouchTs, jsonOrNull, type Row } from '../rows.js'
import type { IngestEvent, IngestResult } from '../types.js'
import { byKey } from './contention.js'

const SEP = '\u0000'

export async function ingestPg(c: PoolClient, all: readonly IngestEvent[]): Promise<IngestResult> {
  const outcome: IngestResult['outcome'] = new Array(all.length)
  // Suppressed events first, in this transaction (one query for the whole batch).
  const sites: string[] = []
  const hashes: string[] = []
  for (const e of all) for (const h of e.suppression ?? []) { sites.push(e.siteId); hashes.push(h) }
  const blocked = new Set<string>()
  if (hashes.length > 0) {
    const r = await c.query<Row>(
      { name: 'pg_ingest_suppressed', text: `SELECT s.site_id, s.hash FROM suppressions s JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS x(site, hash)
       ON s.site_id = x.site AND s.hash = x.hash`,
      values: [sites, hashes] },
    )
    for (const row of r.rows) blocked.add(`${row.site_id}${SEP}${row.hash}`)
  }
  const kept: number[] = []
  for (let i = 0; i < all.length; i++) {
    const e = all[i]
    if (blocked.size > 0 && e.suppression?.some((h) => blocked.has(e.siteId + SEP + h))) outcome[i] = 'suppressed'
    else kept.push(i)
  }
  // Inserted in primary-key order, the same in every process: two collectors writing the same
  // retried events wait for each other instead of deadlocking. The sort is stable, so of repeats
  // in one batch the first sent is still the one stored.
  const keyOf = (e: IngestEvent) => e.siteId + SEP + e.visitorId + SEP + e.id
  const index = kept.sort((a, b) => byKey(keyOf(all[a]), keyOf(all[b])) || a - b)
  const events = index.map((i) => all[i])
  const inserted = await c.query<Row>(
    { name: 'pg_ingest_events', text: `INSERT INTO events (site_id, id, type, ts, received_at, visitor_id, session_id, url, ref, title, name, props, traits)
     SELECT s, i, ty, ts, ra, v, se, u, r, ti, n, p::jsonb, tr::jsonb
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[],
                 $9::text[], $10::text[], $11::text[], $12::text[], $13::text[]) AS x(s, i, ty, ts, ra, v, se, u, r, ti, n, p, tr)
     ON CONFLICT DO NOTHING RETURNING site_id, visitor_id, id`,
    values: [
      events.map((e) => e.siteId), events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.ts),
      events.map((e) => e.receivedAt), events.map((e) => e.visitorId), events.map((e) => e.sessionId),
      events.map((e) => e.url ?? null), events.map((e) => e.ref ?? null), events.map((e) => e.title ?? null),
      events.map((e) => e.name ?? null), events.map((e) => jsonOrNull(e.props)), events.map((e) => jsonOrNull(e.traits)),
    ] },
  )
  const fresh = new Set(inserted.rows.map((r) => `${r.site_id}${SEP}${r.visitor_id}${SEP}${r.id}`))
  for (let k = 0; k < events.length; k++) {
    // Only the first occurrence of a fresh key is the stored one; a repeat in the same batch is a duplicate.
    outcome[index[k]] = fresh.delete(keyOf(events[k])) ? 'accepted' : 'duplicate'
  }
  // In the order sent again: of a lead's new touches, the first sent becomes its original source.
  const accepted = all.filter((_, i) => outcome[i] === 'accepted')
  if (accepted.length > 0) await writeTouches(c, accepted)
  const suppressed = all.length - events.length
  return { accepted: accepted.length, duplicates: events.length - accepted.length, suppressed, outcome }
}

async function writeTouches(c: PoolClient, events: IngestEvent[]): Promise<void> {
  const withTouch = events.filter((e) => e.touch)
  if (withTouch.length === 0) return
  const col = <T>(f: (e: IngestEvent) => T): T[] => withTouch.map(f)
  await c.query(
    { name: 'pg_ingest_touches', text: `INSERT INTO touches (site_id, id, visitor_id, session_id, ts, source, medium, campaign, term, content, utm_id,
       source_platform, creative_format, marketing_tactic, click_id, click_id_type, referrer, landing, channel, fbp)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[],
       $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
       $18::text[], $19::text[], $20::text[])
     ON CONFLICT DO NOTHING`,
    values: [
      col((e) => e.siteId), col((e) => e.id), col((e) => e.visitorId), col((e) => e.sessionId), col((e) => e.ts),
      col((e) => e.touch!.source), col((e) => e.touch!.medium), col((e) => e.touch!.campaign ?? null),
      col((e) => e.touch!.term ?? null), col((e) => e.touch!.content ?? null), col((e) => e.touch!.id ?? null),
      col((e) => e.touch!.source_platform ?? null), col((e) => e.touch!.creative_format ?? null),
      col((e) => e.touch!.marketing_tactic ?? null), col((e) => e.touch!.click_id ?? null),
      col((e) => e.touch!.click_id_type ?? null), col((e) => e.touch!.referrer ?? null), col((e) => e.touch!.landing ?? null),
      col((e) => e.touch!.channel), col((e) => e.touch!.fbp ?? null),
    ] },
  )
  await settleOriginalSources(c, withTouch)
}

/** Same rule as the SQLite store (see ../sqlite/ingest.ts), applied set-wise. */
async function settleOriginalSources(c: PoolClient, touches: IngestEvent[]): Promise<void> {
  const links = await c.query<Row>(
    { name: 'pg_ingest_links', text: `SELECT lv.site_id, lv.visitor_id, l.id, l.first_touch_id, l.first_touch_ts
     FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS x(s, v)
     JOIN lead_visitors lv ON lv.site_id = x.s AND lv.visitor_id = x.v
     JOIN leads l ON l.id = lv.lead_id`,
    values: [touches.map((e) => e.siteId), touches.map((e) => e.visitorId)] },
  )
  if (links.rows.length === 0) return
  const byVisitor = new Map<string, string[]>()
  const leads = new Map<string, { before: string | null; id: string | null; ts: number | null }>()
  for (const r of links.rows) {
    const key = `${r.site_id}${SEP}${r.visitor_id}`
    byVisitor.set(key, [...(byVisitor.get(key) ?? []), String(r.id)])
    const current = r.first_touch_id == null ? null : String(r.first_touch_id)
    leads.set(String(r.id), { before: current, id: current, ts: firstTouchTs(r) })
  }
  for (const e of touches) {
    for (const leadId of byVisitor.get(e.siteId + SEP + e.visitorId) ?? []) {
      const lead = leads.get(leadId)!
      if (lead.id === null || (e.imported === true && lead.ts !== null && e.ts < lead.ts)) {
        lead.id = e.id
        lead.ts = e.ts
      }
    }
  }
  const changed = [...leads].filter(([, l]) => l.id !== l.before)
  if (changed.length === 0) return
  // Guarded by the value read: if another process set the source meanwhile, theirs stands. The
  // rows are locked in id order first (the CTE), so two processes never take them in opposite orders.
  changed.sort(([a], [b]) => byKey(a, b))
  await c.query(
    { name: 'pg_ingest_sources', text: `WITH locked AS (SELECT id FROM leads WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE)
     UPDATE leads SET first_touch_id = x.tid, first_touch_ts = x.ts
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS x(lead_id, tid, ts, before), locked
     WHERE locked.id = x.lead_id AND leads.id = x.lead_id AND leads.first_touch_id IS NOT DISTINCT FROM x.before`,
    values: [changed.map(([id]) => id), changed.map(([, l]) => l.id), changed.map(([, l]) => l.ts), changed.map(([, l]) => l.before)] },
  )
}
