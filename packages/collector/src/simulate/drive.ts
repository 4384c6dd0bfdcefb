// Sends a simulated business through the collector's real HTTP API, as a site, its form backend
// and its CRM would: /v1/import (events with their own timestamps), /v1/identify, /v1/rates,
// /v1/deals and /v1/spend.

import { SIM_RATES, simulateSpend, simulateVisitors, type SimDealUpdate, type SimEvent, type SimIdentify, type SimOptions } from './generate.js'

export interface DriveOptions extends SimOptions {
  /** Collector base URL, e.g. http://127.0.0.1:8787 (no trailing slash needed). */
  baseUrl: string
  /** The site's secret key (sk_…). */
  secretKey: string
  /** Events per /v1/import request. Default 5,000. */
  importBatch?: number
  /** Parallel /v1/identify requests. Default 8. */
  concurrency?: number
}

export interface DriveSummary {
  visitors: number
  events: number
  touches: number
  leads: number
  dealUpdates: number
  wonDeals: number
  spendRows: number
  ms: number
}

async function post(o: DriveOptions, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${o.baseUrl.replace(/\/+$/, '')}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`POST ${path} → ${res.status}: ${text.slice(0, 300)}`)
  return text ? (JSON.parse(text) as unknown) : null
}

/** Run `fn` over items with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

export async function driveSimulation(o: DriveOptions): Promise<DriveSummary> {
  const started = Date.now()
  const batchSize = o.importBatch ?? 5_000
  const summary: DriveSummary = { visitors: 0, events: 0, touches: 0, leads: 0, dealUpdates: 0, wonDeals: 0, spendRows: 0, ms: 0 }
  let events: SimEvent[] = []
  const identifies: SimIdentify[] = []
  const deals: SimDealUpdate[] = []
  const flush = async (): Promise<void> => {
    if (events.length === 0) return
    const batch = events
    events = []
    await post(o, '/v1/import', { events: batch })
  }
  for (const v of simulateVisitors(o)) {
    summary.visitors++
    // importBatch is a ceiling (the API refuses larger requests): a visitor that would cross it
    // goes into the next request.
    if (events.length > 0 && events.length + v.events.length > batchSize) await flush()
    for (const e of v.events) {
      events.push(e)
      if (e.touch) summary.touches++
    }
    summary.events += v.events.length
    if (v.identify) identifies.push(v.identify)
    deals.push(...v.deals)
    if (events.length >= batchSize) await flush()
  }
  await flush()

  // Identify after the events so the lead's journey is complete when it is stitched.
  await pool(identifies, o.concurrency ?? 8, (id) => post(o, '/v1/identify', id))
  summary.leads = identifies.length

  await post(o, '/v1/rates', { rates: SIM_RATES })
  // A CRM sends stage changes in time order.
  deals.sort((a, b) => a.ts - b.ts)
  for (let i = 0; i < deals.length; i += 500) await post(o, '/v1/deals', { deals: deals.slice(i, i + 500) })
  summary.dealUpdates = deals.length
  summary.wonDeals = deals.filter((d) => d.stage === 'Closed Won').length

  const spend = simulateSpend(o)
  for (let i = 0; i < spend.length; i += 5_000) await post(o, '/v1/spend', { rows: spend.slice(i, i + 5_000) })
  summary.spendRows = spend.length
  summary.ms = Date.now() - started
  return summary
}
