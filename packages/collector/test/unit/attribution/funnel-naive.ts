// A deliberately plain funnel over journey objects, written from the documented definition
// (docs/closing-the-loop.md) without the engine's table, to check buildFunnel against.

import type { Journey, JourneyMode } from '../../../src/attribution/types.js'

const STAGES = ['lead', 'mql', 'sql', 'opportunity', 'won'] as const
type Dim = 'channel' | 'source' | 'medium' | 'campaign' | 'source_medium'
const DAY = 86_400_000

export interface NaiveRow {
  key: string
  counts: number[]
  rates: Array<number | null>
  medianDays: Array<number | null>
}

function value(t: Journey['touches'][number], by: Dim): string {
  const v = (s: string | null | undefined) => (s == null || s === '' ? '(not set)' : s)
  if (by === 'source_medium') return `${v(t.source)} / ${v(t.medium)}`
  return v(t[by])
}

function isDirect(t: Journey['touches'][number]): boolean {
  if (t.direct !== undefined) return t.direct
  return t.source === '(direct)' && (t.medium === '(none)' || t.medium === '(not set)' || t.medium === '')
}

const DIRECT: Record<Dim, string> = { channel: 'Direct', source: '(direct)', medium: '(none)', campaign: '(not set)', source_medium: '(direct) / (none)' }

function med(xs: number[]): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Rows keyed by original source plus `(total)`, as plain arrays indexed by stage / step. */
export function naiveFunnel(journeys: readonly Journey[], by: Dim, from: number | null, to: number | null, mode: JourneyMode): Map<string, NaiveRow> {
  const leads = journeys.filter((j) => typeof j.identifiedAt === 'number')
  // Who each deal advances.
  const firstOfAccount = new Map<string, Journey>()
  if (mode === 'account') {
    for (const j of leads) {
      if (j.account == null) continue
      const f = firstOfAccount.get(j.account)
      if (!f || (j.identifiedAt as number) < (f.identifiedAt as number) || (j.identifiedAt === f.identifiedAt && j.id < f.id)) firstOfAccount.set(j.account, j)
    }
  }
  const credited = new Map<Journey, Array<{ stage: string; ts: number }>>()
  for (const j of leads) {
    const to = mode === 'account' && j.account != null ? firstOfAccount.get(j.account) as Journey : j
    for (const d of j.deals ?? []) {
      const list = credited.get(to) ?? []
      list.push(...d.stages)
      credited.set(to, list)
    }
  }
  const groups = new Map<string, Array<Array<number | null>>>()
  for (const j of leads) {
    const at = j.identifiedAt as number
    if ((from !== null && at < from) || (to !== null && at > to)) continue
    const before = [...j.touches].sort((a, b) => a.ts - b.ts).filter((t) => t.ts <= at && !isDirect(t))
    const key = before.length > 0 ? value(before[0], by) : DIRECT[by]
    const entries = credited.get(j) ?? []
    const times: Array<number | null> = STAGES.map((s, i) => {
      if (i === 0) return at
      const later = entries.filter((e) => STAGES.indexOf(e.stage as never) >= i).map((e) => e.ts)
      return later.length === 0 ? null : Math.max(at, Math.min(...later))
    })
    for (const k of [key, '(total)']) {
      const g = groups.get(k) ?? []
      g.push(times)
      groups.set(k, g)
    }
  }
  const out = new Map<string, NaiveRow>()
  for (const [key, list] of groups) {
    const counts = STAGES.map((_, i) => list.filter((t) => t[i] !== null).length)
    const rates = counts.slice(1).map((c, i) => (counts[i] === 0 ? null : c / counts[i]))
    const medianDays = counts.slice(1).map((_, i) => med(list.filter((t) => t[i] !== null && t[i + 1] !== null).map((t) => ((t[i + 1] as number) - (t[i] as number)) / DAY)))
    out.set(key, { key, counts, rates, medianDays })
  }
  return out
}
