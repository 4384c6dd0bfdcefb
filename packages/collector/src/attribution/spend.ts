// Spend → report keys. A spend row is matched to the touches in the window with the same
// (source, medium, campaign), falling back to (source, medium), then source (case-insensitive,
// trimmed), and split over the matched touches' keys in proportion to their touch counts. Spend
// that matches no touch still counts: it goes to a key taken from the row itself (its source,
// medium, campaign, "source / medium", or the injected channel classifier), else
// `(unmatched spend)`, so totals always include all spend in the window.
// In a drill-down, spend follows the touches it was matched to (outside touches take their share
// out), and spend that matched no touch is inside when the keys taken from the row itself equal
// the filter: so a drill-down's spend adds up to its parent row's.

import { AttributionError } from './errors.js'
import type { Engine } from './engine.js'
import { Interner, keyColumn } from './keys.js'
import { DAY_MS } from './paths.js'
import { NOT_SET_KEY, UNMATCHED_SPEND_KEY, type DrillDown, type SpendRow, type TouchDimension } from './types.js'

export interface SpendAllocation {
  /** By key id of engine.keys. */
  byKey: Float64Array
  total: number
  /** Part of total that matched no touch. */
  unmatched: number
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** UTC midnight of a YYYY-MM-DD date, NaN when malformed. */
export function dayStart(date: string): number {
  const m = DATE.exec(date)
  if (!m) return NaN
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  const d = new Date(t)
  return d.getUTCDate() === Number(m[3]) && d.getUTCMonth() === Number(m[2]) - 1 ? t : NaN
}

function norm(v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null
  const t = v.trim().toLowerCase()
  return t === '' ? null : t
}

/** Normalised id of each key of a touch column. */
function normalisedIds(keys: string[], interner: Interner): Int32Array {
  const out = new Int32Array(keys.length)
  for (let i = 0; i < keys.length; i++) out[i] = interner.id(keys[i] === NOT_SET_KEY ? '' : keys[i].trim().toLowerCase())
  return out
}

type Counter = Map<number, Map<number, number>>

function bump(counter: Counter, at: number, key: number, n: number): void {
  let m = counter.get(at)
  if (!m) counter.set(at, (m = new Map()))
  m.set(key, (m.get(key) ?? 0) + n)
}

/** The key of spend row `row` under dimension `by` when it matched no touch. */
function unmatchedKey(by: TouchDimension | 'week' | 'month', row: SpendRow, spendChannel?: (row: SpendRow) => string): string {
  const source = norm(row.source) ?? NOT_SET_KEY
  const medium = norm(row.medium) ?? NOT_SET_KEY
  switch (by) {
    case 'source': return source
    case 'medium': return medium
    case 'campaign': return row.campaign?.trim() || NOT_SET_KEY
    case 'source_medium': return `${source} / ${medium}`
    case 'channel': return spendChannel ? spendChannel(row) : UNMATCHED_SPEND_KEY
    default: return UNMATCHED_SPEND_KEY
  }
}

export function allocateSpend(engine: Engine, rows: readonly SpendRow[], spendChannel?: (row: SpendRow) => string, drill?: Pick<DrillDown, 'filter'>): SpendAllocation {
  const amounts = new Map<number, number>()
  const add = (key: number, v: number): void => { amounts.set(key, (amounts.get(key) ?? 0) + v) }
  let total = 0
  let unmatched = 0
  const inWindow: Array<{ row: SpendRow; day: number }> = []
  for (const row of rows) {
    const day = dayStart(row.date)
    // A day counts when it overlaps [from, to]; malformed rows cannot be placed and are skipped.
    if (!Number.isFinite(day) || !Number.isFinite(row.amount)) continue
    if (day + DAY_MS - 1 < engine.from || day > engine.to) continue
    inWindow.push({ row, day })
    total += row.amount
  }

  if (engine.isPeriod) {
    for (const { row, day } of inWindow) add(engine.periodId(day), row.amount)
  } else if (inWindow.length > 0) {
    const { table } = engine
    const S = new Interner(), M = new Interner(), C = new Interner()
    const src = keyColumn(table, 'source'), med = keyColumn(table, 'medium'), camp = keyColumn(table, 'campaign')
    const srcN = normalisedIds(src.keys, S), medN = normalisedIds(med.keys, M), campN = normalisedIds(camp.keys, C)
    const wanted = new Set<number>()
    for (const { row } of inWindow) { const s = norm(row.source); if (s !== null) wanted.add(S.id(s)) }
    // Dense ids over the sources that have spend keep the composite key below small.
    const wantedIndex = new Int32Array(src.keys.length).fill(-1)
    const wantedRaw: number[] = []
    for (let k = 0; k < src.keys.length; k++) if (wanted.has(srcN[k])) { wantedIndex[k] = wantedRaw.length; wantedRaw.push(k) }
    // Hot loop: one lookup per touch into (raw triple, report key) counts; the normalised
    // source / pair / triple levels are summed from those few distinct entries afterwards.
    const nMedRaw = med.keys.length, nCampRaw = camp.keys.length, nKeys = engine.keys.size
    if (wantedRaw.length * nMedRaw * nCampRaw * nKeys > Number.MAX_SAFE_INTEGER) {
      throw new AttributionError('too_complex', 'too many distinct sources, mediums, campaigns and keys to match spend')
    }
    const rawCounts = new Map<number, number>()
    const ts = table.ts, keys = engine.touchKeys
    // Merged copies (journeys.ts) are not counted again.
    for (let i = 0, n = table.baseTouches ?? ts.length; i < n; i++) {
      const w = wantedIndex[src.ids[i]]
      if (w < 0 || ts[i] < engine.from || ts[i] > engine.to) continue
      const raw = ((w * nMedRaw + med.ids[i]) * nCampRaw + camp.ids[i]) * nKeys + keys[i]
      rawCounts.set(raw, (rawCounts.get(raw) ?? 0) + 1)
    }
    // Sizes are fixed from here on: composite ids below must not shift.
    const nM = M.size + 1, nC = C.size + 1
    const bySource: Counter = new Map(), byPair: Counter = new Map(), byTriple: Counter = new Map()
    for (const [raw, n] of rawCounts) {
      const key = raw % nKeys
      let rest = (raw - key) / nKeys
      const c = rest % nCampRaw
      rest = (rest - c) / nCampRaw
      const m = rest % nMedRaw
      const sN = srcN[wantedRaw[(rest - m) / nMedRaw]]
      const pair = sN * nM + medN[m]
      bump(bySource, sN, key, n)
      bump(byPair, pair, key, n)
      bump(byTriple, pair * nC + campN[c], key, n)
    }
    for (const { row } of inWindow) {
      const s = norm(row.source)
      const m = norm(row.medium)
      const c = norm(row.campaign)
      const sId = s === null ? undefined : S.find(s)
      const mId = m === null ? undefined : M.find(m)
      const cId = c === null ? undefined : C.find(c)
      let match: Map<number, number> | undefined
      if (sId !== undefined && mId !== undefined && cId !== undefined) match = byTriple.get((sId * nM + mId) * nC + cId)
      if (!match && sId !== undefined && mId !== undefined) match = byPair.get(sId * nM + mId)
      if (!match && sId !== undefined) match = bySource.get(sId)
      if (match) {
        let n = 0
        for (const v of match.values()) n += v
        for (const [key, v] of match) add(key, (row.amount * v) / n)
      } else {
        unmatched += row.amount
        const inside = !drill || drill.filter.every(([dim, v]) => unmatchedKey(dim, row, spendChannel) === v)
        add(inside ? engine.keys.id(unmatchedKey(engine.by, row, spendChannel)) : engine.outside, row.amount)
      }
    }
  }
  const byKey = new Float64Array(engine.keys.size)
  for (const [k, v] of amounts) byKey[k] += v
  return { byKey, total, unmatched }
}
