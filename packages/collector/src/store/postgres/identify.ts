// Identity stitching for PostgreSQL. Several collector processes may identify the same person at
// once; the unique key on lead_identities decides. When our insert of a key finds it claimed by a
// transaction that committed meanwhile, the attempt is rolled back to a savepoint and retried, and
// the retry links to that lead: one email, one lead.

import { newLeadId } from '../lead-id.js'
import type { PoolClient } from 'pg'
import { byPriority, NO_VISITOR, resolveMatches, type Match } from '../identity-rules.js'
import type { Row } from '../rows.js'
import type { IdentifyInput, IdentifyOutcome } from '../types.js'

const MAX_ATTEMPTS = 4

class IdentityRace extends Error {}

export async function identifyPg(c: PoolClient, input: IdentifyInput, now: number): Promise<IdentifyOutcome> {
  for (let attempt = 1; ; attempt++) {
    await c.query('SAVEPOINT identify')
    try {
      const outcome = await attemptIdentify(c, input, now)
      await c.query('RELEASE SAVEPOINT identify')
      return outcome
    } catch (err) {
      await c.query('ROLLBACK TO SAVEPOINT identify')
      await c.query('RELEASE SAVEPOINT identify')
      if (!(err instanceof IdentityRace) || attempt >= MAX_ATTEMPTS) throw err
    }
  }
}

async function attemptIdentify(c: PoolClient, input: IdentifyInput, now: number): Promise<IdentifyOutcome> {
  const { siteId } = input
  const visitorId = input.visitorId ?? null
  const keys = byPriority(input.keys)
  const found = await c.query<Row>(
    'SELECT kind, hash, lead_id FROM lead_identities WHERE site_id = $1 AND hash = ANY($2::text[])',
    [siteId, keys.map((k) => k.hash)],
  )
  const matches: Match[] = []
  for (const key of keys) {
    const row = found.rows.find((r) => r.kind === key.kind && r.hash === key.hash)
    if (row) matches.push({ kind: key.kind, leadId: String(row.lead_id) })
  }
  const { winner, others } = resolveMatches(matches)
  const leadId = winner ?? newLeadId(now)
  if (winner === null) {
    await c.query(
      `INSERT INTO leads (id, site_id, created_at, identified_at, email_enc, phone_enc, external_id, traits)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
      [leadId, siteId, now, input.ts, input.emailEnc ?? null, input.phoneEnc ?? null, input.externalId ?? null, JSON.stringify(input.traits ?? {})],
    )
  } else if (!input.linkOnly) {
    // Merged in SQL, not read-modify-write, so concurrent identifies do not lose each other's traits.
    await c.query(
      `UPDATE leads SET email_enc = COALESCE($2, email_enc), phone_enc = COALESCE($3, phone_enc),
         external_id = COALESCE($4, external_id), traits = traits || $5::jsonb WHERE id = $1`,
      [leadId, input.emailEnc ?? null, input.phoneEnc ?? null, input.externalId ?? null, JSON.stringify(input.traits ?? {})],
    )
  }
  // A browser cannot add keys (a phone, another e-mail) to a lead that exists.
  const missing = winner !== null && input.linkOnly ? [] : keys.filter((k) => !found.rows.some((r) => r.kind === k.kind && r.hash === k.hash))
  if (missing.length > 0) {
    const claimed = await c.query<Row>(
      `INSERT INTO lead_identities (site_id, kind, hash, lead_id, created_at)
       SELECT $1, k, h, $2, $3 FROM unnest($4::text[], $5::text[]) AS x(k, h)
       ON CONFLICT DO NOTHING RETURNING kind`,
      [siteId, leadId, now, missing.map((k) => k.kind), missing.map((k) => k.hash)],
    )
    if (claimed.rows.length < missing.length) throw new IdentityRace('identity key claimed concurrently')
  }
  for (const other of others) {
    await c.query(
      `INSERT INTO lead_conflicts (site_id, kept_lead_id, other_lead_id, kind, visitor_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [siteId, leadId, other.leadId, other.kind, visitorId ?? NO_VISITOR, now],
    )
  }
  if (visitorId !== null) {
    await c.query(
      `INSERT INTO lead_visitors (site_id, lead_id, visitor_id, linked_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [siteId, leadId, visitorId, now],
    )
  }
  // Original source: the earliest touch known now, only if none is set — and not by a browser's
  // identify of an existing lead (linkOnly), whose device must not become the lead's origin.
  if (winner === null || !input.linkOnly) await c.query(
    `UPDATE leads SET (first_touch_id, first_touch_ts) = (
       SELECT t.id, t.ts FROM lead_visitors lv JOIN touches t ON t.site_id = lv.site_id AND t.visitor_id = lv.visitor_id
       WHERE lv.site_id = $2 AND lv.lead_id = $1 ORDER BY t.ts, t.id LIMIT 1)
     WHERE id = $1 AND first_touch_id IS NULL`,
    [leadId, siteId],
  )
  const visitors = await c.query<Row>(
    'SELECT visitor_id FROM lead_visitors WHERE site_id = $1 AND lead_id = $2 ORDER BY linked_at, visitor_id',
    [siteId, leadId],
  )
  const conflict = others.length > 0 ? { keptLeadId: leadId, otherLeadId: others[0].leadId, kind: others[0].kind } : null
  return { leadId, created: winner === null, visitorIds: visitors.rows.map((r) => String(r.visitor_id)), conflict }
}
