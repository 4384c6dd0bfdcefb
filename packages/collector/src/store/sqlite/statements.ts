// The SQL statements of the SQLite store, prepared once after migrations (STYLE: never prepare
// per call). Grouped by concern; the modules that use them take this object. Deals, spend and the
// report load keep their SQL beside their code (outcome-statements.ts prepares it).

import { DELETE_OLD_EVENTS, DELETE_OLD_REJECTED, DELETE_OLD_TOUCHES } from '../retention-sql.js'
import type Database from 'better-sqlite3'
import { COUNT_DROPPED_SQL, QUALITY_DROPPED_SQL, QUALITY_REJECTED_SQL, QUALITY_TOUCHES_SQL, TOUCH_COLUMNS } from '../rows.js'

export type Db = Database.Database
// An interface (not an alias) so declaration emit can name it in the inferred return types below.
export interface Stmt extends Database.Statement<unknown[], unknown> {}

/** The statements of a record of SQL texts, under the same names. */
export type Prepared<T extends Record<string, string>> = { [K in keyof T]: Stmt }

export function prepareAll<T extends Record<string, string>>(db: Db, sql: T): Prepared<T> {
  const out = {} as Record<string, Stmt>
  for (const [name, text] of Object.entries(sql)) out[name] = db.prepare(text)
  return out as Prepared<T>
}

