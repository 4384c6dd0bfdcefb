// Absorbing chains built by hand for the solver tests.
import type { AbsorbingChain } from '../../../src/attribution/index.js'

/** A chain from transient → transient edges [from, to, p]; the rest of each row converts. */
export function chainOf(n: number, edges: Array<[number, number, number]>, start: number[] = [0]): AbsorbingChain {
  const rows: Array<Array<[number, number]>> = Array.from({ length: n }, () => [])
  for (const [f, t, p] of edges) rows[f].push([t, p])
  const rowPtr = new Int32Array(n + 1)
  const col: number[] = []
  const prob: number[] = []
  const toConversion = new Float64Array(n)
  for (let s = 0; s < n; s++) {
    rowPtr[s] = col.length
    let out = 0
    for (const [t, p] of rows[s]) { col.push(t); prob.push(p); out += p }
    toConversion[s] = (1 - out) / 2
  }
  rowPtr[n] = col.length
  const startP = new Float64Array(n)
  for (const s of start) startP[s] = 1 / start.length
  return { n, rowPtr, col: Int32Array.from(col), prob: Float64Array.from(prob), toConversion, start: startP }
}

/** A cycle 0 → 1 → … → m-1 → 0. */
export function cycle(m: number, p = 0.9): AbsorbingChain {
  return chainOf(m, Array.from({ length: m }, (_, i) => [i, (i + 1) % m, p] as [number, number, number]))
}
