// A report never stalls the collector. An attacker with only the publishable key sends, as the
// tracker would, one visitor through 1,500 invented campaigns, twice in different orders: one
// tangled cycle of 1,500 Markov states, 1-4 s of exact solve. The owner then opens the Markov
// report by campaign on a real `closeloop serve`. Meanwhile /healthz is polled every 20 ms and
// must answer each time within 100 ms (see HEALTH_LIMIT and boundFor on a busy machine), and the
// collector keeps acknowledging events; the report answers 422 CL_ERR_REPORT_TOO_COMPLEX once its
// budget is spent. A smaller cycle (solved in the worker, not inline) completes with the figures of
// the engine run in this process.

import { rmSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildReport, type Journey } from '../../src/attribution/index.js'
import { classifyChannel } from '../../src/ingest/channel.js'
import { BROWSER_UA, tempDir, visitorId } from '../http/helpers.js'
import { touchEvent } from '../http/outcome-helpers.js'
import { expectFailure, parseKeys, runCli, startServe, type ServeProcess } from './cli-process.js'

/**
 * Well below the hostile solve (~1.3 s on a quiet machine of this kind, 4 s and more under load),
 * well above the modest one (350 states, tens of ms): the 422 and the 200 are not a race.
 */
const BUDGET_MS = 600
/**
 * The bound on each /healthz answer during a report: 100 ms — when the machine is quiet enough
 * for that to be measurable, i.e. the same polling with no report stays under 30 ms. On a machine
 * busy with other work (the whole suite on two cores: load above the core count, or the quiet
 * window itself past 30 ms) the bound becomes 1 s: still far below the seconds an event loop
 * blocked by the solve takes (about 4 s here for this cycle).
 */
let HEALTH_LIMIT = 100
const ORIGIN = 'https://stall.example'
const dir = tempDir('closeloop-stall-')
let serve: ServeProcess
let hostile: { pk: string; sk: string }
let modest: { pk: string; sk: string }
const modestJourneys: Journey[] = []

/** Deterministic shuffle (mulberry32), so the second pass makes chords across the cycle. */
function shuffled(n: number, seed: number): number[] {
  let a = seed >>> 0
  const r = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return order
}

async function collect(pk: string, events: Array<Record<string, unknown>>): Promise<number> {
  let accepted = 0
  for (let i = 0; i < events.length; i += 100) {
    const res = await fetch(`${serve.url}/v1/collect`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA, origin: ORIGIN },
      body: JSON.stringify({ site: pk, sentAt: Date.now(), events: events.slice(i, i + 100) }),
    })
    expect(res.status).toBe(200)
    accepted += ((await res.json()) as { accepted: number }).accepted
  }
  return accepted
}

