// The engine: compiled journeys + options → per-key credits for any model and conversion kind.
// One Engine serves several models (the models comparison) so journeys are compiled, keys
// interned and paths cut once.

import { AttributionError } from './errors.js'
import { findConversions, type ConversionSet } from './conversions.js'
import { Interner, keyColumn, PeriodKeys } from './keys.js'
import { removalEffects, type ChainSolver } from './models/absorbing.js'
import { MODEL_FUNCTIONS } from './models/index.js'
import { conversionPaths, DAY_MS, nonConvertingPaths, type PathSet, type RangeSet } from './paths.js'
import { compileJourneys, freshAlloc, type Alloc, type TouchTable } from './table.js'
import {
  CONVERSIONS,
  DEFAULTS,
  DIMENSIONS,
  MODELS,
  OUTSIDE_KEY,
  UNATTRIBUTED_KEY,
  type ConversionKind,
  type Dimension,
  type Journey,
  type ModelName,
} from './types.js'

export interface EngineOptions {
  by: Dimension
  from?: number | null
  to?: number | null
  lookbackDays?: number
  halfLifeDays?: number
  /**
   * Drill-down (touch dimensions only): per touch, 0 when outside the filter. Such touches keep
   * their place in paths but carry the key OUTSIDE_KEY, and empty paths credit no key.
   */
  inside?: Uint8Array
  /**
   * Solves markov's absorbing chains; default removalEffects, in this thread. A caller that must
   * not block (a server) plugs in one that gives the same figures elsewhere (reports/solver.ts).
   */
  solver?: ChainSolver
}

export interface KeyCredits {
  /** Indexed by key id of `engine.keys`; may be shorter than the key space (missing = 0). */
  conversions: Float64Array
  revenue: Float64Array
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new AttributionError('invalid_option', `${name} must be a positive number`)
  return v
}

function bound(name: string, v: number | null | undefined, fallback: number): number {
  if (v === null || v === undefined) return fallback
  if (!Number.isFinite(v)) throw new AttributionError('invalid_option', `${name} must be a finite timestamp`)
  return v
}

export function checkModel(model: string): ModelName {
  if (!(MODELS as readonly string[]).includes(model)) throw new AttributionError('invalid_option', `unknown model "${model}"`)
  return model as ModelName
}

export function checkConversion(kind: string): ConversionKind {
  if (!(CONVERSIONS as readonly string[]).includes(kind)) throw new AttributionError('invalid_option', `unknown conversion "${kind}"`)
  return kind as ConversionKind
}

export class Engine {
  readonly table: TouchTable
  readonly by: Dimension
  readonly from: number
  readonly to: number
  readonly lookbackDays: number
  readonly halfLifeDays: number
  /** Row keys: for touch dimensions the dimension's values, then any extra keys (unattributed, spend). */
  readonly keys: Interner
  /** Key id of every touch (touch dimension: its value; week/month: the period of its own time). */
  readonly touchKeys: Int32Array
  /** Key id of the touches outside a drill-down filter; -1 without one. */
  readonly outside: number
  readonly solver: ChainSolver
  private readonly periods: PeriodKeys | null
  private readonly conversionsByKind = new Map<ConversionKind, ConversionSet>()
  private readonly pathsByKind = new Map<ConversionKind, PathSet>()
  private readonly nullPathsByKind = new Map<ConversionKind, RangeSet>()

  constructor(journeys: readonly Journey[] | TouchTable, opts: EngineOptions) {
    if (!(DIMENSIONS as readonly string[]).includes(opts.by)) throw new AttributionError('invalid_option', `unknown dimension "${String(opts.by)}"`)
    this.table = Array.isArray(journeys) ? compileJourneys(journeys) : (journeys as TouchTable)
    this.by = opts.by
    this.from = bound('from', opts.from, -Infinity)
    this.to = bound('to', opts.to, Infinity)
    if (this.from > this.to) throw new AttributionError('invalid_option', 'from must not be after to')
    this.lookbackDays = positive('lookbackDays', opts.lookbackDays ?? DEFAULTS.lookbackDays)
    this.halfLifeDays = positive('halfLifeDays', opts.halfLifeDays ?? DEFAULTS.halfLifeDays)
    this.solver = opts.solver ?? removalEffects
    const inside = opts.inside
    if (inside && (this.by === 'week' || this.by === 'month')) throw new AttributionError('invalid_option', 'drill-down filters need a touch dimension, not week/month')
    this.outside = -1
    if (this.by === 'week' || this.by === 'month') {
      this.periods = new PeriodKeys(this.by)
      this.keys = this.periods.interner
      const ts = this.table.ts
      this.touchKeys = new Int32Array(ts.length)
      for (let i = 0; i < ts.length; i++) this.touchKeys[i] = this.periods.id(ts[i])
    } else {
      this.periods = null
      const col = keyColumn(this.table, this.by)
      this.keys = new Interner()
      for (const k of col.keys) this.keys.id(k)
      this.touchKeys = col.ids
      if (inside) {
        const out = (this.outside = this.keys.id(OUTSIDE_KEY))
        this.touchKeys = Int32Array.from(col.ids, (id, i) => (inside[i] === 1 ? id : out))
      }
    }
  }

