// Journeys compiled once into flat typed columns so every model runs over arrays of numbers
// instead of touch objects: touches of journey j occupy [offsets[j], offsets[j+1]), oldest first.
// The four fields every report needs (channel, source, medium, campaign) are interned in the same
// pass that reads timestamps, so each touch object is visited once.

import { Interner, type KeyColumn } from './interner.js'
import { AttributionError } from './errors.js'
import { NOT_SET_KEY, type AttributionTouch, type Journey } from './types.js'

/** What the engine reads of a journey besides its touches: when it became a lead, its deals. */
export type JourneyOutcome = Pick<Journey, 'identifiedAt' | 'deals' | 'account'> & {
  /** The lead's ID (multi-lead deals name their leads by it); absent for anonymous visitors. */
  id?: string
  /**
   * Set on a merged journey (attribution/journeys.ts): the journeys whose touches it copies. It
   * carries deals only: no lead conversion, and its touches are not counted again.
   */
  members?: readonly number[]
}

export interface TouchTable {
  journeys: readonly JourneyOutcome[]
  /**
   * Touches of each journey in time order, when the table was compiled from touch objects. A
   * table built straight from storage columns has none: its key columns are all in `cache`.
   */
  lists?: ReadonlyArray<readonly AttributionTouch[]>
  offsets: Int32Array
  ts: Float64Array
  /** 1 when the touch is direct. */
  direct: Uint8Array
  /** Dimension key columns built for this table (channel, source, medium, campaign eagerly). */
  cache: Map<string, KeyColumn>
  /**
   * Memory for the engine's per-table work, when the table's builder keeps some between tables
   * (store/touch-log.ts): conversions and paths are computed once per table and parameters, shared
   * by every engine over it, in arrays the next table's engines take again.
   */
  scratch?: EngineScratch
  /**
   * Journeys [0, baseJourneys) and touches [0, baseTouches) are the stored ones; those after are
   * merged copies (attribution/journeys.ts) that touch counts, spend and markov's non-converting
   * paths skip. Absent: all are stored ones.
   */
  baseJourneys?: number
  baseTouches?: number
}

export type ScratchArray = Int32Array | Float64Array | Uint8Array

export interface EngineScratch {
  /** Results already computed for this table, by a key of what they depend on. */
  memo: Map<string, unknown>
  /** n elements of the array `name` (its contents are whatever was there: fill what you read). */
  take<T extends ScratchArray>(name: string, n: number, make: new (n: number) => T): T
  /**
   * The table's column `col` (ts, direct or a key column's ids) as n ≥ col.length elements whose
   * first col.length are col's, in memory the builder keeps the column in (so later tables start
   * with the room); undefined when col is not one of its columns. Merged journeys
   * (attribution/journeys.ts) append their copies there instead of copying the whole column.
   */
  extend?<T extends ScratchArray>(col: T, n: number): T | undefined
}

/** Allocates a typed array: from the table's scratch when it has one (under `name`), else new. */
export type Alloc = <T extends ScratchArray>(field: string, n: number, make: new (n: number) => T) => T

export const freshAlloc: Alloc = (_field, n, make) => new make(n)

export function isDirect(t: AttributionTouch): boolean {
  if (t.direct !== undefined) return t.direct
  if (t.source !== '(direct)') return false
  const m = t.medium
  return m === '(none)' || m === '(not set)' || m === ''
}

/** True when timestamps are finite and non-decreasing, i.e. the list can be used as is. */
function clean(list: readonly AttributionTouch[]): boolean {
  let prev = -Infinity
  for (let i = 0; i < list.length; i++) {
    const t = list[i].ts
    if (!Number.isFinite(t) || t < prev) return false
    prev = t
  }
  return true
}

/** Interns one string field, reusing the previous id when consecutive touches share the value. */
class ColumnBuilder {
  readonly interner = new Interner()
  readonly ids: Int32Array
  private last: string | null | undefined = undefined
  private lastId = -1
  constructor(n: number) {
    this.ids = new Int32Array(n)
  }
  put(i: number, v: string | null | undefined): void {
    if (v !== this.last || this.lastId < 0) {
      this.last = v
      this.lastId = this.interner.id(v === null || v === undefined || v === '' ? NOT_SET_KEY : v)
    }
    this.ids[i] = this.lastId
  }
  column(): KeyColumn {
    return { ids: this.ids, keys: this.interner.keys }
  }
}

export function compileJourneys(journeys: readonly Journey[]): TouchTable {
  const lists: Array<readonly AttributionTouch[]> = new Array(journeys.length)
  let n = 0
  for (let j = 0; j < journeys.length; j++) {
    let list = journeys[j].touches
    // A touch without a valid time cannot be placed on a path and is ignored. Stable sort keeps
    // input order for equal times; clean input (the usual case) is used as is, not copied.
    if (!clean(list)) list = list.filter((t) => Number.isFinite(t.ts)).sort((a, b) => a.ts - b.ts)
    lists[j] = list
    n += list.length
  }
  const offsets = new Int32Array(journeys.length + 1)
  const ts = new Float64Array(n)
  const direct = new Uint8Array(n)
  const channel = new ColumnBuilder(n), source = new ColumnBuilder(n), medium = new ColumnBuilder(n), campaign = new ColumnBuilder(n)
  let k = 0
  for (let j = 0; j < journeys.length; j++) {
    offsets[j] = k
    const list = lists[j]
    for (let i = 0; i < list.length; i++, k++) {
      const t = list[i]
      ts[k] = t.ts
      direct[k] = isDirect(t) ? 1 : 0
      channel.put(k, t.channel)
      source.put(k, t.source)
      medium.put(k, t.medium)
      campaign.put(k, t.campaign)
    }
  }
  offsets[journeys.length] = k
  const cache = new Map<string, KeyColumn>([
    ['channel', channel.column()],
    ['source', source.column()],
    ['medium', medium.column()],
    ['campaign', campaign.column()],
  ])
  return { journeys, lists, offsets, ts, direct, cache }
}

/** Builds the key column of any other touch field by one more pass over the touches. */
export function fieldColumn(table: TouchTable, get: (t: AttributionTouch) => string | null | undefined): KeyColumn {
  if (!table.lists) throw new AttributionError('internal', 'this touch table has no touch objects to build a key column from')
  const b = new ColumnBuilder(table.ts.length)
  let k = 0
  for (const list of table.lists) for (let i = 0; i < list.length; i++, k++) b.put(k, get(list[i]))
  return b.column()
}