async function secret(sk: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${serve.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}

/**
 * One visitor's page views through `n` campaigns, in order and then shuffled, and a won deal;
 * `others` more visitors through a few of them, some won, so the shares differ. Returns the
 * journeys as the engine takes them.
 */
async function attack(keys: { pk: string; sk: string }, n: number, others: number, tag: string): Promise<Journey[]> {
  // Seconds apart: collect shifts each batch by its transit time, which must not reorder anything.
  const start = Date.now() - 3 * 3_600_000
  const journeys: Journey[] = []
  const people = [{ visits: [...Array.from({ length: n }, (_, i) => i), ...shuffled(n, 17)], won: 1000 }]
  for (let p = 0; p < others; p++) people.push({ visits: Array.from({ length: 3 + (p % 4) }, (_, k) => (p * 7 + k * 13) % n), won: p % 3 === 0 ? 100 * (p + 1) : 0 })
  let t = start
  for (const [p, person] of people.entries()) {
    const vid = visitorId()
    const events = person.visits.map((c) => touchEvent(vid, (t += 1000), { source: 'google', medium: 'cpc', campaign: `${tag}${c}` }))
    expect(await collect(keys.pk, events)).toBe(events.length)
    const email = `${tag}${p}@example.com`
    const identifiedAt = (t += 10_000)
    expect((await secret(keys.sk, '/v1/identify', { visitorId: vid, email, ts: identifiedAt })).status).toBe(200)
    const wonAt = (t += 10_000)
    if (person.won > 0) expect((await secret(keys.sk, '/v1/deals', { dealId: `${tag}-d${p}`, email, stage: 'won', amount: person.won, currency: 'USD', ts: wonAt })).status).toBe(200)
    journeys.push({
      id: vid,
      identifiedAt,
      touches: events.map((e) => {
        const touch = e.touch as { ts: number; campaign: string }
        return { ts: touch.ts, source: 'google', medium: 'cpc', campaign: touch.campaign, channel: classifyChannel({ source: 'google', medium: 'cpc', campaign: touch.campaign }) }
      }),
      deals: person.won > 0 ? [{ dealId: `${tag}-d${p}`, amount: person.won, stages: [{ stage: 'won', ts: wonAt }] }] : [],
    })
  }
  return journeys
}

beforeAll(async () => {
  for (const name of ['Hostile', 'Modest']) {
    const added = await runCli(['sites', 'add', '--data', dir, '--name', name, '--origin', ORIGIN])
    expect(added.code, added.stderr).toBe(0)
    if (name === 'Hostile') hostile = parseKeys(added.stdout)
    else modest = parseKeys(added.stdout)
  }
  // The budget by environment: a collector that does not know it still runs the test (and fails it).
  serve = await startServe(['--data', dir], { CLOSELOOP_REPORT_BUDGET_MS: String(BUDGET_MS) })
  await attack(hostile, 1_500, 0, 'h')
  modestJourneys.push(...(await attack(modest, 350, 12, 'm')))
  // The owner's dashboard opens on the channel views: the stored data is loaded once and the report
  // code warmed, so what is measured below is the Markov solve, not a first load.
  for (const keys of [hostile, modest]) {
    for (const path of ['attribution?model=markov&by=channel', 'models?by=channel', 'series?model=markov&period=week']) {
      expect((await secret(keys.sk, `/v1/reports/${path}`)).status).toBe(200)
    }
  }
  const quiet = await watching(new Promise((r) => setTimeout(r, 1_500)))
  const quietMax = Math.max(...quiet.health)
  // The solve's worker takes a core of its own: on a machine already running more than it has
  // cores, the collector's main thread waits for CPU whatever it does.
  const busy = loadavg()[0] > availableParallelism()
  if (quietMax >= 30 || busy) HEALTH_LIMIT = 1_000
  process.stderr.write(`report-stall: /healthz with no report: max ${quietMax.toFixed(0)} ms over ${quiet.health.length} polls, load ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores; bound ${HEALTH_LIMIT} ms\n`)
}, 120_000)

afterAll(() => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/**
 * The bound for a window in which this test process's own 10 ms timers ran `lag` ms late at worst:
 * other work on the machine (the rest of the suite starting processes) delays every process, the
 * collector's main thread included, whatever the collector does — then 1 s, as for a busy machine.
 */
function boundFor(lag: number): number {
  if (HEALTH_LIMIT > 100 || (lag < 30 && loadavg()[0] <= availableParallelism())) return HEALTH_LIMIT
  process.stderr.write(`report-stall: this process's timers ran up to ${lag.toFixed(0)} ms late, load ${loadavg()[0].toFixed(1)}; bound 1000 ms\n`)
  return 1_000
}

/** Polls /healthz every 20 ms and ingests a page view every 100 ms until `work` settles; `lag`: how late this process's own 10 ms timers ran. */
async function watching<T>(work: Promise<T>): Promise<{ result: T; health: number[]; acked: number; lag: number }> {
  let done = false
  const settled = work.finally(() => { done = true })
  const health: number[] = []
  let lag = 0
  const clock = (async () => {
    while (!done) {
      const t = performance.now()
      await new Promise((r) => setTimeout(r, 10))
      lag = Math.max(lag, performance.now() - t - 10)
    }
  })()
  const poll = (async () => {
    while (!done) {
      const t = performance.now()
      const res = await fetch(`${serve.url}/healthz`)
      await res.text()
      health.push(performance.now() - t)
      expect(res.status).toBe(200)
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  let acked = 0
  const ingest = (async () => {
    const vid = visitorId()
    while (!done) {
      acked += await collect(hostile.pk, [touchEvent(vid, Date.now() - 1000, { source: 'bing', medium: 'cpc', campaign: `live${acked}` })])
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  const result = await settled
  await Promise.all([poll, ingest, clock])
  return { result, health, acked, lag }
}

describe('a hostile Markov report', () => {
  it('answers 422 within its budget while /healthz answers every poll within its bound', async () => {
    const t = Date.now()
    const { result, health, acked, lag } = await watching(secret(hostile.sk, '/v1/reports/attribution?model=markov&by=campaign'))
    const took = Date.now() - t
    expect(Math.max(...health)).toBeLessThan(boundFor(lag))
    expect(health.length).toBeGreaterThan(BUDGET_MS / 60)
    expect(result.status).toBe(422)
    expect(result.body.error.code).toBe('CL_ERR_REPORT_TOO_COMPLEX')
    expect(result.body.error.message).toMatch(/coarser "by"/)
    expect(took).toBeLessThan(BUDGET_MS + 1_500)
    // The collector kept acknowledging events (one every ~100 ms) while the solve ran.
    expect(acked).toBeGreaterThan(BUDGET_MS / 200)
  })

  it('refuses the models comparison and a drilled-down series the same way, without stalling', async () => {
    const t = Date.now()
    const { result, health, lag } = await watching(Promise.all([
      secret(hostile.sk, '/v1/reports/models?by=campaign'),
      secret(hostile.sk, `/v1/reports/series?model=markov&period=week&campaign=h1`),
    ]))
    // Two solves at once: their two workers take two cores; where that is all there is, the
    // collector's main thread shares a core with one of them (1 s still fails an inline solve).
    expect(Math.max(...health)).toBeLessThan(availableParallelism() <= 2 ? 1_000 : boundFor(lag))
    for (const r of result) {
      expect(r.status).toBe(422)
      expect(r.body.error.code).toBe('CL_ERR_REPORT_TOO_COMPLEX')
    }
    expect(Date.now() - t).toBeLessThan(2 * BUDGET_MS + 1_500)
  })

  it('still reports the same data by channel, and a smaller cycle completes with the in-process figures', async () => {
    const byChannel = await secret(hostile.sk, '/v1/reports/attribution?model=markov&by=channel')
    expect(byChannel.status).toBe(200)
    expect(byChannel.body.rows.find((r: { key: string }) => r.key === 'Paid Search').revenue).toBeCloseTo(1000, 6)

    const { result, health, lag } = await watching(secret(modest.sk, '/v1/reports/attribution?model=markov&by=campaign'))
    expect(result.status).toBe(200)
    expect(Math.max(...health)).toBeLessThan(boundFor(lag))
    const expected = buildReport({ model: 'markov', by: 'campaign', journeys: modestJourneys, currency: 'USD' })
    const got = new Map<string, { conversions: number; revenue: number }>(result.body.rows.map((r: { key: string; conversions: number; revenue: number }) => [r.key, r]))
    const credited = expected.rows.filter((r) => r.conversions > 0)
    expect(credited.length).toBeGreaterThan(300)
    // Not an even split: the chain's structure shows in the figures.
    expect(new Set(credited.map((r) => r.revenue.toFixed(6))).size).toBeGreaterThan(10)
    for (const row of credited) {
      expect(got.get(row.key)?.conversions, row.key).toBeCloseTo(row.conversions, 9)
      expect(got.get(row.key)?.revenue, row.key).toBeCloseTo(row.revenue, 6)
    }
  })

  it('is the same from the command line: the worker solves, the process exits, a refusal is coded', async () => {
    serve.child.kill('SIGTERM')
    expect(await serve.exited).toBe(0)
    const env = { CLOSELOOP_REPORT_BUDGET_MS: String(BUDGET_MS) }
    const ok = await runCli(['report', '--data', dir, '--site', 'Modest', '--model', 'markov', '--by', 'campaign', '--format', 'json'], env)
    expect(ok.code, ok.stderr).toBe(0)
    const rows = new Map<string, { revenue: number }>((JSON.parse(ok.stdout) as { rows: Array<{ key: string; revenue: number }> }).rows.map((r) => [r.key, r]))
    const expected = buildReport({ model: 'markov', by: 'campaign', journeys: modestJourneys, currency: 'USD' })
    for (const row of expected.rows.filter((r) => r.conversions > 0)) expect(rows.get(row.key)?.revenue, row.key).toBeCloseTo(row.revenue, 6)
    // The command line has the machine to itself: a tighter budget keeps its refusal certain.
    const refused = await runCli(['report', '--data', dir, '--site', 'Hostile', '--model', 'markov', '--by', 'campaign'], { CLOSELOOP_REPORT_BUDGET_MS: '200' })
    expect(expectFailure(refused, 'report', 'CL_ERR_REPORT_TOO_COMPLEX').message).toMatch(/coarser "by"/)
  })
})