  get lookbackMs(): number {
    return this.lookbackDays * DAY_MS
  }

  conversions(kind: ConversionKind): ConversionSet {
    let c = this.conversionsByKind.get(kind)
    if (!c) {
      c = this.shared(`conversions:${kind}:${this.from}:${this.to}`, (alloc) => findConversions(this.table, kind, this.from, this.to, alloc))
      this.conversionsByKind.set(kind, c)
    }
    return c
  }

  paths(kind: ConversionKind): PathSet {
    let p = this.pathsByKind.get(kind)
    if (!p) {
      const conv = this.conversions(kind)
      p = this.shared(`paths:${kind}:${this.from}:${this.to}:${this.lookbackMs}`, (alloc) => conversionPaths(this.table, conv, this.lookbackMs, alloc))
      this.pathsByKind.set(kind, p)
    }
    return p
  }

  nullPaths(kind: ConversionKind): RangeSet {
    let p = this.nullPathsByKind.get(kind)
    if (!p) {
      const conv = this.conversions(kind)
      p = this.shared(`nullPaths:${kind}:${this.from}:${this.to}:${this.lookbackMs}`, (alloc) => nonConvertingPaths(this.table, conv, this.from, this.to, this.lookbackMs, alloc))
      this.nullPathsByKind.set(kind, p)
    }
    return p
  }

  /**
   * A result that depends only on the table and `key`: computed once per table when the table
   * has scratch memory (and then in its arrays), else computed here in new arrays.
   */
  private shared<T>(key: string, compute: (alloc: Alloc) => T): T {
    const scratch = this.table.scratch
    if (!scratch) return compute(freshAlloc)
    let v = scratch.memo.get(key) as T | undefined
    if (v === undefined) {
      v = compute((field, n, make) => scratch.take(`engine:${key}:${field}`, n, make))
      scratch.memo.set(key, v)
    }
    return v
  }

  /**
   * Credits of one model for one conversion kind. Conversions with an empty path go to
   * `(unattributed)`, except in a drill-down: they belong to no channel, source or campaign.
   */
  credit(model: ModelName, kind: ConversionKind): KeyCredits {
    const paths = this.paths(kind)
    if (this.periods) return this.creditPeriods(paths)
    let unattributed = -1
    if (this.outside < 0) for (let c = 0; c < paths.count; c++) if (paths.length[c] === 0) { unattributed = this.keys.id(UNATTRIBUTED_KEY); break }
    const size = this.keys.size
    const out = { conversions: new Float64Array(size), revenue: new Float64Array(size) }
    MODEL_FUNCTIONS[model](
      {
        paths,
        keys: this.touchKeys,
        nKeys: size,
        direct: this.table.direct,
        ts: this.table.ts,
        halfLifeMs: this.halfLifeDays * DAY_MS,
        nonConverting: () => this.nullPaths(kind),
        solve: this.solver,
      },
      out,
    )
    if (unattributed >= 0) {
      for (let c = 0; c < paths.count; c++) {
        if (paths.length[c] > 0) continue
        out.conversions[unattributed] += 1
        out.revenue[unattributed] += paths.revenue[c]
      }
    }
    return out
  }

  /** week/month describe the conversion, not its touches: every model credits the conversion's own period. */
  private creditPeriods(paths: PathSet): KeyCredits {
    const ids = new Int32Array(paths.count)
    for (let c = 0; c < paths.count; c++) ids[c] = (this.periods as PeriodKeys).id(paths.ts[c])
    const size = this.keys.size
    const out = { conversions: new Float64Array(size), revenue: new Float64Array(size) }
    for (let c = 0; c < paths.count; c++) {
      out.conversions[ids[c]] += 1
      out.revenue[ids[c]] += paths.revenue[c]
    }
    return out
  }

  /** Period key id of a timestamp (week/month reports only). */
  periodId(ts: number): number {
    return (this.periods as PeriodKeys).id(ts)
  }

  get isPeriod(): boolean {
    return this.periods !== null
  }
}
