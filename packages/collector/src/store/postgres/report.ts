// The report's touch table for PostgreSQL, built the way SQLite's report cache builds it
// (touch-log.ts): the site's touches streamed by a binary COPY into a TouchLog's columns, leads,
// visitor links and deals into LogOutcomes, then buildTouchTable. No touch object is made: at 1M
// touchpoints the journey objects of loadReportDataPg cost seconds and hundreds of MB. Everything
// is read in one REPEATABLE READ snapshot, so touches, links and deals agree with each other.
// Nothing is kept between loads: other collectors write to the same database.

import type pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import type { JourneyDeal } from '../../attribution/types.js'
import type { JourneyOutcome } from '../../attribution/table.js'
import type { ReportLoadOptions, ReportTableData } from '../../outcomes/types.js'
import { landingPage } from '../rows.js'
import { loadSpendPg, reportDealsPg } from './report-data.js'
import { copyInt8, copyText, readBinaryCopy } from './copy-binary.js'
import { buildTouchTable, TouchLog, type LogOutcomes } from '../touch-log.js'

const MIN_TS = -8.64e15
const MAX_TS = 8.64e15

/** A bound as an SQL integer literal. */
function int(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`report bound ${v} is not a number`)
  return String(Math.trunc(v))
}

export async function loadReportTablePg(pool: pg.Pool, siteId: string, opts: ReportLoadOptions): Promise<ReportTableData> {
  const c = await pool.connect()
  let broken = false
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    // COPY takes no parameters: the site ID is quoted by the driver, the bounds are integers.
    const bounded = `site_id = ${c.escapeLiteral(siteId)} AND ts >= ${int(opts.touchesFrom ?? MIN_TS)} AND ts <= ${int(opts.touchesTo ?? MAX_TS)}`
    const count = Number((await c.query({ text: `SELECT count(*) FROM touches WHERE ${bounded}`, rowMode: 'array' })).rows[0][0])
    const extras = opts.extra != null
    const log = new TouchLog(count, extras)
    // Heap order, not the primary key's: ORDER BY visitor_id made PostgreSQL walk the index and read
    // heap pages at random, several times slower than the scan. The visitor index takes any order (see VisitorIndex).
    const stream = c.query(copyTo(
      `COPY (SELECT visitor_id, ts, channel, source, medium, campaign${extras ? ', content, term, landing' : ''}
             FROM touches WHERE ${bounded}) TO STDOUT (FORMAT binary)`,
    ))
    await readBinaryCopy(stream, extras ? 9 : 6, (r) => {
      const visitor = copyText(r, 0) as string
      const ts = copyInt8(r, 1)
      const channel = copyText(r, 2) as string
      const source = copyText(r, 3) as string
      const medium = copyText(r, 4) as string
      const campaign = copyText(r, 5)
      if (extras) log.append(visitor, ts, channel, source, medium, campaign, copyText(r, 6), copyText(r, 7), landingPage(copyText(r, 8)))
      else log.append(visitor, ts, channel, source, medium, campaign)
    })
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
  for (const r of (await c.query({ text: 'SELECT id, identified_at, account_id FROM leads WHERE site_id = $1', values: [siteId], rowMode: 'array' })).rows as unknown[][]) {
    index.set(String(r[0]), leads.length)
    const own: JourneyDeal[] = []
    deals.push(own)
    leads.push({ id: String(r[0]), identifiedAt: Number(r[1]), deals: own, account: r[2] == null ? null : String(r[2]) })
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
