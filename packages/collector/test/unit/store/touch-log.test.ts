// TouchLog's columns: dictionary ids in two bytes until a dimension outgrows them, then four,
// with every earlier id kept; and the touch table built from them.
import { randomInt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildKpis } from '../../../src/attribution/kpis.js'
import { journeyTable } from '../../../src/attribution/journeys.js'
import { buildModelsComparison, buildReport } from '../../../src/attribution/report.js'
import type { TouchTable } from '../../../src/attribution/table.js'
import { buildTouchTable, TableBuffers, TouchLog, VisitorIndex, type LogOutcomes } from '../../../src/store/touch-log.js'

describe('TouchLog', () => {
  it('widens a dimension past 65,536 values without changing any id, and the table reads them all', () => {
    const log = new TouchLog()
    const n = 70_000
    for (let i = 0; i < n; i++) log.append(`v${String(i % 5000).padStart(6, '0')}`, 1000 + i, i % 2 ? 'Paid Search' : 'Email', 'google', 'cpc', `c${i}`)
    expect(log.channel.ids).toBeInstanceOf(Uint16Array)
    expect(log.campaign.ids).toBeInstanceOf(Int32Array)
    expect(log.campaign.keys.size).toBe(n)
    for (const i of [0, 1, 65_535, 65_536, 69_999]) expect(log.campaign.keys.keys[log.campaign.ids[i]]).toBe(`c${i}`)
    const table = buildTouchTable(log, { leads: [], visitorsOf: [] }, -Infinity, Infinity)
    expect(table.ts.length).toBe(n)
    const campaign = table.cache.get('campaign')!
    const channel = table.cache.get('channel')!
    // Every touch keeps its own campaign and its channel, in table (visitor, time) order.
    const seen = new Set<string>()
    for (let i = 0; i < n; i++) {
      const c = campaign.keys[campaign.ids[i]]
      seen.add(c)
      const k = Number(c.slice(1))
      expect(table.ts[i]).toBe(1000 + k)
      expect(channel.keys[channel.ids[i]]).toBe(k % 2 ? 'Paid Search' : 'Email')
    }
    expect(seen.size).toBe(n)
  })

  it('holds as many touches as it was sized for without growing its columns', () => {
    const log = new TouchLog(5000)
    const [ts, visitor, channel] = [log.ts, log.visitor, log.channel.ids]
    for (let i = 0; i < 5000; i++) log.append(`v${i % 70}`, i, 'Email', 's', 'm', null)
    expect([log.ts, log.visitor, log.channel.ids]).toEqual([ts, visitor, channel])
    expect(log.ts === ts && log.visitor === visitor && log.channel.ids === channel).toBe(true)
    log.append('v-next', 5000, 'Email', 's', 'm', null)
    expect(log.ts).not.toBe(ts)
    expect(log.ts[5000]).toBe(5000)
    expect(log.ts[4999]).toBe(4999)
  })
})

describe('VisitorIndex', () => {
  const ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'
  // Any draw must pass: the index's answers are checked against a Map, whatever the IDs.
  const rnd = (n: number) => randomInt(n)
  const nanoid = () => Array.from({ length: 21 }, () => ALPHABET[rnd(64)]).join('')

  it('gives every visitor one dense id, in order or not, packable or not', () => {
    const sorted = [...new Set(Array.from({ length: 30_000 }, nanoid))].sort()
    expect(sorted.length).toBeGreaterThan(29_900)
    const odd = ['short', 'x'.repeat(22), 'é'.repeat(21), 'a b'.padEnd(21, 'c'), '', sorted[5].slice(0, 20) + '~']
    const index = new VisitorIndex()
    const reference = new Map<string, number>()
    const see = (v: string) => {
      const id = index.id(v)
      if (!reference.has(v)) {
        expect(id, v).toBe(reference.size)
        reference.set(v, id)
      }
      expect(index.id(v), v).toBe(reference.get(v))
    }
    // A scan's visitors in key order (with a repeat, as the same visitor's next touch), then
    // odd IDs, new ones out of order, and every one again.
    for (let i = 0; i < sorted.length; i++) { see(sorted[i]); if (i % 7 === 0) see(sorted[i]) }
    for (const v of odd) see(v)
    for (let i = 0; i < 2000; i++) see(nanoid())
    for (let i = 0; i < 5000; i++) see(sorted[rnd(sorted.length)])
    for (const v of reference.keys()) expect(index.id(v)).toBe(reference.get(v))
    expect(index.size).toBe(reference.size)
    // Trimmed after a scan, every id stays and later ones still append.
    index.trim(0)
    for (const v of reference.keys()) expect(index.id(v)).toBe(reference.get(v))
    expect(index.id('z'.repeat(21))).toBe(reference.size)
    const packed = new VisitorIndex()
    for (let i = 0; i < 3000; i++) packed.id(sorted[i])
    packed.trim(0)
    expect(packed.id('zzzz'.padEnd(21, 'z'))).toBe(3000)
    expect([packed.id(sorted[0]), packed.id(sorted[2999]), packed.id('zzzz'.padEnd(21, 'z'))]).toEqual([0, 2999, 3000])
  })
})

