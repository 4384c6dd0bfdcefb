// Conversions → paths. A path is the journey's touches at or before the conversion time and no
// older than lookbackDays before it (both ends inclusive). Direct touches are dropped unless the
// path has nothing else. Paths are touch ranges of the table plus a flag, never copied arrays:
// models walk [start, end) and skip direct touches when keepDirect is 0.

import type { ConversionSet } from './conversions.js'
import { freshAlloc, type Alloc, type TouchTable } from './table.js'

/** Touch ranges of the table under the direct rule: what a walk over paths reads. */
export interface RangeSet {
  count: number
  start: Int32Array
  end: Int32Array
  /** 1 when every touch in range is direct, so the direct touches are the path. */
  keepDirect: Uint8Array
  /** Touches on the path after the direct rule; 0 = empty path (unattributed). */
  length: Int32Array
}

export interface PathSet extends RangeSet {
  /** Conversion time (non-converting paths: the window's end). */
  ts: Float64Array
  revenue: Float64Array
  /** Touch indexes of the key positions, -1 when absent. */
  first: Int32Array
  last: Int32Array
  /** Last path touch at or before identify. */
  leadPos: Int32Array
  /** Last path touch at or before the deal first reached sql/opportunity. */
  oppPos: Int32Array
  /** Last path touch before won (won conversions only). */
  wonPos: Int32Array
}

export const DAY_MS = 86_400_000

/** First index in [lo, hi) whose time is ≥ t (times sorted there). */
export function lowerBound(ts: Float64Array, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ts[mid] < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

function upperBound(ts: Float64Array, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ts[mid] <= t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Every field of every path is written by `fill` (ranges, time, revenue) or starts at -1 here. */
function allocate(count: number, alloc: Alloc): PathSet {
  return {
    count,
    start: alloc('start', count, Int32Array),
    end: alloc('end', count, Int32Array),
    keepDirect: alloc('keepDirect', count, Uint8Array),
    length: alloc('length', count, Int32Array),
    ts: alloc('ts', count, Float64Array),
    revenue: alloc('revenue', count, Float64Array),
    first: alloc('first', count, Int32Array).fill(-1),
    last: alloc('last', count, Int32Array).fill(-1),
    leadPos: alloc('leadPos', count, Int32Array).fill(-1),
    oppPos: alloc('oppPos', count, Int32Array).fill(-1),
    wonPos: alloc('wonPos', count, Int32Array).fill(-1),
  }
}

/** Fills range and direct rule of range c over touches [lo, hi); returns keepDirect. */
function fillRange(p: RangeSet, c: number, direct: Uint8Array, lo: number, hi: number): number {
  let nonDirect = 0
  for (let i = lo; i < hi; i++) if (direct[i] === 0) nonDirect++
  const keep = nonDirect === 0 ? 1 : 0
  p.start[c] = lo
  p.end[c] = hi
  p.keepDirect[c] = keep
  p.length[c] = keep ? hi - lo : nonDirect
  return keep
}

/** Fills range, direct rule and key positions of path c over touches [lo, hi). */
function fill(p: PathSet, c: number, table: TouchTable, lo: number, hi: number, leadTs: number, oppTs: number, closes: boolean): void {
  const { ts, direct } = table
  const keep = fillRange(p, c, direct, lo, hi)
  for (let i = lo; i < hi; i++) {
    if (keep === 0 && direct[i] === 1) continue
    if (p.first[c] < 0) p.first[c] = i
    p.last[c] = i
    // NaN comparisons are false, so absent milestones leave the position at -1.
    if (ts[i] <= leadTs) p.leadPos[c] = i
    if (ts[i] <= oppTs) p.oppPos[c] = i
  }
  if (closes) p.wonPos[c] = p.last[c]
}

export function conversionPaths(table: TouchTable, conv: ConversionSet, lookbackMs: number, alloc: Alloc = freshAlloc): PathSet {
  const p = allocate(conv.count, alloc)
  for (let c = 0; c < conv.count; c++) {
    const j = conv.journey[c]
    const t = conv.ts[c]
    const a = table.offsets[j]
    const b = table.offsets[j + 1]
    const lo = lowerBound(table.ts, a, b, t - lookbackMs)
    const hi = upperBound(table.ts, lo, b, t)
    p.ts[c] = t
    p.revenue[c] = conv.revenue[c]
    fill(p, c, table, lo, hi, conv.leadTs[c], conv.oppTs[c], conv.closes[c] === 1)
  }
  return p
}

/**
 * Paths of journeys with no conversion in the window (markov's null paths): their touches in
 * [from − lookback, to], the span any converting path of the window could have used.
 * Journeys with no touch there are left out. Ranges only: at 1M touchpoints most journeys are
 * here, and nothing reads a conversion's time, revenue or key positions of them.
 */
export function nonConvertingPaths(table: TouchTable, conv: ConversionSet, from: number, to: number, lookbackMs: number, alloc: Alloc = freshAlloc): RangeSet {
  const low = from - lookbackMs
  // Two passes (count, then fill) rather than a growing list of bounds.
  const each = (f: (c: number, lo: number, hi: number) => void): number => {
    let c = 0
    // Merged journeys copy stored ones: their touches are on the stored journeys' paths already.
    for (let j = 0, J = table.baseJourneys ?? table.journeys.length; j < J; j++) {
      if (conv.converted[j] === 1) continue
      const a = table.offsets[j]
      const b = table.offsets[j + 1]
      const lo = lowerBound(table.ts, a, b, low)
      const hi = upperBound(table.ts, lo, b, to)
      if (hi > lo) f(c++, lo, hi)
    }
    return c
  }
  const count = each(() => {})
  // fillRange writes every field of every range.
  const p: RangeSet = {
    count, start: alloc('start', count, Int32Array), end: alloc('end', count, Int32Array),
    keepDirect: alloc('keepDirect', count, Uint8Array), length: alloc('length', count, Int32Array),
  }
  each((c, lo, hi) => fillRange(p, c, table.direct, lo, hi))
  return p
}
