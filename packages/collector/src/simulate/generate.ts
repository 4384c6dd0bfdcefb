// A seeded, deterministic generator of a B2B business's data: visitors arriving by a channel mix,
// multi-session journeys across days, form fills (identify), deals moving through CRM stages, and
// daily spend per paid campaign. Pure: it yields what a site would send; drive.ts sends it.

import { ARRIVALS, BUSINESS, CRM_STAGES, PAGES, type Arrival } from './business.js'
import { Rng } from './rng.js'

const DAY = 86_400_000

export interface SimOptions {
  /** Default 1. */
  seed?: number
  /** Visitors to simulate. Default 2,000 (about 4,400 touches). */
  visitors?: number
  /** Last simulated day (epoch ms, exclusive). Default: start of the current UTC day. */
  end?: number
  /** Length of the simulated period. Default 90 days. */
  days?: number
  /** Site origin used in landing URLs. Default https://www.example.com. */
  origin?: string
  /** Extra page views per session besides the arrival (0 keeps big benches lean). Default 1. */
  extraPages?: number
}

export interface SimTouch {
  ts: number
  source: string
  medium: string
  campaign: string | null
  click_id: string | null
  click_id_type: string | null
  referrer: string | null
  landing: string
}

/** An event as /v1/import takes it. */
export interface SimEvent {
  id: string
  type: 'page'
  ts: number
  vid: string
  sid: string
  url: string
  ref: string | null
  title: string
  touch?: SimTouch
}

export interface SimIdentify {
  visitorId: string
  email: string
  ts: number
}

export interface SimDealUpdate {
  dealId: string
  email: string
  /** A CRM's stage name (mapped by the collector). */
  stage: string
  amount: number
  currency?: string
  ts: number
}

export interface SimVisitor {
  visitorId: string
  events: SimEvent[]
  identify: SimIdentify | null
  deals: SimDealUpdate[]
}

export interface SimSpendRow {
  date: string
  source: string
  medium: string
  campaign: string
  amount: number
}

export interface ResolvedSimOptions {
  seed: number
  visitors: number
  end: number
  days: number
  origin: string
  extraPages: number
}

export function resolveSimOptions(opts: SimOptions = {}): ResolvedSimOptions {
  const now = Date.now()
  return {
    seed: opts.seed ?? 1,
    visitors: opts.visitors ?? 2_000,
    end: opts.end ?? now - (now % DAY),
    days: opts.days ?? 90,
    origin: (opts.origin ?? 'https://www.example.com').replace(/\/+$/, ''),
    extraPages: opts.extraPages ?? 1,
  }
}

const WEIGHTS = ARRIVALS.map((a) => a.weight)
const DIRECT = ARRIVALS.findIndex((a) => a.source === '(direct)')
const NEWSLETTER = ARRIVALS.findIndex((a) => a.source === 'newsletter')
const LINKEDIN = ARRIVALS.findIndex((a) => a.source === 'linkedin')

function landingUrl(o: ResolvedSimOptions, path: string, a: Arrival, campaign: string | null, clickId: string | null): string {
  const params = new URLSearchParams()
  if (campaign !== null) {
    params.set('utm_source', a.source)
    params.set('utm_medium', a.medium)
    params.set('utm_campaign', campaign)
  }
  if (a.clickId && clickId) params.set(a.clickId, clickId)
  const q = params.toString()
  return `${o.origin}${path}${q ? `?${q}` : ''}`
}

function makeTouch(rng: Rng, o: ResolvedSimOptions, a: Arrival, ts: number): SimTouch {
  const campaign = a.campaigns.length > 0 ? rng.pick(a.campaigns) : null
  const clickId = a.clickId ? rng.id(24) : null
  const landing = landingUrl(o, rng.pick(PAGES), a, campaign, clickId)
  return {
    ts,
    source: a.source,
    medium: a.medium,
    campaign,
    click_id: clickId,
    click_id_type: a.clickId ?? null,
    referrer: a.referrer ?? null,
    landing,
  }
}

function roundTo(v: number, step: number): number {
  return Math.max(step, Math.round(v / step) * step)
}

