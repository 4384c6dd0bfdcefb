// Markov removal effects: published worked examples, and the exact one-factorisation solve
// checked against a naive "remove the state, re-solve the whole chain" on random chains.
import { describe, expect, it } from 'vitest'
import { buildModelsComparison, buildReport, removalEffects, type AbsorbingChain, type Journey } from '../../../src/attribution/index.js'
import { components } from '../../../src/attribution/models/absorbing.js'
import { expectShares, journey, rng, shares, touch } from './helpers.js'

/** Journeys whose won paths are the given source sequences; `null: true` ones never convert. */
function fromPaths(paths: Array<{ path: string[]; converts: boolean; amount?: number }>): Journey[] {
  return paths.map(({ path, converts, amount }, i) =>
    journey(`p${i}`, path.map((s, k) => touch(`${s}/cpc`, k)), converts ? { lead: 0, won: path.length, amount: amount ?? 100 } : {}),
  )
}

describe('published worked examples', () => {
  // Serhii Puzyrov, "Markov Chain Attribution – Simple Explanation Of Removal Effect" (2019),
  // https://serhiipuzyrov.com/2019/07/markov-chain-attribution-simple-explanation-of-removal-effect/
  // Paths: google ads ×2 → conv, mailing → conv, google ads > mailing → conv, google ads → null.
  // Transition table of the article: start→google 0.8, start→mailing 0.2, google→conv 0.5,
  // google→mailing 0.25, google→null 0.25, mailing→conv 1. P(conv) = 0.8; without google 0.2
  // (removal effect 0.75); without mailing 0.4 (0.5). 4 conversions → 2.4 and 1.6.
  const puzyrov = fromPaths([
    { path: ['google'], converts: true },
    { path: ['google'], converts: true },
    { path: ['mailing'], converts: true },
    { path: ['google', 'mailing'], converts: true },
    { path: ['google'], converts: false },
  ])

  it('Puzyrov: transition probabilities and removal effects', () => {
    const chain: AbsorbingChain = {
      n: 2,
      rowPtr: Int32Array.of(0, 1, 1),
      col: Int32Array.of(1),
      prob: Float64Array.of(0.25),
      toConversion: Float64Array.of(0.5, 1),
      start: Float64Array.of(0.8, 0.2),
    }
    const { conversion, effects } = removalEffects(chain)
    expect(conversion).toBeCloseTo(0.8, 14)
    expect(effects[0]).toBeCloseTo(0.75, 14)
    expect(effects[1]).toBeCloseTo(0.5, 14)
  })

  it('Puzyrov: attributed conversions 2.4 / 1.6 from journeys', () => {
    expectShares(shares(puzyrov, 'markov'), { google: 2.4, mailing: 1.6 })
  })

  // Sergey Bryl, "Marketing Multi-Channel Attribution model with R (part 1: Markov chains concept)",
  // analyzecore.com, 2016, http://analyzecore.com/2016/08/03/attribution-model-r-part-1/
  // Paths C1 → C2 → C3 → conv, C1 → null, C2 → C3 → null. P(conv) = 1/3; removal effects
  // C1 0.5, C2 1, C3 1; the one conversion splits 0.2 / 0.4 / 0.4.
  const bryl = fromPaths([
    { path: ['c1', 'c2', 'c3'], converts: true },
    { path: ['c1'], converts: false },
    { path: ['c2', 'c3'], converts: false },
  ])
  it('Bryl: 0.2 / 0.4 / 0.4', () => {
    expectShares(shares(bryl, 'markov'), { c1: 0.2, c2: 0.4, c3: 0.4 })
  })

  it('revenue is distributed with the same shares', () => {
    const withRevenue = fromPaths([
      { path: ['c1', 'c2', 'c3'], converts: true, amount: 1000 },
      { path: ['c1'], converts: false },
      { path: ['c2', 'c3'], converts: false },
    ])
    const r = buildReport({ journeys: withRevenue, model: 'markov', by: 'source' })
    const rev = Object.fromEntries(r.rows.map((row) => [row.key, row.revenue]))
    expectShares(rev, { c1: 200, c2: 400, c3: 400 }, 9)
  })
})

describe('chain construction', () => {
  it('consecutive repeats collapse: google→google→mailing behaves as google→mailing', () => {
    const a = fromPaths([{ path: ['google', 'google', 'mailing'], converts: true }, { path: ['google', 'google'], converts: false }, { path: ['mailing'], converts: true }])
    const b = fromPaths([{ path: ['google', 'mailing'], converts: true }, { path: ['google'], converts: false }, { path: ['mailing'], converts: true }])
    expectShares(shares(a, 'markov'), shares(b, 'markov'))
  })

  it('non-converting journeys enter the chain; ones outside the window do not', () => {
    // a→b→conv, b→conv: removal effects a 0.5, b 1 → 2/3 and 4/3 of 2 conversions.
    const base = fromPaths([{ path: ['a', 'b'], converts: true }, { path: ['b'], converts: true }])
    expectShares(shares(base, 'markov'), { a: 2 / 3, b: 4 / 3 })
    // plus b→null: start a 1/3, b 2/3; b→conv 2/3; P = 2/3; without a 4/9 (effect 1/3), without b 0 (1).
    const withNull = [...base, journey('n', [touch('b/cpc', 1)])]
    expectShares(shares(withNull, 'markov'), { a: 0.5, b: 1.5 })
    // A non-converting touch older than from − lookback is outside every path of the window.
    const stale = [...base, journey('n', [touch('b/cpc', -400)])]
    expectShares(shares(stale, 'markov', { from: Date.UTC(2026, 0, 1) }), { a: 2 / 3, b: 4 / 3 })
  })
})

