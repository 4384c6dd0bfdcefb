// The contract every model implements: credit each non-empty path's conversion (1) and revenue
// to touch keys. Empty paths are handled by the caller (the unattributed row).

import type { ChainSolver } from './absorbing.js'
import type { PathSet, RangeSet } from '../paths.js'

export interface ModelInput {
  paths: PathSet
  /** Key id of every touch in the table. */
  keys: Int32Array
  /** Key ids are < nKeys. */
  nKeys: number
  direct: Uint8Array
  ts: Float64Array
  halfLifeMs: number
  /** Paths of journeys that did not convert in the window (built only by models that need them). */
  nonConverting: () => RangeSet
  /** Removal effects of an absorbing chain (markov): the exact in-process solve unless the caller plugs in another. */
  solve: ChainSolver
}

/** Per key id: credited conversions and revenue. Models add into it. */
export interface Credit {
  conversions: Float64Array
  revenue: Float64Array
}

export type Model = (input: ModelInput, out: Credit) => void

/** Adds `share` of conversion c to key k. */
export function credit(out: Credit, k: number, share: number, revenue: number): void {
  out.conversions[k] += share
  out.revenue[k] += share * revenue
}
