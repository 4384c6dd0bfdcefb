// Simplified Shapley (Zhao, Mahboobi & Bagheri 2018, "Shapley Value Methods for Attribution Modeling
// in Online Advertising", arXiv:1804.05327, https://arxiv.org/abs/1804.05327): the closed form used by
// the engine must equal the textbook Shapley value computed over every coalition.
import { describe, expect, it } from 'vitest'
import type { Journey } from '../../../src/attribution/index.js'
import { credits, expectShares, journey, rng, shares, touch } from './helpers.js'

/** Textbook Shapley value: φ_i = Σ_{S ⊆ N∖{i}} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)). */
function bruteForceShapley(players: string[], v: (coalition: Set<string>) => number): Record<string, number> {
  const n = players.length
  const fact = [1]
  for (let i = 1; i <= n; i++) fact.push(fact[i - 1] * i)
  const out: Record<string, number> = {}
  for (const p of players) {
    const others = players.filter((q) => q !== p)
    let phi = 0
    for (let mask = 0; mask < 1 << others.length; mask++) {
      const s = new Set(others.filter((_, k) => mask & (1 << k)))
      const weight = (fact[s.size] * fact[n - s.size - 1]) / fact[n]
      phi += weight * (v(new Set([...s, p])) - v(s))
    }
    out[p] = phi
  }
  return out
}

describe('brute-force Shapley reference', () => {
  it('reproduces the glove game (Wikipedia "Shapley value": two left gloves, one right → 1/6, 1/6, 2/3)', () => {
    const v = (s: Set<string>): number => ((s.has('L1') || s.has('L2')) && s.has('R') ? 1 : 0)
    expectShares(bruteForceShapley(['L1', 'L2', 'R'], v), { L1: 1 / 6, L2: 1 / 6, R: 2 / 3 })
  })
})

/** Journeys from paths of sources; every one converts (won) with the given amount. */
function converting(paths: Array<[string[], number]>): Journey[] {
  return paths.map(([path, amount], i) => journey(`j${i}`, path.map((s, k) => touch(`${s}/cpc`, k)), { lead: 0, won: path.length, amount }))
}

function gameOf(paths: Array<[string[], number]>, field: 'conversions' | 'revenue') {
  return (s: Set<string>): number =>
    paths.reduce((acc, [path, amount]) => (path.every((k) => s.has(k)) ? acc + (field === 'conversions' ? 1 : amount) : acc), 0)
}

