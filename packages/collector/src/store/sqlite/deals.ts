// Deals for SQLite: upsert with stage history, linking pending deals when their person is
// identified, reading a lead's deals, and erasing a person's deals. Writes run inside the store's
// group-commit transaction.

import type { Deal, DealMatch, DealStageEntry, DealWrite, DealWriteResult } from '../../outcomes/types.js'
import { numOrNull as num, type Row } from '../rows.js'
import type { Prepared } from './statements.js'
import { placeDealPeopleSync, type AccountStatements } from './accounts.js'
import type { IdentityKey, Stage } from '../types.js'

export const DEAL_SQL = {
  leadExists: 'SELECT 1 FROM leads WHERE id = ? AND site_id = ?',
  identityLead: 'SELECT lead_id FROM lead_identities WHERE site_id = ? AND kind = ? AND hash = ?',
  deal: 'SELECT * FROM deals WHERE site_id = ? AND id = ?',
  insertDeal: `INSERT INTO deals (site_id, id, lead_id, email_hash, external_hash, stage, stage_ts, amount, original_amount, original_currency, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  updateDeal: `UPDATE deals SET lead_id = ?, email_hash = ?, external_hash = ?, stage = ?, stage_ts = ?, amount = ?,
            original_amount = ?, original_currency = ?, updated_at = ? WHERE site_id = ? AND id = ?`,
  /** The history entry in force at a time: the latest at or before it. */
  stageAt: `SELECT stage, amount FROM deal_stages WHERE site_id = ? AND deal_id = ? AND ts <= ?
     ORDER BY ts DESC, id DESC LIMIT 1`,
  insertStage: 'INSERT INTO deal_stages (site_id, deal_id, stage, crm_stage, ts, amount, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  linkByEmail: 'UPDATE deals SET lead_id = ?, updated_at = ? WHERE site_id = ? AND lead_id IS NULL AND email_hash = ?',
  linkByExternal: 'UPDATE deals SET lead_id = ?, updated_at = ? WHERE site_id = ? AND lead_id IS NULL AND external_hash = ?',
  dealsOfLead: 'SELECT * FROM deals WHERE site_id = ? AND lead_id = ? ORDER BY created_at, id',
  // Erasure: the person's deals, linked or still waiting for them by key hash, with their history.
  dealIdsOfLead: 'SELECT id FROM deals WHERE site_id = ? AND lead_id = ?',
  pendingByEmail: 'SELECT id FROM deals WHERE site_id = ? AND lead_id IS NULL AND email_hash = ?',
  pendingByExternal: 'SELECT id FROM deals WHERE site_id = ? AND lead_id IS NULL AND external_hash = ?',
  deleteDeal: 'DELETE FROM deals WHERE site_id = ? AND id = ?',
  deleteStages: 'DELETE FROM deal_stages WHERE site_id = ? AND deal_id = ?',
  stagesOfDeal: 'SELECT stage, crm_stage, ts, amount FROM deal_stages WHERE site_id = ? AND deal_id = ? ORDER BY ts, id',
  // A deal's people beyond its primary (migration 6).
  deleteContacts: 'DELETE FROM deal_leads WHERE site_id = ? AND deal_id = ?',
  insertContact: 'INSERT INTO deal_leads (site_id, deal_id, position, lead_id, email_hash, external_hash) VALUES (?, ?, ?, ?, ?, ?)',
  contactPendingByEmail: 'SELECT 1 FROM deal_leads WHERE site_id = ? AND lead_id IS NULL AND email_hash = ? LIMIT 1',
  contactPendingByExternal: 'SELECT 1 FROM deal_leads WHERE site_id = ? AND lead_id IS NULL AND external_hash = ? LIMIT 1',
  linkContactByEmail: 'UPDATE deal_leads SET lead_id = ? WHERE site_id = ? AND lead_id IS NULL AND email_hash = ? RETURNING deal_id',
  linkContactByExternal: 'UPDATE deal_leads SET lead_id = ? WHERE site_id = ? AND lead_id IS NULL AND external_hash = ? RETURNING deal_id',
  eraseContactsOfLead: 'DELETE FROM deal_leads WHERE site_id = ? AND lead_id = ?',
  eraseContactsByEmail: 'DELETE FROM deal_leads WHERE site_id = ? AND lead_id IS NULL AND email_hash = ?',
  eraseContactsByExternal: 'DELETE FROM deal_leads WHERE site_id = ? AND lead_id IS NULL AND external_hash = ?',
} as const

export type DealStatements = Prepared<typeof DEAL_SQL>

function keyHash(keys: readonly IdentityKey[], kind: IdentityKey['kind']): string | null {
  return keys.find((k) => k.kind === kind)?.hash ?? null
}

/** The lead a match names: its leadId (undefined when the site has no such lead), else its keys' lead, else null (pending). */
function resolve(s: DealStatements, siteId: string, m: DealMatch): string | null | undefined {
  if (m.leadId !== null) return s.leadExists.get(m.leadId, siteId) ? m.leadId : undefined
  for (const kind of ['email', 'external'] as const) {
    const hash = keyHash(m.keys, kind)
    const row = hash === null ? undefined : (s.identityLead.get(siteId, kind, hash) as Row | undefined)
    if (row) return String(row.lead_id)
  }
  return null
}

function upsertDeal(s: DealStatements & AccountStatements, siteId: string, w: DealWrite, now: number, placed?: (leadIds: string[]) => void): DealWriteResult {
  const leadId = resolve(s, siteId, w.match)
  const contacts = w.contacts?.map((m) => resolve(s, siteId, m))
  if (leadId === undefined || contacts?.includes(undefined)) {
    return { dealId: w.dealId, leadId: null, stage: w.stage, changed: false, unknownLead: true }
  }
  if (w.company) {
    const known = [leadId, ...(contacts ?? [])].filter((l): l is string => typeof l === 'string')
    const conflict = placeDealPeopleSync(s, siteId, w.company, known, now, true)
    if (conflict !== null) return { dealId: w.dealId, leadId: null, stage: w.stage, changed: false, accountConflict: conflict }
    placeDealPeopleSync(s, siteId, w.company, known, now, false)
    placed?.(known)
  }
  const pending = leadId === null ? [0] : []
  if (w.contacts && contacts) {
    s.deleteContacts.run(siteId, w.dealId)
    w.contacts.forEach((m, i) => {
      const lead = contacts[i] as string | null
      if (lead === null) pending.push(i + 1)
      s.insertContact.run(siteId, w.dealId, i + 1, lead, keyHash(m.keys, 'email'), keyHash(m.keys, 'external'))
    })
  }
  const emailHash = keyHash(w.match.keys, 'email')
  const externalHash = keyHash(w.match.keys, 'external')
  // A repeat of the stage (and amount) in force at that time is a retry or a no-op, not history.
  const prev = s.stageAt.get(siteId, w.dealId, w.ts) as Row | undefined
  const changed = !prev || prev.stage !== w.stage || (w.amount !== null && num(prev.amount) !== w.amount)
  if (changed) s.insertStage.run(siteId, w.dealId, w.stage, w.crmStage, w.ts, w.amount, now)

  const row = s.deal.get(siteId, w.dealId) as Row | undefined
  if (!row) {
    s.insertDeal.run(siteId, w.dealId, leadId, emailHash, externalHash, w.stage, w.ts, w.amount, w.originalAmount, w.originalCurrency, now, now)
    return { dealId: w.dealId, leadId, stage: w.stage, changed, pending }
  }
  // An explicit leadId re-points the deal; a key match only fills a missing link.
  const nextLead = w.match.leadId ?? (row.lead_id == null ? leadId : String(row.lead_id))
  const newer = w.ts >= Number(row.stage_ts)
  const stage = newer ? w.stage : (String(row.stage) as Stage)
  const stageTs = newer ? w.ts : Number(row.stage_ts)
  const takeAmount = w.amount !== null && newer
  s.updateDeal.run(
    nextLead, emailHash ?? row.email_hash ?? null, externalHash ?? row.external_hash ?? null, stage, stageTs,
    takeAmount ? w.amount : num(row.amount), takeAmount ? w.originalAmount : num(row.original_amount),
    takeAmount ? w.originalCurrency : (row.original_currency ?? null), now, siteId, w.dealId,
  )
  return { dealId: w.dealId, leadId: nextLead, stage, changed, pending: nextLead === null ? pending : pending.filter((p) => p !== 0) }
}

/** `placed` hears the leads a deal's company placed in its account (their report journeys change). */
export function upsertDealsSync(s: DealStatements & AccountStatements, siteId: string, deals: readonly DealWrite[], now: number, placed?: (leadIds: string[]) => void): DealWriteResult[] {
  return deals.map((w) => upsertDeal(s, siteId, w, now, placed))
}

/** Links pending deals (and deals' pending other people) to the lead; `contactOf` hears each deal whose other person it became. */
export function linkPendingDealsSync(s: DealStatements, siteId: string, leadId: string, keys: readonly IdentityKey[], now: number, contactOf?: (dealId: string) => void): number {
  let n = 0
  for (const k of keys) {
    const rows = k.kind === 'email' && s.contactPendingByEmail.get(siteId, k.hash) !== undefined
      ? s.linkContactByEmail.all(leadId, siteId, k.hash)
      : k.kind === 'external' && s.contactPendingByExternal.get(siteId, k.hash) !== undefined ? s.linkContactByExternal.all(leadId, siteId, k.hash) : []
    for (const r of rows as Row[]) contactOf?.(String(r.deal_id))
  }
  // Nearly every identify has no deal waiting: the read touches only the small partial index,
  // where the UPDATE would open the deals table and all of its indexes.
  for (const k of keys) {
    if (k.kind === 'email' && s.pendingByEmail.get(siteId, k.hash) !== undefined) n += s.linkByEmail.run(leadId, now, siteId, k.hash).changes
    else if (k.kind === 'external' && s.pendingByExternal.get(siteId, k.hash) !== undefined) n += s.linkByExternal.run(leadId, now, siteId, k.hash).changes
  }
  return n
}

export function getDealsSync(s: DealStatements, siteId: string, leadId: string): Deal[] {
  return (s.dealsOfLead.all(siteId, leadId) as Row[]).map((r) => dealFromRowSync(s, siteId, r))
}

/** A stored deal with its stage history. */
export function dealFromRowSync(s: DealStatements, siteId: string, r: Row): Deal {
  return {
    dealId: String(r.id),
    leadId: r.lead_id == null ? null : String(r.lead_id),
    stage: String(r.stage) as Stage,
    amount: num(r.amount),
    originalAmount: num(r.original_amount),
    originalCurrency: r.original_currency == null ? null : String(r.original_currency),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    history: (s.stagesOfDeal.all(siteId, r.id) as Row[]).map((h): DealStageEntry => ({
      stage: String(h.stage) as Stage, crmStage: String(h.crm_stage), ts: Number(h.ts), amount: num(h.amount),
    })),
  }
}

/** Deletes the deals of these leads and the pending deals waiting for these key hashes. */
export function eraseDealsSync(s: DealStatements, siteId: string, leadIds: readonly string[], emailHash?: string, externalHash?: string): number {
  const ids = new Set<string>()
  for (const leadId of leadIds) for (const r of s.dealIdsOfLead.all(siteId, leadId) as Row[]) ids.add(String(r.id))
  if (emailHash) for (const r of s.pendingByEmail.all(siteId, emailHash) as Row[]) ids.add(String(r.id))
  if (externalHash) for (const r of s.pendingByExternal.all(siteId, externalHash) as Row[]) ids.add(String(r.id))
  for (const leadId of leadIds) s.eraseContactsOfLead.run(siteId, leadId)
  if (emailHash) s.eraseContactsByEmail.run(siteId, emailHash)
  if (externalHash) s.eraseContactsByExternal.run(siteId, externalHash)
  for (const id of ids) {
    s.deleteStages.run(siteId, id)
    s.deleteContacts.run(siteId, id)
    s.deleteDeal.run(siteId, id)
  }
  return ids.size
}