/** Naive reference: dense Gaussian elimination of the whole chain with state r made a dead end. */
function naiveConversion(chain: AbsorbingChain, removed: number): number {
  const n = chain.n
  const a: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === j ? 1 : 0)))
  for (let i = 0; i < n; i++) {
    if (i === removed) continue
    for (let e = chain.rowPtr[i]; e < chain.rowPtr[i + 1]; e++) a[i][chain.col[e]] -= chain.prob[e]
    a[i][n] = chain.toConversion[i]
  }
  for (let k = 0; k < n; k++) {
    let p = k
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i][k]) > Math.abs(a[p][k])) p = i
    ;[a[k], a[p]] = [a[p], a[k]]
    for (let i = 0; i < n; i++) {
      if (i === k) continue
      const f = a[i][k] / a[k][k]
      for (let j = k; j <= n; j++) a[i][j] -= f * a[k][j]
    }
  }
  let p = 0
  for (let i = 0; i < n; i++) p += chain.start[i] * (a[i][n] / a[i][i])
  return p
}

function randomChain(n: number, seed: number, density: number): AbsorbingChain {
  const r = rng(seed)
  const rowPtr = new Int32Array(n + 1)
  const col: number[] = []
  const prob: number[] = []
  const toConversion = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    rowPtr[i] = col.length
    const targets: number[] = []
    for (let j = 0; j < n; j++) if (j !== i && r() < density) targets.push(j)
    const weights = targets.map(() => r())
    const conv = r() * 0.5
    const nul = 0.05 + r() * 0.5
    const total = weights.reduce((x, y) => x + y, 0) + conv + nul
    targets.forEach((t, k) => { col.push(t); prob.push(weights[k] / total) })
    toConversion[i] = conv / total
  }
  rowPtr[n] = col.length
  const s = Array.from({ length: n }, () => r())
  const S = s.reduce((x, y) => x + y, 0)
  return { n, rowPtr, col: Int32Array.from(col), prob: Float64Array.from(prob), toConversion, start: Float64Array.from(s.map((v) => v / S)) }
}

describe('exact solve', () => {
  for (const [n, density, seed] of [[6, 0.5, 1], [25, 0.2, 2], [40, 0.05, 3], [60, 0.02, 4]] as const) {
    it(`matches a naive per-removal dense solve (${n} states, density ${density})`, () => {
      const chain = randomChain(n, seed, density)
      const { conversion, effects } = removalEffects(chain)
      const base = naiveConversion(chain, -1)
      expect(conversion).toBeCloseTo(base, 12)
      for (let r = 0; r < n; r++) expect(effects[r]).toBeCloseTo(1 - naiveConversion(chain, r) / base, 10)
    })
  }

  it('finds strongly connected components (a cycle and two singletons)', () => {
    // 0 → 1 → 2 → 1, 2 → 3
    const comps = components(4, Int32Array.of(0, 1, 2, 4, 4), Int32Array.of(1, 2, 1, 3))
    expect(comps.map((c) => [...c].sort())).toEqual([[3], [1, 2], [0]])
  })

  it('stays fast with hundreds of states (by=campaign, 400 campaigns, cyclic paths)', () => {
    const r = rng(7)
    const js: Journey[] = []
    for (let i = 0; i < 20_000; i++) {
      const len = 1 + Math.floor(r() * 8)
      const ts = Array.from({ length: len }, (_, k) => touch(`google/cpc/camp${Math.floor(Math.pow(r(), 2) * 400)}`, k))
      js.push(journey(`j${i}`, ts, r() < 0.3 ? { lead: len, won: len + 1, amount: 10 } : {}))
    }
    // CPU time, not wall-clock: the check must not fail because other work shares the machine.
    // A per-removal dense solve would be ~400⁴ operations; the single factorisation is ~400³.
    const cpu0 = process.cpuUsage()
    const report = buildReport({ journeys: js, model: 'markov', by: 'campaign' })
    const cpu = process.cpuUsage(cpu0)
    const ms = (cpu.user + cpu.system) / 1000
    const states = report.rows.filter((row) => row.conversions > 0).length
    expect(states).toBeGreaterThan(300)
    expect(report.rows.reduce((s, row) => s + row.conversions, 0)).toBeCloseTo(report.totals.conversions, 8)
    expect(ms).toBeLessThan(5000)
  })

  it('the sparse transition store (large key spaces) gives the dense store’s result', () => {
    const js = fromPaths([
      { path: ['a', 'b', 'c'], converts: true },
      { path: ['b', 'a'], converts: true },
      { path: ['c'], converts: false },
      { path: ['a', 'c', 'b', 'a'], converts: true },
    ]).map((j) => ({ ...j, touches: j.touches.map((t) => ({ ...t, landing: t.source })) }))
    // 1,200 more landing keys, on touches far outside every path: only the key space grows.
    const padding = Array.from({ length: 1200 }, (_, i) => journey(`pad${i}`, [touch('x/cpc', -1000, { landing: `pad-${i}` })]))
    const opts = { model: 'markov' as const, by: 'landing' as const, from: Date.UTC(2026, 0, 1) }
    const dense = shares(js, 'markov', opts)
    expectShares(shares([...js, ...padding], 'markov', opts), dense, 12)
    expect(Object.keys(dense).sort()).toEqual(['a', 'b', 'c'])
  })

  it('comparison: markov credits sum to the conversions', () => {
    const js = fromPaths([{ path: ['a', 'b', 'a', 'c'], converts: true }, { path: ['b', 'c'], converts: false }, { path: ['c', 'a'], converts: true }])
    const cmp = buildModelsComparison({ journeys: js, by: 'source' })
    expect(cmp.rows.reduce((s, r) => s + r.models.markov.conversions, 0)).toBeCloseTo(2, 12)
  })
})