// Journey queries say CROSS JOIN on purpose: it makes SQLite start from the lead's few visitor
// links. Left to itself the planner may walk all of the site's touches in time order to avoid a sort,
// which on 1M touches turned a sub-millisecond identify into hundreds of milliseconds.
export function prepareStatements(db: Db) {
  const p = (sql: string): Stmt => db.prepare(sql)
  return {
    tx: {
      begin: p('BEGIN IMMEDIATE'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      savepoint: p('SAVEPOINT job'),
      release: p('RELEASE job'),
      rollbackTo: p('ROLLBACK TO job'),
    },
    sites: {
      insert: p(
        `INSERT INTO sites (id, name, public_key, origins, cookie_domain, currency, settings, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertKey: p('INSERT INTO site_keys (key_id, site_id, secret_hash, created_at) VALUES (?, ?, ?, ?)'),
      byId: p('SELECT * FROM sites WHERE id = ?'),
      byName: p('SELECT * FROM sites WHERE name = ?'),
      byPublicKey: p('SELECT * FROM sites WHERE public_key = ?'),
      byKeyId: p(
        `SELECT s.*, k.secret_hash AS secret_hash FROM site_keys k JOIN sites s ON s.id = k.site_id
         WHERE k.key_id = ?`,
      ),
      list: p('SELECT * FROM sites ORDER BY created_at, name'),
      update: p('UPDATE sites SET name = ?, origins = ?, cookie_domain = ?, currency = ?, settings = ? WHERE id = ?'),
    },
    ingest: {
      insertEvent: p(
        `INSERT INTO events (site_id, id, type, ts, received_at, visitor_id, session_id, url, ref, title, name, props, traits)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      insertTouch: p(
        `INSERT INTO touches (${TOUCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      insertRejected: p('INSERT INTO rejected_events (site_id, received_at, code, payload) VALUES (?, ?, ?, ?)'),
      listRejected: p('SELECT * FROM rejected_events WHERE site_id = ? ORDER BY received_at DESC, id DESC LIMIT ?'),
      qualityTouches: p(QUALITY_TOUCHES_SQL(() => '?')),
      qualityRejected: p(QUALITY_REJECTED_SQL(() => '?')),
      qualityDropped: p(QUALITY_DROPPED_SQL(() => '?')),
      countDropped: p(COUNT_DROPPED_SQL(() => '?')),
      listConflicts: p(
        `SELECT kept_lead_id, other_lead_id, kind, created_at FROM lead_conflicts WHERE site_id = ?
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
    },
    leads: {
      identityLead: p('SELECT lead_id FROM lead_identities WHERE site_id = ? AND kind = ? AND hash = ?'),
      visitorLead: p('SELECT lead_id FROM lead_visitors WHERE site_id = ? AND visitor_id = ? ORDER BY linked_at DESC, lead_id DESC LIMIT 1'),
      insertIdentity: p(
        `INSERT INTO lead_identities (site_id, kind, hash, lead_id, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      insert: p(
        `INSERT INTO leads (id, site_id, created_at, identified_at, email_enc, phone_enc, external_id, traits)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      byId: p('SELECT * FROM leads WHERE id = ? AND site_id = ?'),
      recent: p('SELECT * FROM leads WHERE site_id = ? ORDER BY identified_at DESC, id DESC LIMIT ?'),
      updateFields: p('UPDATE leads SET email_enc = ?, phone_enc = ?, external_id = ?, traits = ? WHERE id = ?'),
      setFirstTouch: p('UPDATE leads SET first_touch_id = ?, first_touch_ts = ? WHERE id = ?'),
      link: p(
        `INSERT INTO lead_visitors (site_id, lead_id, visitor_id, linked_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      visitors: p('SELECT visitor_id FROM lead_visitors WHERE site_id = ? AND lead_id = ? ORDER BY linked_at, visitor_id'),
      ofVisitor: p(
        `SELECT l.id, l.first_touch_id, l.first_touch_ts FROM lead_visitors lv JOIN leads l ON l.id = lv.lead_id
         WHERE lv.site_id = ? AND lv.visitor_id = ?`,
      ),
      touches: p(
        `SELECT t.* FROM lead_visitors lv
         CROSS JOIN touches t ON t.site_id = lv.site_id AND t.visitor_id = lv.visitor_id
         WHERE lv.site_id = ? AND lv.lead_id = ? ORDER BY t.ts, t.id`,
      ),
      earliestTouch: p(
        `SELECT t.id, t.ts FROM lead_visitors lv
         CROSS JOIN touches t ON t.site_id = lv.site_id AND t.visitor_id = lv.visitor_id
         WHERE lv.site_id = ? AND lv.lead_id = ? ORDER BY t.ts, t.id LIMIT 1`,
      ),
      insertConflict: p(
        `INSERT INTO lead_conflicts (site_id, kept_lead_id, other_lead_id, kind, visitor_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
    },
    privacy: {
      isSuppressed: p('SELECT 1 FROM suppressions WHERE site_id = ? AND hash = ?'),
      suppress: p('INSERT INTO suppressions (site_id, hash, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      eventsOfVisitor: p('SELECT * FROM events WHERE site_id = ? AND visitor_id = ? ORDER BY ts, id'),
      touchesOfVisitor: p('SELECT * FROM touches WHERE site_id = ? AND visitor_id = ? ORDER BY ts, id'),
      deleteTouches: p('DELETE FROM touches WHERE site_id = ? AND visitor_id = ?'),
      deleteEvents: p('DELETE FROM events WHERE site_id = ? AND visitor_id = ?'),
      deleteVisitorLinks: p('DELETE FROM lead_visitors WHERE site_id = ? AND visitor_id = ?'),
      deleteLeadLinks: p('DELETE FROM lead_visitors WHERE site_id = ? AND lead_id = ?'),
      deleteIdentities: p('DELETE FROM lead_identities WHERE lead_id = ?'),
      deleteConflicts: p('DELETE FROM lead_conflicts WHERE site_id = ? AND (kept_lead_id = ? OR other_lead_id = ?)'),
      deleteLead: p('DELETE FROM leads WHERE id = ?'),
      scrubRejected: p('DELETE FROM rejected_events WHERE site_id = ? AND instr(payload, ?) > 0'),
      oldTouches: p(DELETE_OLD_TOUCHES),
      oldEvents: p(DELETE_OLD_EVENTS),
      oldRejected: p(DELETE_OLD_REJECTED),
    },
  }
}

export type Statements = ReturnType<typeof prepareStatements>
