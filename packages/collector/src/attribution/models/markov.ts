// First-order Markov chain attribution (Anderl, Becker, von Wangenheim & Schumann 2016,
// "Mapping the customer journey: Lessons learned from graph-based online attribution modeling").
// States are the report's `by` keys; each path (converting paths, and the paths of journeys that
// did not convert in the window) becomes start → k1 → … → conversion | null with consecutive
// repeats collapsed. Removal effects come from an exact solve of the absorbing chain
// (absorbing.ts, or the solver the caller plugged in), are normalised to shares, and the shares distribute the attributed conversions
// and their revenue.
import type { AbsorbingChain } from './absorbing.js'
import type { PathSet, RangeSet } from '../paths.js'
import type { Model } from './model.js'

/**
 * Transition counts between key ids, plus START (as a source), CONV and NULL (as targets).
 * Dense (a typed array) when the key space is small, the usual case (channels, sources);
 * a map keyed by from·width + to otherwise (hundreds of campaigns, thousands of landings).
 */
export class Counts {
  readonly width: number
  readonly start: number
  readonly conv: number
  readonly null: number
  private readonly dense: Float64Array | null
  private readonly sparse: Map<number, number> | null
  constructor(readonly nKeys: number) {
    this.width = nKeys + 2
    this.start = nKeys
    this.conv = nKeys
    this.null = nKeys + 1
    const cells = (nKeys + 1) * this.width
    this.dense = cells <= 1 << 20 ? new Float64Array(cells) : null
    this.sparse = this.dense ? null : new Map()
  }
  add(from: number, to: number): void {
    const cell = from * this.width + to
    if (this.dense) this.dense[cell]++
    else (this.sparse as Map<number, number>).set(cell, ((this.sparse as Map<number, number>).get(cell) ?? 0) + 1)
  }
  /** Calls fn(from, to, count) for every non-zero cell. */
  forEach(fn: (from: number, to: number, count: number) => void): void {
    if (this.dense) {
      const d = this.dense
      for (let cell = 0; cell < d.length; cell++) if (d[cell] > 0) fn(Math.floor(cell / this.width), cell % this.width, d[cell])
    } else {
      for (const [cell, v] of this.sparse as Map<number, number>) fn(Math.floor(cell / this.width), cell % this.width, v)
    }
  }
}

function walk(paths: RangeSet, keys: Int32Array, direct: Uint8Array, end: number, counts: Counts): void {
  for (let c = 0; c < paths.count; c++) {
    if (paths.length[c] === 0) continue
    const keep = paths.keepDirect[c]
    let prev = counts.start
    for (let i = paths.start[c], e = paths.end[c]; i < e; i++) {
      if (direct[i] > keep) continue
      const k = keys[i]
      if (k === prev) continue
      counts.add(prev, k)
      prev = k
    }
    counts.add(prev, end)
  }
}

/** Builds the absorbing chain over the states (key ids) that occur; `stateKey` maps back. */
export function buildChain(counts: Counts): { chain: AbsorbingChain; stateKey: Int32Array } {
  const { nKeys, start: START, conv: CONV } = counts
  const stateOf = new Int32Array(nKeys).fill(-1)
  const stateKeyList: number[] = []
  const outTotal = new Float64Array(nKeys + 1)
  const edges: number[] = []
  counts.forEach((from, to, v) => {
    outTotal[from] += v
    edges.push(from, to, v)
    for (const k of [from, to]) if (k < nKeys && stateOf[k] < 0) { stateOf[k] = stateKeyList.length; stateKeyList.push(k) }
  })
  const n = stateKeyList.length
  const rows: Array<Array<[number, number]>> = Array.from({ length: n }, () => [])
  const toConversion = new Float64Array(n)
  const start = new Float64Array(n)
  for (let e = 0; e < edges.length; e += 3) {
    const from = edges[e], to = edges[e + 1], v = edges[e + 2]
    const p = v / outTotal[from]
    if (from === START) start[stateOf[to]] = p
    else if (to === CONV) toConversion[stateOf[from]] = p
    else if (to < nKeys) rows[stateOf[from]].push([stateOf[to], p])
  }
  const rowPtr = new Int32Array(n + 1)
  const col: number[] = []
  const prob: number[] = []
  for (let s = 0; s < n; s++) {
    rowPtr[s] = col.length
    for (const [t, p] of rows[s]) { col.push(t); prob.push(p) }
  }
  rowPtr[n] = col.length
  return {
    chain: { n, rowPtr, col: Int32Array.from(col), prob: Float64Array.from(prob), toConversion, start },
    stateKey: Int32Array.from(stateKeyList),
  }
}

export function markovCounts(paths: PathSet, nonConverting: RangeSet, keys: Int32Array, nKeys: number, direct: Uint8Array): Counts {
  const counts = new Counts(nKeys)
  walk(paths, keys, direct, counts.conv, counts)
  walk(nonConverting, keys, direct, counts.null, counts)
  return counts
}

export const markov: Model = ({ paths, keys, nKeys, direct, nonConverting, solve }, out) => {
  let conversions = 0
  let revenue = 0
  for (let c = 0; c < paths.count; c++) {
    if (paths.length[c] === 0) continue
    conversions++
    revenue += paths.revenue[c]
  }
  if (conversions === 0) return
  const { chain, stateKey } = buildChain(markovCounts(paths, nonConverting(), keys, nKeys, direct))
  const { effects } = solve(chain)
  let sum = 0
  for (let s = 0; s < effects.length; s++) sum += effects[s]
  for (let s = 0; s < effects.length; s++) {
    const share = effects[s] / sum
    out.conversions[stateKey[s]] += share * conversions
    out.revenue[stateKey[s]] += share * revenue
  }
}
