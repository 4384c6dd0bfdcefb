// Stored touches as columns, and the report's touch table built from them without a single touch
// object. A TouchLog holds what reports group by (visitor, time, channel, source, medium, campaign)
// in typed arrays with dictionary-encoded strings: ~20 bytes a touch, where journey objects took
// ~500. `buildTouchTable` joins it with the site's leads, links and deals into the engine's
// TouchTable (attribution/table.ts) in a few linear passes.

import { Interner, type KeyColumn } from '../attribution/interner.js'
import type { EngineScratch, JourneyOutcome, TouchTable } from '../attribution/table.js'
import { NOT_SET_KEY } from '../attribution/types.js'
import type { TouchExtra } from '../outcomes/types.js'

const TOUCH_DIMS = ['channel', 'source', 'medium', 'campaign'] as const
type TouchDim = (typeof TOUCH_DIMS)[number]

function keyOf(v: string | null | undefined): string {
  return v === null || v === undefined || v === '' ? NOT_SET_KEY : v
}

/**
 * Visitor ID → dense index, in any order. Visitor IDs are 21 characters of the nanoid alphabet:
 * those are packed as bytes, W to an ID at id × W in one growing array, and found through an
 * open-addressing table of ids hashed from the same characters: a JS string per ID in a Map took
 * more memory, all of it on the heap. The order matters for nothing: PostgreSQL's reports read touches in heap order, where
 * sorted packing with a Map for the rest cost a quarter of their load. An ID of another length or
 * with other characters goes to a Map.
 */
export class VisitorIndex {
  private packed = new Uint8Array(W * 1024)
  /** Slot → id + 1 of a packed ID (0: empty). A power of two long, at most half full. */
  private slots = new Int32Array(2048)
  private inSlots = 0
  private next = 0
  private readonly rest = new Map<string, number>()

  id(visitor: string): number {
    const h = packableHash(visitor)
    if (h < 0) {
      let id = this.rest.get(visitor)
      if (id === undefined) this.rest.set(visitor, (id = this.next++))
      return id
    }
    const mask = this.slots.length - 1
    let slot = h & mask
    for (let s = this.slots[slot]; s !== 0; s = this.slots[slot]) {
      if (this.holds(s - 1, visitor)) return s - 1
      slot = (slot + 1) & mask
    }
    const id = this.next++
    if ((id + 1) * W > this.packed.length) {
      const more = new Uint8Array(Math.ceil(this.packed.length * 1.5 / W) * W)
      more.set(this.packed)
      this.packed = more
    }
    for (let k = 0, o = id * W; k < W; k++) this.packed[o + k] = visitor.charCodeAt(k)
    this.slots[slot] = id + 1
    if (++this.inSlots * 2 > this.slots.length) this.rehash(this.slots.length * 2)
    return id
  }

  get size(): number {
    return this.next
  }

  /** Gives back packed room beyond `headroom` (after a scan; growth by 1.5× may leave a third unused). */
  trim(headroom = 0.05): void {
    const want = Math.max(W * 1024, Math.ceil(this.next * (1 + headroom)) * W)
    if (want < this.packed.length) this.packed = this.packed.slice(0, want)
  }

  private holds(id: number, visitor: string): boolean {
    const p = this.packed
    for (let k = 0, o = id * W; k < W; k++) if (p[o + k] !== visitor.charCodeAt(k)) return false
    return true
  }

  private rehash(length: number): void {
    const slots = new Int32Array(length)
    const mask = length - 1
    const p = this.packed
    for (let id = 0; id < this.next; id++) {
      const o = id * W
      // An ID kept in the Map left its bytes zero (or unallocated); no packable character is zero.
      if (o >= p.length || p[o] === 0) continue
      let h = FNV_OFFSET
      for (let k = 0; k < W; k++) h = Math.imul(h ^ p[o + k], FNV_PRIME)
      let slot = (h >>> 0) & mask
      while (slots[slot] !== 0) slot = (slot + 1) & mask
      slots[slot] = id + 1
    }
    this.slots = slots
  }
}