describe('simplified Shapley', () => {
  // Zhao et al.'s simplified formula: φ_j = Σ_{S ∋ j} R(S)/|S|, R(S) = conversions whose channel set is exactly S.
  const example: Array<[string[], number]> = [
    [['search'], 100],
    [['search', 'social'], 200],
    [['social', 'search', 'social'], 50],
    [['email', 'search', 'display'], 300],
    [['display'], 10],
    [['email'], 40],
  ]
  it('hand-made example (not from a publication): each conversion split equally over its distinct channels', () => {
    // R({search}) = 1, R({search, social}) = 2, R({email, search, display}) = 1, R({display}) = 1, R({email}) = 1
    const expected = { search: 1 + 2 / 2 + 1 / 3, social: 2 / 2, email: 1 / 3 + 1, display: 1 / 3 + 1 }
    expectShares(shares(converting(example), 'shapley'), expected)
    const players = ['search', 'social', 'email', 'display']
    expectShares(bruteForceShapley(players, gameOf(example, 'conversions')), expected)
  })

  // Published worked example: James Kinley, "Data-Driven Marketing Attribution", Towards Data Science,
  // https://towardsdatascience.com/data-driven-marketing-attribution-1a28d2e613a0, numbers taken from the
  // author's companion notebook https://github.com/jrkinley/game-theory-attribution (game_theory_attribution.ipynb).
  // There, 100 converted opportunities were touched by Facebook, Google and LinkedIn; each coalition's
  // "conversion ratio" is the share of those 100 conversions whose journey touched exactly that set of channels
  // (F .18, G .04, L .08, F+G .10, F+L .26, G+L .07, F+G+L .27), and a coalition's worth is the sum of the ratios
  // of all its sub-coalitions. That is our game (conversions whose path's channel set ⊆ S) divided by 100,
  // so the only transformation is: ratio r of an exact set → 100·r converting journeys touching exactly that set.
  // Reproduced: the seven published worths v(S) (0.18, 0.04, 0.08, 0.32, 0.52, 0.19, 1.00) and the published
  // Shapley values Facebook 0.450, Google 0.215, LinkedIn 0.335, i.e. 45, 21.5 and 33.5 of the 100 conversions.
  it('reproduces the published Facebook/Google/LinkedIn example (Kinley, "Data-Driven Marketing Attribution")', () => {
    const exact: Array<[string[], number]> = [
      [['facebook'], 18],
      [['google'], 4],
      [['linkedin'], 8],
      [['facebook', 'google'], 10],
      [['facebook', 'linkedin'], 26],
      [['google', 'linkedin'], 7],
      [['facebook', 'google', 'linkedin'], 27],
    ]
    const paths: Array<[string[], number]> = exact.flatMap(([set, n]) => Array.from({ length: n }, (): [string[], number] => [set, 1]))
    expect(paths).toHaveLength(100)
    const v = gameOf(paths, 'conversions')
    const publishedWorth: Array<[string[], number]> = [
      [['facebook'], 0.18],
      [['google'], 0.04],
      [['linkedin'], 0.08],
      [['facebook', 'google'], 0.32],
      [['facebook', 'linkedin'], 0.52],
      [['google', 'linkedin'], 0.19],
      [['facebook', 'google', 'linkedin'], 1.0],
    ]
    for (const [s, worth] of publishedWorth) expect(v(new Set(s)) / 100).toBeCloseTo(worth, 12)
    const published = { facebook: 45, google: 21.5, linkedin: 33.5 }
    expectShares(bruteForceShapley(['facebook', 'google', 'linkedin'], v), published)
    expectShares(shares(converting(paths), 'shapley'), published)
  })

  it('equals the brute-force Shapley value on random small games (conversions and revenue)', () => {
    const r = rng(42)
    const channels = ['a', 'b', 'c', 'd', 'e', 'f']
    for (let game = 0; game < 25; game++) {
      const n = 1 + Math.floor(r() * 12)
      const paths: Array<[string[], number]> = Array.from({ length: n }, () => [
        Array.from({ length: 1 + Math.floor(r() * 6) }, () => channels[Math.floor(r() * channels.length)]),
        Math.round(r() * 1000),
      ])
      const players = [...new Set(paths.flatMap(([p]) => p))]
      const c = credits({ journeys: converting(paths), model: 'shapley' })
      const conv = Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.conversions]))
      const rev = Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.revenue]))
      expectShares(conv, bruteForceShapley(players, gameOf(paths, 'conversions')), 9)
      expectShares(rev, bruteForceShapley(players, gameOf(paths, 'revenue')), 7)
    }
  })

  it('ignores order and repetition within a path', () => {
    const a = converting([[['a', 'b', 'a', 'c'], 10]])
    const b = converting([[['c', 'a', 'b'], 10]])
    expectShares(shares(a, 'shapley'), shares(b, 'shapley'))
    expectShares(shares(a, 'shapley'), { a: 1 / 3, b: 1 / 3, c: 1 / 3 })
  })

  it('does not credit a channel outside every path (null player)', () => {
    const js = converting([[['a'], 1]])
    js.push(journey('n', [touch('z/cpc', 0)]))
    expect(shares(js, 'shapley')).toEqual({ a: 1 })
  })
})

describe('keys other than source', () => {
  it('by=campaign counts distinct campaigns', () => {
    const js = [journey('j', [touch('google/cpc/x', 0), touch('facebook/paid_social/x', 1), touch('google/cpc/y', 2)], { lead: 2, won: 3 })]
    expectShares(shares(js, 'shapley', { by: 'campaign' }), { x: 0.5, y: 0.5 })
    expectShares(shares(js, 'linear', { by: 'campaign' }), { x: 2 / 3, y: 1 / 3 })
  })
})
