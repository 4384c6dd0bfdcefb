// Exact removal effects of an absorbing Markov chain (start → transient states → conversion | null).
//
// With A = I − Q (Q: transient→transient probabilities), b the one-step conversion probabilities
// and s the start distribution:
//   x = A⁻¹b        x_r = P(convert | at r)
//   y = A⁻ᵀs        y_r = expected visits to r from start
//   d_r = (A⁻¹)_rr  expected visits to r when starting at r
//   P = s·x         conversion probability
// Removing r (every transition into r goes to null) loses exactly the converting walks that visit
// r: by the strong Markov property P₋ᵣ = P − P(visit r)·x_r with P(visit r) = y_r / d_r, so
//   removal effect_r = 1 − P₋ᵣ/P = y_r·x_r / (d_r·P).
// One factorisation gives every removal effect, instead of one solve per removed state.
//
// The solve is sparse by block triangularisation: the strongly connected components of the
// transition graph (Tarjan) order A block-triangularly, so x is solved component by component
// from the sinks up, y from the sources down, and only each component's own block is factorised
// (dense LU; A is a nonsingular M-matrix, so no pivoting is needed). The diagonal of A⁻¹ on a
// component is the diagonal of its own block's inverse. Cost: Σ m³ over component sizes m plus
// the number of transitions — linear for path-like data, cubic only inside large cycles.

import { AttributionError } from '../errors.js'

export interface AbsorbingChain {
  /** Number of transient states. */
  n: number
  /** Transient → transient transition probabilities, compressed rows. */
  rowPtr: Int32Array
  col: Int32Array
  prob: Float64Array
  /** One-step probability of conversion from each state. */
  toConversion: Float64Array
  /** Probability that a journey starts in each state. */
  start: Float64Array
}

export interface RemovalEffects {
  /** P(conversion) of the chain. */
  conversion: number
  effects: Float64Array
}

/** Largest strongly connected block solved densely (a 4000² block is 128 MB). */
export const MAX_BLOCK = 4000

/** A chain solver: the exact in-process solve (removalEffects) or another that gives the same. */
export type ChainSolver = (chain: AbsorbingChain) => RemovalEffects

export interface ChainCost {
  /**
   * Work units of removalEffects on this chain: m³ per strongly connected block of m > 1 states
   * (its LU and inverse diagonal), plus one per state and per transition. Roughly a nanosecond
   * each on a current x86 core: a 200-state cycle is ~8 ms, 1,500 states ~4 s.
   */
  units: number
  /** States in the largest strongly connected block. */
  largestBlock: number
}

/** What solving the chain exactly will cost, from its strongly connected components (linear time). */
export function chainCost(chain: AbsorbingChain): ChainCost {
  let units = chain.n + chain.col.length
  let largestBlock = 0
  for (const comp of components(chain.n, chain.rowPtr, chain.col)) {
    const m = comp.length
    if (m > 1) units += m * m * m
    if (m > largestBlock) largestBlock = m
  }
  return { units, largestBlock }
}

/** Refuses a chain whose largest block is beyond MAX_BLOCK, before any work. */
export function checkSolvable(cost: ChainCost): void {
  if (cost.largestBlock > MAX_BLOCK) throw new AttributionError('too_complex', `markov: ${cost.largestBlock} states form one cycle; more than ${MAX_BLOCK} cannot be solved exactly — use a coarser "by"`)
}

/** Strongly connected components, iteratively (Tarjan); returned sinks first. */
export function components(n: number, rowPtr: Int32Array, col: Int32Array): number[][] {
  const index = new Int32Array(n).fill(-1)
  const low = new Int32Array(n)
  const onStack = new Uint8Array(n)
  const stack: number[] = []
  const callStack: number[] = []
  const edgePos = new Int32Array(n)
  const out: number[][] = []
  let next = 0
  for (let root = 0; root < n; root++) {
    if (index[root] >= 0) continue
    callStack.push(root)
    index[root] = low[root] = next++
    edgePos[root] = rowPtr[root]
    stack.push(root); onStack[root] = 1
    while (callStack.length > 0) {
      const v = callStack[callStack.length - 1]
      if (edgePos[v] < rowPtr[v + 1]) {
        const w = col[edgePos[v]++]
        if (index[w] < 0) {
          index[w] = low[w] = next++
          edgePos[w] = rowPtr[w]
          stack.push(w); onStack[w] = 1
          callStack.push(w)
        } else if (onStack[w] === 1 && index[w] < low[v]) {
          low[v] = index[w]
        }
        continue
      }
      callStack.pop()
      if (callStack.length > 0) {
        const parent = callStack[callStack.length - 1]
        if (low[v] < low[parent]) low[parent] = low[v]
      }
      if (low[v] === index[v]) {
        const comp: number[] = []
        let w: number
        do { w = stack.pop() as number; onStack[w] = 0; comp.push(w) } while (w !== v)
        out.push(comp)
      }
    }
  }
  return out
}

interface Block {
  members: number[]
  /** LU factors of the block of A (unit lower L below the diagonal, U on and above), row-major. */
  lu: Float64Array | null
}