/** Bytes a packed visitor ID takes (the tracker's and the server cookie's IDs). */
const W = 21
const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** FNV-1a of a packable ID's characters (21 of [A-Za-z0-9_-]), as a non-negative int; -1 when not packable. */
function packableHash(v: string): number {
  if (v.length !== W) return -1
  let h = FNV_OFFSET
  for (let k = 0; k < W; k++) {
    const c = v.charCodeAt(k)
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95)) return -1
    h = Math.imul(h ^ c, FNV_PRIME)
  }
  return h >>> 0
}

/**
 * One dimension's key ids, interned as appended: two bytes a touch while the dimension has at
 * most 65,536 values (channel, medium and nearly always source and campaign), four beyond.
 */
class DimColumn {
  readonly keys = new Interner()
  ids: Uint16Array | Int32Array
  constructor(capacity: number) {
    this.ids = new Uint16Array(capacity)
  }
  // The previous touch's raw value: consecutive touches often share it (channel, medium), and
  // then the dictionary is not consulted.
  private last: string | null | undefined = undefined
  private lastId = -1

  put(i: number, v: string | null): void {
    if (v !== this.last || this.lastId < 0) {
      this.last = v
      this.lastId = this.keys.id(keyOf(v))
      if (this.lastId > 0xffff && this.ids instanceof Uint16Array) this.ids = Int32Array.from(this.ids)
    }
    this.ids[i] = this.lastId
  }
}

/** Append-only columns of touches; visitors and dimension values interned to dense ids. */
export class TouchLog {
  size = 0
  readonly visitors = new VisitorIndex()
  visitor: Int32Array
  ts: Float64Array
  // One object per dimension (not a record indexed by name) keeps append's property accesses
  // monomorphic: it runs a million times in a scan.
  readonly channel: DimColumn
  readonly source: DimColumn
  readonly medium: DimColumn
  readonly campaign: DimColumn
  /** content, term and landing, when this log holds them (once a report grouped by one of them). */
  readonly extras: Record<TouchExtra, DimColumn> | null
  private lastVisitor: string | undefined
  private lastVisitorId = -1

  /**
   * `capacity`: touches to hold before the columns grow. A scan that knows its count passes it, so
   * the columns are allocated once instead of growing (each growth leaves the old arrays behind).
   */
  constructor(capacity = 1024, withExtras = false) {
    const n = Math.max(1024, capacity)
    this.extras = withExtras ? { content: new DimColumn(n), term: new DimColumn(n), landing: new DimColumn(n) } : null
    this.visitor = new Int32Array(n)
    this.ts = new Float64Array(n)
    this.channel = new DimColumn(n)
    this.source = new DimColumn(n)
    this.medium = new DimColumn(n)
    this.campaign = new DimColumn(n)
  }

  /** content, term and landing are kept only by a log with extras (else ignored). */
  append(
    visitor: string, ts: number, channel: string, source: string, medium: string, campaign: string | null,
    content: string | null = null, term: string | null = null, landing: string | null = null,
  ): void {
    if (this.size === this.ts.length) this.grow()
    const i = this.size++
    if (visitor !== this.lastVisitor) {
      this.lastVisitor = visitor
      this.lastVisitorId = this.visitors.id(visitor)
    }
    this.visitor[i] = this.lastVisitorId
    this.ts[i] = ts
    this.channel.put(i, channel)
    this.source.put(i, source)
    this.medium.put(i, medium)
    this.campaign.put(i, campaign)
    const x = this.extras
    if (x !== null) {
      x.content.put(i, content)
      x.term.put(i, term)
      x.landing.put(i, landing)
    }
  }

  dim(d: TouchDim): DimColumn {
    return this[d]
  }

  /** Gives back the spare capacity beyond `headroom` (after a scan: room for later appends). */
  trim(headroom = 0.05): void {
    this.resize(Math.max(1024, Math.ceil(this.size * (1 + headroom))))
    this.visitors.trim(headroom)
  }

  private grow(): void {
    this.resize(Math.ceil(this.ts.length * 1.5))
  }

  private resize(cap: number): void {
    if (cap === this.ts.length || cap < this.size) return
    const widen = <T extends Uint16Array | Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap)
      b.set(a.subarray(0, this.size) as T)
      return b
    }
    this.visitor = widen(this.visitor)
    this.ts = widen(this.ts)
    for (const d of TOUCH_DIMS) this[d].ids = widen(this[d].ids)
    if (this.extras !== null) for (const c of Object.values(this.extras)) c.ids = widen(c.ids)
  }
}

