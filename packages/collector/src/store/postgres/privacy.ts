// Lead journeys, erasure and export for PostgreSQL. Same rules as ../sqlite/privacy.ts.

import { eraseConversionsPg } from './destinations.js'
import type { Pool, PoolClient } from 'pg'
import { eventFromRow, leadFromRow, touchFromRow, type Row } from '../rows.js'
import type { Erased, LeadJourney, PersonExport, PersonSelector } from '../types.js'

type Queryable = Pool | PoolClient

/** True when any of the hashes is on the site's suppression list. */
export async function anySuppressedPg(db: Queryable, siteId: string, hashes: readonly string[]): Promise<boolean> {
  if (hashes.length === 0) return false
  const r = await db.query('SELECT 1 FROM suppressions WHERE site_id = $1 AND hash = ANY($2::text[]) LIMIT 1', [siteId, hashes])
  return r.rows.length > 0
}

export async function findPersonPg(db: Queryable, siteId: string, who: PersonSelector): Promise<{ leadIds: string[]; visitorIds: string[] }> {
  const kinds: string[] = []
  const hashes: string[] = []
  const add = (kind: string, hash: string | undefined): void => {
    if (hash) { kinds.push(kind); hashes.push(hash) }
  }
  add('email', who.emailHash)
  add('phone', who.phoneHash)
  add('external', who.externalIdHash)
  const leads = await db.query<Row>(
    `SELECT li.lead_id FROM unnest($2::text[], $3::text[]) AS x(k, h)
     JOIN lead_identities li ON li.site_id = $1 AND li.kind = x.k AND li.hash = x.h
     UNION SELECT lead_id FROM lead_visitors WHERE site_id = $1 AND visitor_id = $4`,
    [siteId, kinds, hashes, who.visitorId ?? null],
  )
  const leadIds = leads.rows.map((r) => String(r.lead_id))
  const visitors = await db.query<Row>(
    'SELECT DISTINCT visitor_id FROM lead_visitors WHERE site_id = $1 AND lead_id = ANY($2::text[])',
    [siteId, leadIds],
  )
  const visitorIds = new Set(visitors.rows.map((r) => String(r.visitor_id)))
  if (who.visitorId) visitorIds.add(who.visitorId)
  return { leadIds, visitorIds: [...visitorIds] }
}

export async function journeyPg(db: Queryable, siteId: string, leadId: string): Promise<LeadJourney | null> {
  const lead = await db.query<Row>('SELECT * FROM leads WHERE id = $1 AND site_id = $2', [leadId, siteId])
  if (lead.rows.length === 0) return null
  const visitors = await db.query<Row>(
    'SELECT visitor_id FROM lead_visitors WHERE site_id = $1 AND lead_id = $2 ORDER BY linked_at, visitor_id',
    [siteId, leadId],
  )
  const touches = await db.query<Row>(
    `SELECT t.* FROM lead_visitors lv JOIN touches t ON t.site_id = lv.site_id AND t.visitor_id = lv.visitor_id
     WHERE lv.site_id = $1 AND lv.lead_id = $2 ORDER BY t.ts, t.id`,
    [siteId, leadId],
  )
  return {
    lead: leadFromRow(lead.rows[0]),
    visitorIds: visitors.rows.map((r) => String(r.visitor_id)),
    touches: touches.rows.map(touchFromRow),
  }
}

