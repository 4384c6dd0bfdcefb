// The markov solve is pluggable (EngineOptions.solver) and its cost is known before solving:
// chainCost from the strongly connected blocks, and a solver plugged in reaches every engine a
// report builds (drill-down roots, KPIs) with the same figures as the default.
import { describe, expect, it } from 'vitest'
import { drillDown } from '../../../src/reports/drill-down.js'
import { AttributionError, buildKpis, buildReport, chainCost, compileJourneys, checkSolvable, MAX_BLOCK, removalEffects, type ChainSolver, type Journey } from '../../../src/attribution/index.js'
import { chainOf, cycle } from './chains.js'
import { journey, rng, touch } from './helpers.js'

/** Random journeys through `keys` campaigns (cycles likely), half of them won. */
function campaignJourneys(seed: number, people: number, keys: number): Journey[] {
  const r = rng(seed)
  return Array.from({ length: people }, (_, p) => {
    const len = 1 + Math.floor(r() * 8)
    const touches = Array.from({ length: len }, (_, k) => touch(`google/cpc/c${Math.floor(r() * keys)}`, k))
    return journey(`j${p}`, touches, r() < 0.5 ? { lead: len, won: len + 1, amount: 100 + Math.floor(r() * 900) } : { lead: len })
  })
}

describe('chainCost', () => {
  it('is one unit per state and transition on a chain without cycles', () => {
    const c = chainOf(4, [[0, 1, 0.5], [1, 2, 0.5], [2, 3, 0.5], [0, 3, 0.2]])
    expect(chainCost(c)).toEqual({ units: 4 + 4, largestBlock: 1 })
  })

  it('adds m³ per strongly connected block of m > 1 states', () => {
    // Blocks {0,1,2} and {3,4,5,6}, joined by 2 → 3; 7 alone.
    const edges: Array<[number, number, number]> = [[0, 1, 0.3], [1, 2, 0.3], [2, 0, 0.3], [2, 3, 0.3], [3, 4, 0.3], [4, 5, 0.3], [5, 6, 0.3], [6, 3, 0.3], [6, 7, 0.3]]
    const c = chainOf(8, edges)
    expect(chainCost(c)).toEqual({ units: 27 + 64 + 8 + edges.length, largestBlock: 4 })
    expect(chainCost(cycle(300)).units).toBe(300 ** 3 + 300 + 300)
  })

  it('refuses a block beyond MAX_BLOCK before solving anything', () => {
    const big = cycle(MAX_BLOCK + 1)
    const cost = chainCost(big)
    expect(cost.largestBlock).toBe(MAX_BLOCK + 1)
    expect(() => checkSolvable(cost)).toThrow(AttributionError)
    const t = performance.now()
    expect(() => removalEffects(big)).toThrow(/4001 states form one cycle/)
    // The dense factorisation of 4,001 states would take a minute; the refusal is immediate.
    expect(performance.now() - t).toBeLessThan(500)
    expect(() => checkSolvable(chainCost(cycle(MAX_BLOCK)))).not.toThrow()
  })
})

describe('a pluggable chain solver', () => {
  const journeys = campaignJourneys(7, 300, 40)

  it('gives the same credits as the default solve, and is the solve used', () => {
    const calls: number[] = []
    const recording: ChainSolver = (chain) => { calls.push(chain.n); return removalEffects(chain) }
    const plain = buildReport({ journeys, model: 'markov', by: 'campaign' })
    const plugged = buildReport({ journeys, model: 'markov', by: 'campaign', solver: recording })
    expect(plugged.rows).toEqual(plain.rows)
    // The won conversions and the leads: one chain each.
    expect(calls.length).toBe(2)
    expect(calls.every((n) => n > 30)).toBe(true)
    // A different answer changes the figures: nothing else solved the chain.
    const uniform: ChainSolver = (chain) => ({ conversion: 1, effects: new Float64Array(chain.n).fill(1) })
    expect(buildReport({ journeys, model: 'markov', by: 'campaign', solver: uniform }).rows).not.toEqual(plain.rows)
  })

  it('reaches the root engine of a drill-down and the KPIs', () => {
    const calls: number[] = []
    const recording: ChainSolver = (chain) => { calls.push(chain.n); return removalEffects(chain) }
    const table = compileJourneys(journeys)
    // Campaign c3 drilled down to its sources: markov credits the campaign chain, then splits c3's share.
    const drill = drillDown(table, [['campaign', 'c3']])
    const plain = buildReport({ journeys: table, model: 'markov', by: 'source', drill })
    const plugged = buildReport({ journeys: table, model: 'markov', by: 'source', drill, solver: recording })
    expect(plugged.rows).toEqual(plain.rows)
    expect(calls.some((n) => n > 30)).toBe(true)

    calls.length = 0
    const rows = [{ key: 'c3', spend: 1000 }]
    const plainKpis = buildKpis({ journeys: table, accounts: table, model: 'markov', by: 'campaign', rows })
    const pluggedKpis = buildKpis({ journeys: table, accounts: table, model: 'markov', by: 'campaign', rows, solver: recording })
    expect(pluggedKpis).toEqual(plainKpis)
    expect(pluggedKpis.ltvToCac.c3).toBeGreaterThan(0)
    expect(calls.length).toBe(1)
  })
})