/** One visitor's whole story. Index `i` keeps IDs and emails stable across runs. */
function simulateVisitor(rng: Rng, o: ResolvedSimOptions, i: number): SimVisitor {
  const start = o.end - o.days * DAY
  const visitorId = rng.id(21)
  const events: SimEvent[] = []
  const firstArrival = ARRIVALS[rng.weighted(WEIGHTS)]
  let arrival = firstArrival
  let ts = start + Math.floor(rng.next() * o.days * 0.85 * DAY)
  const sessions = rng.geometric(BUSINESS.meanSessions)
  let n = 0
  let lastTs = ts
  // The page view that brings a touch (a session's first).
  const arrive = (touch: SimTouch, sid: string): void => {
    events.push({ id: `${visitorId}-${n++}`, type: 'page', ts: touch.ts, vid: visitorId, sid, url: touch.landing, ref: touch.referrer, title: 'Closeloop demo', touch })
  }
  for (let s = 0; s < sessions; s++) {
    if (s > 0) {
      ts += Math.floor((0.2 + rng.next() * rng.next() * 12) * DAY)
      if (ts >= o.end) break
      const r = rng.next()
      arrival = r < 0.45 ? ARRIVALS[DIRECT] : r < 0.75 ? arrival : ARRIVALS[rng.weighted(WEIGHTS)]
    }
    const sid = rng.id(16)
    const touch = makeTouch(rng, o, arrival, ts)
    arrive(touch, sid)
    lastTs = ts
    const extra = o.extraPages > 0 ? rng.int(0, o.extraPages) : 0
    for (let p = 0; p < extra; p++) {
      lastTs += rng.int(10, 240) * 1000
      events.push({ id: `${visitorId}-${n++}`, type: 'page', ts: lastTs, vid: visitorId, sid, url: `${o.origin}${rng.pick(PAGES)}`, ref: null, title: 'Closeloop demo', })
    }
  }

  const quality = (firstArrival.leadQuality + arrival.leadQuality) / 2
  const leadChance = BUSINESS.leadRate * quality * (1 + BUSINESS.returnBoost * (events.filter((e) => e.touch).length - 1))
  if (!rng.chance(Math.min(0.9, leadChance))) return { visitorId, events, identify: null, deals: [] }

  const email = `lead${i}@company${i % 977}.example`
  const identifyTs = lastTs + rng.int(30, 600) * 1000
  if (identifyTs >= o.end) return { visitorId, events, identify: null, deals: [] }
  const identify = { visitorId, email, ts: identifyTs }
  const deals: SimDealUpdate[] = []
  if (rng.chance(BUSINESS.mqlRate)) {
    const dealId = `sim-deal-${i}`
    // CRMs do not normalise addresses: the collector must.
    const crmEmail = rng.chance(0.3) ? email.toUpperCase() : email
    const gbp = rng.chance(BUSINESS.gbpShare)
    const base = roundTo(rng.logNormal(BUSINESS.medianDeal * firstArrival.dealSize, 0.6), 100)
    const amount = gbp ? roundTo(base / BUSINESS.gbpRate, 100) : base
    const currency = gbp ? 'GBP' : undefined
    const push = (stage: string, at: number): boolean => {
      if (at >= o.end) return false
      deals.push({ dealId, email: crmEmail, stage, amount, ...(currency ? { currency } : {}), ts: at })
      return true
    }
    let at = identifyTs + rng.int(0, 7) * DAY + rng.int(0, 3_600_000)
    if (push(CRM_STAGES.mql, at) && rng.chance(BUSINESS.sqlRate)) {
      at += rng.int(1, 14) * DAY
      if (push(CRM_STAGES.sql, at) && rng.chance(BUSINESS.opportunityRate)) {
        at += rng.int(3, 20) * DAY
        if (push(CRM_STAGES.opportunity, at)) {
          at += rng.int(7, 45) * DAY
          push(rng.chance(BUSINESS.winRate) ? CRM_STAGES.won : CRM_STAGES.lost, at)
        }
      }
    }
  }
  // Nurture: a lead in the sales process comes back from e-mail and retargeting before the deal
  // ends, touches that marketing-influenced revenue counts and marketing-sourced does not.
  if (deals.length > 0 && rng.chance(BUSINESS.nurtureRate)) {
    const last = deals[deals.length - 1].ts
    const times = Array.from({ length: rng.int(1, 3) }, () => identifyTs + 1 + Math.floor(rng.next() * (last - identifyTs - 1))).sort((a, b) => a - b)
    for (const at of times) {
      arrive(makeTouch(rng, o, ARRIVALS[rng.chance(0.6) ? NEWSLETTER : LINKEDIN], at), rng.id(16))
    }
  }
  return { visitorId, events, identify, deals }
}

/** Every visitor, in a fixed order; the same options always yield the same data. */
export function* simulateVisitors(opts: SimOptions = {}): Generator<SimVisitor> {
  const o = resolveSimOptions(opts)
  const rng = new Rng(o.seed)
  for (let i = 0; i < o.visitors; i++) yield simulateVisitor(rng, o, i)
}

function isoDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10)
}

/** Daily spend of every paid campaign over the period. */
export function simulateSpend(opts: SimOptions = {}): SimSpendRow[] {
  const o = resolveSimOptions(opts)
  const rng = new Rng((o.seed ^ 0x5bd1e995) >>> 0)
  // Spend scales with traffic so ROAS stays plausible for any simulated size.
  const scale = o.visitors / 2_000
  const rows: SimSpendRow[] = []
  for (let d = o.end - o.days * DAY; d < o.end; d += DAY) {
    for (const a of ARRIVALS) {
      if (!a.dailySpend) continue
      for (const campaign of a.campaigns) {
        const amount = Math.round((a.dailySpend / a.campaigns.length) * scale * (0.7 + rng.next() * 0.6) * 100) / 100
        rows.push({ date: isoDay(d), source: a.source, medium: a.medium, campaign, amount })
      }
    }
  }
  return rows
}

/** A standing rate for the deals the CRM reports in GBP. */
export const SIM_RATES = [{ currency: 'GBP', rate: BUSINESS.gbpRate }] as const