export async function erasePg(
  c: PoolClient,
  siteId: string,
  who: PersonSelector,
  suppressionHashes: readonly string[],
  now: number,
): Promise<Erased> {
  const { leadIds, visitorIds } = await findPersonPg(c, siteId, who)
  // The person's conversion rows go with them: none is sent after the erasure.
  await eraseConversionsPg(c, siteId, leadIds)
  // The person's deals, linked or still waiting for them by key hash, with their history.
  const deals = await c.query<{ id: string }>(
    `DELETE FROM deals WHERE site_id = $1 AND (lead_id = ANY($2::text[])
       OR (lead_id IS NULL AND (email_hash = $3 OR external_hash = $4))) RETURNING id`,
    [siteId, leadIds, who.emailHash ?? null, who.externalIdHash ?? null],
  )
  await c.query('DELETE FROM deal_stages WHERE site_id = $1 AND deal_id = ANY($2::text[])', [siteId, deals.rows.map((r) => r.id)])
  // Their place among other deals' people, and the other people of the deals deleted.
  await c.query(
    `DELETE FROM deal_leads WHERE site_id = $1 AND (deal_id = ANY($2::text[]) OR lead_id = ANY($3::text[])
       OR (lead_id IS NULL AND (email_hash = $4 OR external_hash = $5)))`,
    [siteId, deals.rows.map((r) => r.id), leadIds, who.emailHash ?? null, who.externalIdHash ?? null],
  )
  const v = [siteId, visitorIds]
  await c.query('DELETE FROM touches WHERE site_id = $1 AND visitor_id = ANY($2::text[])', v)
  // A visitor is its events (the visitors view): one existed if any event did.
  const gone = await c.query<{ events: string; visitors: string }>(
    `WITH deleted AS (DELETE FROM events WHERE site_id = $1 AND visitor_id = ANY($2::text[]) RETURNING visitor_id)
     SELECT count(*) AS events, count(DISTINCT visitor_id) AS visitors FROM deleted`,
    v,
  )
  await c.query('DELETE FROM lead_visitors WHERE site_id = $1 AND (visitor_id = ANY($2::text[]) OR lead_id = ANY($3::text[]))', [siteId, visitorIds, leadIds])
  await c.query('DELETE FROM lead_identities WHERE site_id = $1 AND lead_id = ANY($2::text[])', [siteId, leadIds])
  await c.query('DELETE FROM lead_conflicts WHERE site_id = $1 AND (kept_lead_id = ANY($2::text[]) OR other_lead_id = ANY($2::text[]))', [siteId, leadIds])
  const leads = await c.query('DELETE FROM leads WHERE site_id = $1 AND id = ANY($2::text[])', [siteId, leadIds])
  if ((who.scrubTerms ?? []).length > 0) {
    await c.query(
      'DELETE FROM rejected_events r WHERE r.site_id = $1 AND EXISTS (SELECT 1 FROM unnest($2::text[]) AS t(term) WHERE strpos(r.payload, t.term) > 0)',
      [siteId, [...(who.scrubTerms ?? [])]],
    )
  }
  await c.query(
    `INSERT INTO suppressions (site_id, hash, created_at) SELECT $1, h, $3 FROM unnest($2::text[]) AS x(h) ON CONFLICT DO NOTHING`,
    [siteId, [...suppressionHashes], now],
  )
  return { leads: leads.rowCount ?? 0, visitors: Number(gone.rows[0].visitors), events: Number(gone.rows[0].events), deals: deals.rowCount ?? 0 }
}

export async function exportPg(db: Queryable, siteId: string, who: PersonSelector): Promise<PersonExport> {
  const { leadIds, visitorIds } = await findPersonPg(db, siteId, who)
  const leads: LeadJourney[] = []
  for (const id of leadIds) {
    const j = await journeyPg(db, siteId, id)
    if (j) leads.push(j)
  }
  const events = await db.query<Row>(
    'SELECT * FROM events WHERE site_id = $1 AND visitor_id = ANY($2::text[]) ORDER BY ts, id',
    [siteId, visitorIds],
  )
  const touches = await db.query<Row>(
    'SELECT * FROM touches WHERE site_id = $1 AND visitor_id = ANY($2::text[]) ORDER BY ts, id',
    [siteId, visitorIds],
  )
  return { leads, events: events.rows.map(eventFromRow), touches: touches.rows.map(touchFromRow) }
}
