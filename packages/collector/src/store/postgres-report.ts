// The report's touch table for PostgreSQL, built the way SQLite's report cache builds it
// (touch-log.ts): the site's touches streamed through a cursor into a TouchLog's columns, leads,
// visitor links and deals into LogOutcomes, then buildTouchTable. No touch object is made: at 1M
// touchpoints the journey objects of loadReportDataPg cost seconds and hundreds of MB. Everything
// is read in one REPEATABLE READ snapshot, so touches, links and deals agree with each other.
// Nothing is kept between loads: other collectors write to the same database.

import type pg from 'pg'
import type { JourneyDeal } from '../attribution/types.js'
import type { JourneyOutcome } from '../attribution/table.js'
import type { ReportLoadOptions, ReportTableData } from '../outcome-types.js'
import { landingPage, loadSpendPg, reportDealsPg } from './postgres-loop.js'
import { buildTouchTable, TouchLog, type LogOutcomes } from './touch-log.js'

const MIN_TS = -8.64e15
const MAX_TS = 8.64e15
/** Rows per FETCH: large enough that round trips do not matter, small enough to stay a few MB. */
const FETCH_ROWS = 20_000

export async function loadReportTablePg(pool: pg.Pool, siteId: string, opts: ReportLoadOptions): Promise<ReportTableData> {
  const c = await pool.connect()
  let broken = false
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const range = [siteId, opts.touchesFrom ?? MIN_TS, opts.touchesTo ?? MAX_TS]
    const where = 'FROM touches WHERE site_id = $1 AND ts >= $2 AND ts <= $3'
    const count = Number((await c.query({ text: `SELECT count(*) ${where}`, values: range, rowMode: 'array' })).rows[0][0])
    const extras = opts.extra != null
    const log = new TouchLog(count, extras)
    // Visitor order (the primary key's): a visitor's touches arrive together, and with a bytewise
    // collation the visitor index stays one sorted array (any order is correct, see VisitorIndex).
    await c.query({
      text: `DECLARE report_touches NO SCROLL CURSOR FOR
             SELECT visitor_id, ts, channel, source, medium, campaign${extras ? ', content, term, landing' : ''} ${where} ORDER BY visitor_id`,
      values: range,
    })
    for (;;) {
      const rows = (await c.query({ text: `FETCH ${FETCH_ROWS} FROM report_touches`, rowMode: 'array' })).rows as unknown[][]
      for (const r of rows) {
        if (extras) log.append(r[0] as string, Number(r[1]), r[2] as string, r[3] as string, r[4] as string, r[5] as string | null, r[6] as string | null, r[7] as string | null, landingPage(r[8]))
        else log.append(r[0] as string, Number(r[1]), r[2] as string, r[3] as string, r[4] as string, r[5] as string | null)
      }
      if (rows.length < FETCH_ROWS) break
    }
    await c.query('CLOSE report_touches')
    const outcomes = await loadOutcomesPg(c, siteId, log)
    const spend = await loadSpendPg(c, siteId, opts)
    await c.query('COMMIT')
    const table = buildTouchTable(log, outcomes, opts.touchesFrom ?? -Infinity, opts.touchesTo ?? Infinity, undefined, opts.extra ?? null)
    return { table, spend }
  } catch (err) {
    await c.query('ROLLBACK').catch(() => { broken = true })
    throw err
  } finally {
    c.release(broken)
  }
}

/** Every lead with its deals (pending ones matched by key, as loadReportDataPg does) and visitors. */
async function loadOutcomesPg(c: pg.PoolClient, siteId: string, log: TouchLog): Promise<LogOutcomes> {
  const leads: JourneyOutcome[] = []
  const deals: JourneyDeal[][] = []
  const index = new Map<string, number>()
  for (const r of (await c.query({ text: 'SELECT id, identified_at FROM leads WHERE site_id = $1', values: [siteId], rowMode: 'array' })).rows as unknown[][]) {
    index.set(String(r[0]), leads.length)
    const own: JourneyDeal[] = []
    deals.push(own)
    leads.push({ identifiedAt: Number(r[1]), deals: own })
  }
  for (const [leadId, deal] of await reportDealsPg(c, siteId)) {
    const l = index.get(leadId)
    if (l !== undefined) deals[l].push(deal)
  }
  const visitorsOf: number[][] = new Array(leads.length)
  for (const r of (await c.query({ text: 'SELECT lead_id, visitor_id FROM lead_visitors WHERE site_id = $1', values: [siteId], rowMode: 'array' })).rows as unknown[][]) {
    const l = index.get(String(r[0]))
    if (l === undefined) continue
    const v = log.visitors.id(String(r[1]))
    const held = visitorsOf[l]
    if (held === undefined) visitorsOf[l] = [v]
    else held.push(v)
  }
  for (let l = 0; l < visitorsOf.length; l++) visitorsOf[l] ??= []
  return { leads, visitorsOf }
}