/** The site's leads and which visitors are theirs, indexed against one TouchLog's visitors. */
export interface LogOutcomes {
  /** Every lead: its identify time and deals. */
  leads: JourneyOutcome[]
  /** Per lead (same index): its visitors, as visitor indices of the log. A visitor may belong to several leads. */
  visitorsOf: number[][]
}

const ANONYMOUS: JourneyOutcome = Object.freeze({})

/** true when source/medium say "direct" (attribution/table.ts isDirect, on interned keys). */
function directKeys(source: Interner, medium: Interner): { source: Uint8Array; medium: Uint8Array } {
  return {
    source: Uint8Array.from(source.keys, (k) => (k === '(direct)' ? 1 : 0)),
    // '' was interned as NOT_SET_KEY, which is '(not set)'.
    medium: Uint8Array.from(medium.keys, (k) => (k === '(none)' || k === NOT_SET_KEY ? 1 : 0)),
  }
}

type Arrays = Int32Array | Float64Array | Uint8Array

/**
 * The arrays a touch table is built in. A table's columns are views of them, so a store may keep
 * them once the table is released and build the next table in the same memory: a collector that
 * rebuilds its table after every write then allocates nothing per report (otherwise tens of MB
 * per report at 1M touchpoints, which the garbage collector leaves in place for a while).
 */
export class TableBuffers {
  journeys: JourneyOutcome[] = []
  private readonly arrays = new Map<string, Arrays>()
  /** Engine arrays taken since the last table was built in these buffers. */
  private readonly used = new Set<string>()

  /**
   * The engine's scratch for the table being built now (TouchTable.scratch): its conversions and
   * paths go into arrays kept here for the next table. Engine arrays the last table's reports did
   * not use are given up, so the ones kept are at most what one table's reports asked for.
   */
  scratch(): EngineScratch {
    for (const name of this.arrays.keys()) if (name.startsWith('engine:') && !this.used.has(name)) this.arrays.delete(name)
    this.used.clear()
    return {
      memo: new Map(),
      take: (name, n, make) => {
        this.used.add(name)
        return this.take(name, n, make)
      },
      extend: (col, n) => this.extend(col, n),
    }
  }

  /**
   * A table column (an array of these buffers, not the engine's) as n elements, its contents
   * kept. Without room it moves to a larger array, so the next table built here has the room.
   */
  private extend<T extends Arrays>(col: T, n: number): T | undefined {
    for (const [name, a] of this.arrays) {
      if (name.startsWith('engine:') || a.buffer !== col.buffer || col.byteOffset !== a.byteOffset) continue
      if (a.length >= n) return a.subarray(0, n) as T
      const make = a.constructor as new (n: number) => T
      const grown = new make(Math.ceil(n * 1.05) + 64)
      grown.set(col)
      this.arrays.set(name, grown)
      return grown.subarray(0, n) as T
    }
    return undefined
  }

  /** A view of n elements of the array `name` (contents left from the last build). */
  take<T extends Arrays>(name: string, n: number, make: new (n: number) => T): T {
    let a = this.arrays.get(name) as T | undefined
    // Some room to grow: touches are appended between reports.
    if (!a || a.length < n) this.arrays.set(name, (a = new make(Math.ceil(n * 1.05) + 64)))
    return a.subarray(0, n) as T
  }
}

/**
 * The engine's input: one journey per lead (touches of all its visitors, in time order), then one
 * per anonymous visitor with a touch in [from, to]. Only touches in [from, to] are included, as a
 * storage scan of that range would return. Each key column holds just the keys present, in order
 * of first appearance, so keys without touches in range do not exist for spend matching.
 */