describe('engine scratch of a table built in TableBuffers', () => {
  const DAY = 86_400_000
  // A small site: visitors with a few touches over 60 days, every third a lead, some with deals.
  function site(seed: number, b2b = false): { log: TouchLog; out: LogOutcomes } {
    let x = seed
    const rnd = (n: number) => { x = (x * 1103515245 + 12345) % 2147483648; return x % n }
    // B2B draws: a second generator (the first's draws stay as they were), its high bits.
    let y = seed + 1
    const hi = (n: number) => { y = (y * 1103515245 + 12345) % 2147483648; return Math.floor(y / 65536) % n }
    const log = new TouchLog()
    const sources = ['google', 'bing', 'newsletter', '(direct)', 'ref.example']
    for (let v = 0; v < 400; v++) {
      for (let t = 0; t < 1 + rnd(4); t++) {
        const src = sources[rnd(sources.length)]
        log.append(`v${String(v).padStart(4, '0')}`, rnd(60) * DAY + t, src === '(direct)' ? 'Direct' : 'Paid Search', src, src === '(direct)' ? '(none)' : 'cpc', rnd(3) ? `c${rnd(4)}` : null)
      }
    }
    const out: LogOutcomes = { leads: [], visitorsOf: [] }
    for (let v = 0; v < 400; v += 3) {
      const at = rnd(60) * DAY + DAY / 2
      // B2B: deals name up to three more leads (some not in the table), a third of the leads have
      // one of five accounts.
      const leads = b2b && hi(2) ? [`l${v}`, ...Array.from({ length: 1 + hi(3) }, () => `l${3 * hi(140)}`)] : undefined
      const deals = (b2b ? hi(3) : rnd(2)) ? [{ dealId: `d${v}`, amount: 100 + rnd(900), leads, stages: [{ stage: 'sql' as const, ts: at + DAY }, ...((b2b ? hi(2) : rnd(2)) ? [{ stage: 'won' as const, ts: at + 5 * DAY }] : [])] }] : []
      out.leads.push({ id: `l${v}`, identifiedAt: at, deals, account: b2b && hi(3) === 0 ? `a${hi(5)}` : null })
      out.visitorsOf.push([log.visitors.id(`v${String(v).padStart(4, '0')}`)])
    }
    return { log, out }
  }
  const queries = [
    { model: 'linear' as const, by: 'source' as const, conversion: 'won' as const },
    { model: 'markov' as const, by: 'channel' as const, conversion: 'won' as const, from: 10 * DAY, to: 40 * DAY },
    { model: 'first_touch' as const, by: 'campaign' as const, conversion: 'sql' as const, lookbackDays: 7 },
    { model: 'w_shaped' as const, by: 'source' as const, conversion: 'lead' as const, from: 5 * DAY, to: 50 * DAY, lookbackDays: 14 },
  ]
  const fresh = (t: TouchTable): TouchTable => ({ ...t, scratch: undefined })

  it('gives every report what a table without scratch gives, across parameters and across tables built in the same buffers', () => {
    const buf = new TableBuffers()
    for (const seed of [3, 7, 11]) {
      const { log, out } = site(seed)
      const table = buildTouchTable(log, out, -Infinity, Infinity, buf)
      expect(table.scratch).toBeDefined()
      // Each query twice (the second from the memo), interleaved with the others, and all models at once.
      for (const q of [...queries, ...queries.slice().reverse()]) {
        expect(buildReport({ ...q, journeys: table }), `${seed} ${q.model}`).toEqual(buildReport({ ...q, journeys: fresh(table) }))
      }
      expect(buildModelsComparison({ ...queries[1], journeys: table })).toEqual(buildModelsComparison({ ...queries[1], journeys: fresh(table) }))
    }
  })

  it('journey=deal and account tables: the same reports and KPIs, kept per table, in the table\'s buffers', () => {
    const buf = new TableBuffers()
    for (const seed of [3, 7, 11]) {
      const { log, out } = site(seed, true)
      const table = buildTouchTable(log, out, -Infinity, Infinity, buf)
      const deal = journeyTable(table, 'deal')
      const account = journeyTable(table, 'account')
      expect(deal.baseJourneys, `${seed}`).toBe(table.journeys.length)
      expect(deal.journeys.length).toBeGreaterThan(table.journeys.length + 10)
      expect(account.journeys.length).toBeGreaterThan(table.journeys.length)
      // Built once per table: a second call hands back the same table.
      expect(journeyTable(table, 'deal')).toBe(deal)
      expect(journeyTable(table, 'account')).toBe(account)
      const reference = { deal: journeyTable(fresh(table), 'deal'), account: journeyTable(fresh(table), 'account') }
      expect(reference.deal.scratch).toBeUndefined()
      // Both merged tables in use at once, each query twice (the second from the memo).
      for (const q of [...queries, ...queries.slice().reverse()]) {
        for (const mode of ['deal', 'account'] as const) {
          const t = mode === 'deal' ? deal : account
          expect(buildReport({ ...q, journeys: t }), `${seed} ${mode} ${q.model}`).toEqual(buildReport({ ...q, journeys: reference[mode] }))
        }
      }
      expect(buildModelsComparison({ ...queries[1], journeys: deal })).toEqual(buildModelsComparison({ ...queries[1], journeys: reference.deal }))
      const kpi = { model: 'linear' as const, by: 'source' as const, rows: [{ key: 'google', spend: 50 }] }
      expect(buildKpis({ ...kpi, journeys: deal, accounts: account })).toEqual(buildKpis({ ...kpi, journeys: reference.deal, accounts: reference.account }))
    }
  })

  it('the first merged table of a table shares its columns once the buffers have room; the second copies them', () => {
    const buf = new TableBuffers()
    const { log, out } = site(7, true)
    for (let build = 0; build < 3; build++) {
      const table = buildTouchTable(log, out, -Infinity, Infinity, buf)
      const deal = journeyTable(table, 'deal')
      const account = journeyTable(table, 'account')
      const n = table.ts.length
      expect(deal.ts.length).toBeGreaterThan(n)
      // The first build had no room: its columns moved to larger arrays, which later builds use.
      expect(deal.ts.buffer === table.ts.buffer, `build ${build}`).toBe(build > 0)
      for (const [dim, col] of table.cache) expect(deal.cache.get(dim)?.ids.buffer === col.ids.buffer, `${build} ${dim}`).toBe(build > 0)
      expect(account.ts.buffer).not.toBe(table.ts.buffer)
      expect(Array.from(deal.ts.subarray(0, n))).toEqual(Array.from(table.ts))
      const reference = { deal: journeyTable(fresh(table), 'deal'), account: journeyTable(fresh(table), 'account') }
      for (const q of queries) {
        for (const mode of ['deal', 'account'] as const) {
          const t = mode === 'deal' ? deal : account
          expect(buildReport({ ...q, journeys: t }), `${build} ${mode} ${q.model}`).toEqual(buildReport({ ...q, journeys: reference[mode] }))
        }
        expect(buildReport({ ...q, journeys: table }), `${build} lead ${q.model}`).toEqual(buildReport({ ...q, journeys: fresh(table) }))
      }
    }
  })

  it('without accounts, journey=account is the journey=deal table', () => {
    const { log, out } = site(5, true)
    for (const l of out.leads) l.account = null
    const table = buildTouchTable(log, out, -Infinity, Infinity, new TableBuffers())
    expect(journeyTable(table, 'account')).toBe(journeyTable(table, 'deal'))
    expect(journeyTable(table, 'deal')).not.toBe(table)
    expect(buildReport({ ...queries[0], journeys: journeyTable(table, 'account') })).toEqual(buildReport({ ...queries[0], journeys: journeyTable(fresh(table), 'account') }))
  })
})
