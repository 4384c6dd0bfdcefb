// Touch scans for SQLite: a site's touches in a time range, in arrival (storage) order, with the
// optional content/term/landing columns; the report cache's TouchLog and loadReportDataSync read
// them, and group by visitor themselves. INDEXED BY: through touches_key (by visitor) the same scan
// would visit the table's pages at random.

import type { TouchExtra } from '../../outcomes/types.js'
import { landingPage } from '../rows.js'
import type { TouchLog } from '../touch-log.js'
import type { Db, Prepared, Stmt } from './statements.js'

export const TOUCH_SQL = {
  touchCount: 'SELECT count(*) AS n FROM touches WHERE site_id = ?',
} as const

export type TouchScanStatements = Prepared<typeof TOUCH_SQL> & { touches: Record<'base' | 'extras' | TouchExtra, Stmt> }

export const MIN_TS = -8.64e15
export const MAX_TS = 8.64e15

function touchScan(db: Db, extra: string): Stmt {
  return db.prepare(`SELECT visitor_id, ts, channel, source, medium, campaign${extra} FROM touches INDEXED BY touches_site WHERE site_id = ? AND ts >= ? AND ts <= ?`).raw(true)
}

const EXTRAS = { base: '', extras: ', content, term, landing', content: ', content', term: ', term', landing: ', landing' } as const

/**
 * The scans as raw rows: without extras, with all three (`extras`), or with one. Each prepared
 * once, on first use: a store opened on a schema before migration 13 (as upgrade tests do) has no
 * touches_site to name yet.
 */
export function prepareTouchScans(db: Db): TouchScanStatements['touches'] {
  const scans = {} as TouchScanStatements['touches']
  for (const [name, extra] of Object.entries(EXTRAS)) {
    let stmt: Stmt | undefined
    Object.defineProperty(scans, name, { enumerable: true, get: () => (stmt ??= touchScan(db, extra)) })
  }
  return scans
}

/** Every touch of the site in [from, to] (at most `limit`) appended to `log`, in arrival order. */
export function scanTouchesSync(s: TouchScanStatements, siteId: string, log: TouchLog, from: number | null, to: number | null, limit = Infinity): void {
  const extras = log.extras !== null
  const rows = (extras ? s.touches.extras : s.touches.base).iterate(siteId, from ?? MIN_TS, to ?? MAX_TS) as Iterable<unknown[]>
  for (const r of rows) {
    if (extras) log.append(r[0] as string, Number(r[1]), r[2] as string, r[3] as string, r[4] as string, r[5] as string | null, r[6] as string | null, r[7] as string | null, landingPage(r[8]))
    else log.append(r[0] as string, Number(r[1]), r[2] as string, r[3] as string, r[4] as string, r[5] as string | null)
    if (log.size >= limit) break
  }
  log.trim()
}
