import { describe, expect, it } from 'vitest'
import { simulateSpend, simulateVisitors, type SimVisitor } from '../../../src/simulate/index.js'
import { mapStage } from '../../../src/outcomes/stages.js'
import { DEMO_SIMULATION } from '../../../src/simulate/demo-seed.js'
import { defaultQuery } from '../../../src/dashboard/client/views/filters.js'

const END = Date.UTC(2026, 2, 1)
const opts = { seed: 42, visitors: 3_000, end: END, days: 90 }

function all(o: typeof opts): SimVisitor[] {
  return [...simulateVisitors(o)]
}

describe('simulator', () => {
  const visitors = all(opts)
  const touches = visitors.flatMap((v) => v.events.filter((e) => e.touch).map((e) => e.touch!))

  it('is deterministic for a seed and differs across seeds', () => {
    expect(JSON.stringify(all(opts))).toBe(JSON.stringify(visitors))
    expect(JSON.stringify(all({ ...opts, seed: 43 }))).not.toBe(JSON.stringify(visitors))
  })

  it('has a realistic channel mix with click IDs on paid clicks', () => {
    const by = (pred: (t: (typeof touches)[number]) => boolean): number => touches.filter(pred).length / touches.length
    expect(by((t) => t.click_id_type === 'gclid' && t.medium === 'cpc')).toBeGreaterThan(0.05)
    expect(by((t) => t.click_id_type === 'fbclid' || t.click_id_type === 'li_fat_id')).toBeGreaterThan(0.04)
    expect(by((t) => t.medium === 'organic' && t.referrer !== null)).toBeGreaterThan(0.1)
    expect(by((t) => t.medium === 'email')).toBeGreaterThan(0.02)
    expect(by((t) => t.source === '(direct)')).toBeGreaterThan(0.2)
    for (const t of touches) {
      if (t.click_id) expect(new URL(t.landing).searchParams.get(t.click_id_type!)).toBe(t.click_id)
      if (t.campaign) expect(new URL(t.landing).searchParams.get('utm_campaign')).toBe(t.campaign)
    }
  })

  it('produces multi-session journeys, leads and deals that go through known stages', () => {
    const multi = visitors.filter((v) => v.events.filter((e) => e.touch).length > 1).length
    expect(multi / visitors.length).toBeGreaterThan(0.2)
    const leads = visitors.filter((v) => v.identify)
    expect(leads.length / visitors.length).toBeGreaterThan(0.03)
    const updates = visitors.flatMap((v) => v.deals)
    expect(updates.length).toBeGreaterThan(0)
    const won = updates.filter((d) => mapStage(d.stage) === 'won')
    const lost = updates.filter((d) => mapStage(d.stage) === 'lost')
    expect(won.length).toBeGreaterThan(0)
    expect(lost.length).toBeGreaterThan(0)
    // A funnel with a step at each stage: every deal opens at MQL, and some stop there.
    const stages = new Map<string, string[]>()
    for (const d of updates) stages.set(d.dealId, [...(stages.get(d.dealId) ?? []), mapStage(d.stage)!])
    const paths = [...stages.values()]
    expect(paths.every((p) => p[0] === 'mql')).toBe(true)
    const mqlOnly = paths.filter((p) => p.length === 1).length / paths.length
    expect(mqlOnly).toBeGreaterThan(0.1)
    expect(mqlOnly).toBeLessThan(0.5)
    const nurtured = leads.filter((v) => v.events.some((e) => e.ts > v.identify!.ts)).length / leads.filter((v) => v.deals.length).length
    expect(nurtured).toBeGreaterThan(0.3)
    expect(nurtured).toBeLessThan(0.7)
    for (const v of visitors) {
      expect(v.visitorId).toMatch(/^[A-Za-z0-9_-]{21}$/)
      const ts = v.events.map((e) => e.ts)
      expect([...ts].sort((a, b) => a - b)).toEqual(ts)
      for (const e of v.events) expect(e.ts).toBeLessThan(END)
      // The visit that converts comes before identify; nurture touches may follow it, before the deal's last stage.
      if (v.identify) expect(v.identify.ts).toBeGreaterThan(ts[0])
      for (const e of v.events) if (v.identify && e.ts > v.identify.ts) expect(e.ts).toBeLessThan(v.deals.at(-1)!.ts)
      let prev = v.identify?.ts ?? 0
      for (const d of v.deals) {
        expect(mapStage(d.stage)).not.toBeNull()
        expect(d.ts).toBeGreaterThan(prev)
        expect(d.ts).toBeLessThan(END)
        prev = d.ts
      }
    }
  })

  it('spends daily on every paid campaign that brings touches', () => {
    const spend = simulateSpend(opts)
    expect(new Set(spend.map((r) => r.date)).size).toBe(90)
    const paidCampaigns = new Set(touches.filter((t) => t.click_id).map((t) => `${t.source}/${t.medium}/${t.campaign}`))
    expect(new Set(spend.map((r) => `${r.source}/${r.medium}/${r.campaign}`))).toEqual(paidCampaigns)
    for (const r of spend) expect(r.amount).toBeGreaterThan(0)
  })
})

describe('the demo', () => {
  it("seeds spend and visits inside the dashboard's default range, none in the period it compares with", () => {
    const now = Date.now()
    const { from, to } = defaultQuery(now)
    const visitors = [...simulateVisitors(DEMO_SIMULATION)]
    const days = [...new Set(simulateSpend(DEMO_SIMULATION).map((r) => r.date))].sort()
    expect(days[0] >= from!).toBe(true)
    expect(days.at(-1)! <= to!).toBe(true)
    const first = Math.min(...visitors.flatMap((v) => v.events.map((e) => e.ts)))
    expect(new Date(first).toISOString().slice(0, 10) >= from!).toBe(true)
  })
})