function factorBlock(chain: AbsorbingChain, members: number[], local: Int32Array, compOf: Int32Array, c: number): Float64Array {
  const m = members.length
  const a = new Float64Array(m * m)
  for (let i = 0; i < m; i++) {
    a[i * m + i] = 1
    const v = members[i]
    for (let e = chain.rowPtr[v]; e < chain.rowPtr[v + 1]; e++) {
      const w = chain.col[e]
      if (compOf[w] === c) a[i * m + local[w]] -= chain.prob[e]
    }
  }
  for (let k = 0; k < m; k++) {
    const pivot = a[k * m + k]
    for (let i = k + 1; i < m; i++) {
      const f = a[i * m + k]
      if (f === 0) continue
      const lik = f / pivot
      a[i * m + k] = lik
      for (let j = k + 1; j < m; j++) a[i * m + j] -= lik * a[k * m + j]
    }
  }
  return a
}

/** Solves (LU) z = rhs in place. */
function solve(lu: Float64Array, m: number, z: Float64Array): void {
  for (let i = 1; i < m; i++) { let s = z[i]; for (let j = 0; j < i; j++) s -= lu[i * m + j] * z[j]; z[i] = s }
  for (let i = m - 1; i >= 0; i--) { let s = z[i]; for (let j = i + 1; j < m; j++) s -= lu[i * m + j] * z[j]; z[i] = s / lu[i * m + i] }
}

/** Solves (LU)ᵀ z = rhs in place. */
function solveTransposed(lu: Float64Array, m: number, z: Float64Array): void {
  for (let i = 0; i < m; i++) { let s = z[i]; for (let j = 0; j < i; j++) s -= lu[j * m + i] * z[j]; z[i] = s / lu[i * m + i] }
  for (let i = m - 1; i >= 0; i--) { let s = z[i]; for (let j = i + 1; j < m; j++) s -= lu[j * m + i] * z[j]; z[i] = s }
}

/** (A⁻¹)_rr for every r of the block: solve A z = e_r and keep z_r. */
function inverseDiagonal(lu: Float64Array, m: number): Float64Array {
  const d = new Float64Array(m)
  const z = new Float64Array(m)
  for (let r = 0; r < m; r++) {
    z.fill(0)
    z[r] = 1
    for (let i = r + 1; i < m; i++) { let s = 0; for (let j = r; j < i; j++) s -= lu[i * m + j] * z[j]; z[i] = s }
    for (let i = m - 1; i >= r; i--) { let s = z[i]; for (let j = i + 1; j < m; j++) s -= lu[i * m + j] * z[j]; z[i] = s / lu[i * m + i] }
    d[r] = z[r]
  }
  return d
}

export function removalEffects(chain: AbsorbingChain): RemovalEffects {
  const { n, rowPtr, col, prob } = chain
  const comps = components(n, rowPtr, col)
  checkSolvable({ units: 0, largestBlock: comps.reduce((max, c) => Math.max(max, c.length), 0) })
  const compOf = new Int32Array(n)
  const local = new Int32Array(n)
  comps.forEach((members, c) => members.forEach((v, i) => { compOf[v] = c; local[v] = i }))

  const x = new Float64Array(n)
  const d = new Float64Array(n)
  const blocks: Block[] = []
  // Sinks first: every transition leaving the block lands on an x already known.
  for (let c = 0; c < comps.length; c++) {
    const members = comps[c]
    const m = members.length
    const rhs = new Float64Array(m)
    for (let i = 0; i < m; i++) {
      const v = members[i]
      let s = chain.toConversion[v]
      for (let e = rowPtr[v]; e < rowPtr[v + 1]; e++) if (compOf[col[e]] !== c) s += prob[e] * x[col[e]]
      rhs[i] = s
    }
    let lu: Float64Array | null = null
    if (m === 1) {
      // No self-loops after collapsing repeats, but tolerate one: A = 1 − q.
      let q = 0
      const v = members[0]
      for (let e = rowPtr[v]; e < rowPtr[v + 1]; e++) if (col[e] === v) q += prob[e]
      x[v] = rhs[0] / (1 - q)
      d[v] = 1 / (1 - q)
      lu = Float64Array.of(1 - q)
    } else {
      lu = factorBlock(chain, members, local, compOf, c)
      solve(lu, m, rhs)
      const dd = inverseDiagonal(lu, m)
      for (let i = 0; i < m; i++) { x[members[i]] = rhs[i]; d[members[i]] = dd[i] }
    }
    blocks.push({ members, lu })
  }

  // Sources first: expected visits flow forward along transitions leaving each block.
  const y = new Float64Array(n)
  const inflow = Float64Array.from(chain.start)
  for (let c = comps.length - 1; c >= 0; c--) {
    const { members, lu } = blocks[c]
    const m = members.length
    const z = new Float64Array(m)
    for (let i = 0; i < m; i++) z[i] = inflow[members[i]]
    solveTransposed(lu as Float64Array, m, z)
    for (let i = 0; i < m; i++) {
      const v = members[i]
      y[v] = z[i]
      for (let e = rowPtr[v]; e < rowPtr[v + 1]; e++) if (compOf[col[e]] !== c) inflow[col[e]] += z[i] * prob[e]
    }
  }

  let conversion = 0
  for (let i = 0; i < n; i++) conversion += chain.start[i] * x[i]
  const effects = new Float64Array(n)
  if (conversion > 0) for (let r = 0; r < n; r++) effects[r] = (y[r] * x[r]) / (d[r] * conversion)
  return { conversion, effects }
}
