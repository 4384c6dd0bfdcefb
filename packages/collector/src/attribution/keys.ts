// Dimension keys interned to small integers, so models count into typed arrays indexed by key id
// and never build strings in their loops.

import { Interner, type KeyColumn } from './interner.js'
import { fieldColumn, type TouchTable } from './table.js'

export { Interner, type KeyColumn }
import type { AttributionTouch, TimeDimension, TouchDimension } from './types.js'

const GET = {
  content: (t: AttributionTouch) => t.content,
  term: (t: AttributionTouch) => t.term,
  landing: (t: AttributionTouch) => t.landing,
} as const

function sourceMediumColumn(table: TouchTable): KeyColumn {
  const s = keyColumn(table, 'source')
  const m = keyColumn(table, 'medium')
  // Pairs are interned through a numeric pair id so no string is built per touch.
  const pairIds = new Map<number, number>()
  const keys: string[] = []
  const ids = new Int32Array(s.ids.length)
  const width = m.keys.length
  for (let i = 0; i < ids.length; i++) {
    const p = s.ids[i] * width + m.ids[i]
    let id = pairIds.get(p)
    if (id === undefined) {
      id = keys.length
      keys.push(`${s.keys[s.ids[i]]} / ${m.keys[m.ids[i]]}`)
      pairIds.set(p, id)
    }
    ids[i] = id
  }
  return { ids, keys }
}

/** The key column of a touch dimension, built once per table. */
export function keyColumn(table: TouchTable, dim: TouchDimension): KeyColumn {
  const cached = table.cache.get(dim)
  if (cached) return cached
  // channel, source, medium and campaign are always cached by compileJourneys.
  const col = dim === 'source_medium' ? sourceMediumColumn(table) : fieldColumn(table, GET[dim as keyof typeof GET])
  table.cache.set(dim, col)
  return col
}

const DAY = 86_400_000

/** ISO 8601 week of a UTC day number (days since epoch), e.g. `2026-W01`. */
export function isoWeekOfDay(day: number): string {
  // 1970-01-01 was a Thursday; ISO weekday 1 = Monday.
  const weekday = ((day + 3) % 7 + 7) % 7 + 1
  const thursday = day - weekday + 4
  const year = new Date(thursday * DAY).getUTCFullYear()
  const jan1 = Math.floor(Date.UTC(year, 0, 1) / DAY)
  const week = Math.floor((thursday - jan1) / 7) + 1
  return `${year}-W${week < 10 ? '0' : ''}${week}`
}

export function monthOfDay(day: number): string {
  const d = new Date(day * DAY)
  const m = d.getUTCMonth() + 1
  return `${d.getUTCFullYear()}-${m < 10 ? '0' : ''}${m}`
}

/** Interns the period (ISO week / month, UTC) of timestamps, computing each distinct day once. */
export class PeriodKeys {
  readonly interner = new Interner()
  private readonly byDay = new Map<number, number>()
  constructor(private readonly dim: TimeDimension) {}
  id(ts: number): number {
    const day = Math.floor(ts / DAY)
    let id = this.byDay.get(day)
    if (id === undefined) {
      id = this.interner.id(this.dim === 'week' ? isoWeekOfDay(day) : monthOfDay(day))
      this.byDay.set(day, id)
    }
    return id
  }
}