export function buildTouchTable(log: TouchLog, out: LogOutcomes, from: number, to: number, buf = new TableBuffers(), extra: TouchExtra | null = null): TouchTable {
  const n = log.size
  const V = log.visitors.size
  const L = out.leads.length
  const vis = log.visitor
  const tsCol = log.ts

  // Touches in range grouped by visitor (counting sort, stable: log order within a visitor).
  const start = buf.take('start', V + 1, Int32Array).fill(0)
  for (let i = 0; i < n; i++) {
    const t = tsCol[i]
    if (t >= from && t <= to) start[vis[i] + 1]++
  }
  for (let v = 0; v < V; v++) start[v + 1] += start[v]
  const byVisitor = buf.take('byVisitor', start[V], Int32Array)
  const cursor = buf.take('cursor', V, Int32Array)
  cursor.set(start.subarray(0, V))
  for (let i = 0; i < n; i++) {
    const t = tsCol[i]
    if (t >= from && t <= to) byVisitor[cursor[vis[i]]++] = i
  }

  // Which visitors belong to some lead; output size (a shared device's touches appear in each of
  // its leads' journeys).
  const linked = buf.take('linked', V, Uint8Array).fill(0)
  let total = 0
  let anonymous = 0
  for (let l = 0; l < L; l++) {
    for (const v of out.visitorsOf[l]) {
      linked[v] = 1
      total += start[v + 1] - start[v]
    }
  }
  for (let v = 0; v < V; v++) {
    if (linked[v] === 1) continue
    const c = start[v + 1] - start[v]
    if (c > 0) { total += c; anonymous++ }
  }

  const journeys = buf.journeys
  journeys.length = L + anonymous
  const offsets = buf.take('offsets', L + anonymous + 1, Int32Array)
  const src = buf.take('src', total, Int32Array)
  let k = 0
  let j = 0
  const scratch: number[] = []
  for (let l = 0; l < L; l++, j++) {
    journeys[j] = out.leads[l]
    offsets[j] = k
    for (const v of out.visitorsOf[l]) {
      for (let y = start[v]; y < start[v + 1]; y++) src[k++] = byVisitor[y]
    }
    sortRun(src, offsets[j], k, tsCol, scratch)
  }
  for (let v = 0; v < V; v++) {
    if (linked[v] === 1 || start[v + 1] === start[v]) continue
    journeys[j] = ANONYMOUS
    offsets[j] = k
    for (let y = start[v]; y < start[v + 1]; y++) src[k++] = byVisitor[y]
    sortRun(src, offsets[j], k, tsCol, scratch)
    j++
  }
  offsets[j] = k

  const ts = buf.take('ts', total, Float64Array)
  for (let i = 0; i < total; i++) ts[i] = tsCol[src[i]]
  const cache = new Map<string, KeyColumn>()
  for (const d of TOUCH_DIMS) cache.set(d, compactColumn(log.dim(d).ids, log.dim(d).keys.keys, src, buf.take(d, total, Int32Array)))
  if (extra !== null) {
    const col = log.extras?.[extra]
    if (!col) throw new Error(`touch log holds no ${extra} column`)
    cache.set(extra, compactColumn(col.ids, col.keys.keys, src, buf.take('extra', total, Int32Array)))
  }
  const dk = directKeys(log.source.keys, log.medium.keys)
  const direct = buf.take('direct', total, Uint8Array)
  const sIds = log.source.ids
  const mIds = log.medium.ids
  for (let i = 0; i < total; i++) direct[i] = dk.source[sIds[src[i]]] & dk.medium[mIds[src[i]]]
  return { journeys, offsets, ts, direct, cache, scratch: buf.scratch() }
}

/** Puts src[a, b) in time order (stable: log order for equal times); usually already sorted. */
function sortRun(src: Int32Array, a: number, b: number, ts: Float64Array, scratch: number[]): void {
  let sorted = true
  for (let i = a + 1; i < b; i++) {
    if (ts[src[i]] < ts[src[i - 1]]) { sorted = false; break }
  }
  if (sorted) return
  scratch.length = 0
  for (let i = a; i < b; i++) scratch.push(src[i])
  scratch.sort((x, y) => ts[x] - ts[y] || x - y)
  for (let i = a; i < b; i++) src[i] = scratch[i - a]
}

/** The column of the selected touches, renumbered to the keys they use (first appearance order). */
function compactColumn(ids: Uint16Array | Int32Array, keys: readonly string[], src: Int32Array, out: Int32Array): KeyColumn {
  const remap = new Int32Array(keys.length).fill(-1)
  const used: string[] = []
  for (let i = 0; i < src.length; i++) {
    const id = ids[src[i]]
    let r = remap[id]
    if (r < 0) {
      r = remap[id] = used.length
      used.push(keys[id])
    }
    out[i] = r
  }
  return { ids: out, keys: used }
}
