import { describe, expect, it } from 'vitest'
import { compileJourneys, conversionPaths, findConversions, type Journey } from '../../../src/attribution/index.js'
import { day, direct, journey, touch, wonDeal } from './helpers.js'

function times(js: Journey[], kind: 'lead' | 'sql' | 'opportunity' | 'won', from = -Infinity, to = Infinity): Array<[number, number]> {
  const c = findConversions(compileJourneys(js), kind, from, to)
  return Array.from(c.ts, (t, i) => [(t - day(0)) / 86_400_000, c.revenue[i]])
}

describe('conversions', () => {
  const j: Journey = {
    id: 'j',
    identifiedAt: day(1),
    touches: [touch('google/cpc', 0)],
    deals: [
      wonDeal('sql-then-opp', 10, [['opportunity', 5], ['sql', 3], ['lead', 1]]),
      wonDeal('straight-to-opp', 20, [['opportunity', 6]]),
      wonDeal('straight-to-won', 30, [['won', 7]]),
      wonDeal('lost-then-won', 40, [['opportunity', 2], ['lost', 4], ['won', 9], ['won', 12]]),
      wonDeal('lost', 50, [['sql', 2], ['lost', 3]]),
    ],
  }
  it('lead: the identify time, no revenue; anonymous journeys never convert', () => {
    expect(times([j, { id: 'anon', touches: [touch('google/cpc', 0)] }], 'lead')).toEqual([[1, 0]])
  })
  it('sql: first time a deal reached sql or any later stage; amount as pipeline', () => {
    expect(times([j], 'sql')).toEqual([[3, 10], [6, 20], [7, 30], [2, 40], [2, 50]])
  })
  it('opportunity: first time a deal reached opportunity or won', () => {
    expect(times([j], 'opportunity')).toEqual([[5, 10], [6, 20], [7, 30], [2, 40]])
  })
  it('won: first won, with the deal amount; a lost deal does not convert', () => {
    expect(times([j], 'won')).toEqual([[7, 30], [9, 40]])
  })
  it('from/to select by conversion time, inclusive', () => {
    expect(times([j], 'won', day(8), day(9))).toEqual([[9, 40]])
    expect(times([j], 'sql', day(3), day(6))).toEqual([[3, 10], [6, 20]])
  })
  it('null and non-finite amounts count as 0', () => {
    const k: Journey = { id: 'k', touches: [], deals: [{ dealId: 'x', amount: null, stages: [{ stage: 'won', ts: day(1) }] }] }
    expect(times([k], 'won')).toEqual([[1, 0]])
  })
})

describe('paths and key positions', () => {
  it('lead-creation, opportunity-creation and closed-won touches', () => {
    const js = [journey('j', [touch('a/cpc', 0), touch('b/cpc', 1), direct(1.5), touch('c/cpc', 2), touch('d/cpc', 3), touch('e/cpc', 9)], { lead: 1.5, opp: 2, won: 4 })]
    const table = compileJourneys(js)
    const p = conversionPaths(table, findConversions(table, 'won', -Infinity, Infinity), 90 * 86_400_000)
    const flat = table.lists!.flat()
    const src = (i: number): string | null => (i < 0 ? null : flat[i].source)
    expect(p.length[0]).toBe(4)
    expect([src(p.first[0]), src(p.leadPos[0]), src(p.oppPos[0]), src(p.wonPos[0]), src(p.last[0])]).toEqual(['a', 'b', 'c', 'd', 'd'])
  })
  it('unsorted touches are put in time order', () => {
    const js = [journey('j', [touch('b/cpc', 2), touch('a/cpc', 0)], { lead: 3, won: 4 })]
    const table = compileJourneys(js)
    expect(table.lists![0].map((t) => t.source)).toEqual(['a', 'b'])
    expect(Array.from(table.ts)).toEqual([day(0), day(2)])
  })
  it('touches without a valid time are ignored', () => {
    const js = [journey('j', [touch('a/cpc', 0), { ...touch('b/cpc', 1), ts: Number.NaN }, { ...touch('c/cpc', 1), ts: Infinity }], { lead: 3, won: 4 })]
    const table = compileJourneys(js)
    expect(table.lists![0].map((t) => t.source)).toEqual(['a'])
    expect(table.ts.length).toBe(1)
  })
})
