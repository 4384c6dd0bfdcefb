// Collector budgets of SPEC §10, against real listening servers (child processes, collector-server.ts):
//  1. /v1/collect, 1 event per request, durable (acknowledged after COMMIT and the WAL sync): req/s
//     and p50/p99 by autocannon, against a bare Fastify route with the same bodies, interleaved in
//     rounds (bare, collector, bare, collector). Every body is a landing page view of a new visitor
//     (event + touch, unique 21-char event/visitor IDs, text/plain, allowed Origin, browser UA).
//     Afterwards the store is reopened and must hold exactly as many events as were acknowledged.
//  2. /v1/import (secret key): events/s of 500k simulator events posted in batches of 50,000 (the
//     API's maximum per request) and 5,000, two requests in flight, bodies serialized beforehand.
//  3. /v1/identify on the cached 1M-touchpoint store (copied to a scratch folder): p50/p99 of new
//     leads for anonymous visitors that have touches, at 1 and 10 connections; collector RSS.
//
//   npx -y pnpm@10 -C packages/collector exec tsx ../../bench/collector.ts [--only collect,import,identify]
//     [--seconds 10] [--connections 10,64] [--rounds 2] [--fresh] [--against DIST] [--write]
//   (or: npx -y pnpm@10 -C bench run collector -- --write)
//
// --write replaces the <!-- collector:start/end --> section of RESULTS.md. --fresh rebuilds the dataset.
// --against DIST (another build's dist folder, relative to packages/collector) measures that build too,
// in the same run: after this build's row, its own row on a fresh store (a copy of the dataset for identify).

import autocannon from 'autocannon'
import { execSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpus, totalmem } from 'node:os'
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { openStore } from '../packages/collector/src/store/index.js'
import { simulateVisitors } from '../packages/collector/src/simulate/index.js'
import { BROWSER_UA, dataset, load1, mb, ORIGIN, startChild, tempDir, type Child } from './collector-server.js'
import { writeResultsSection } from './results.js'

const arg = (name: string, def: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def }
const only = arg('only', 'collect,import,identify').split(',')
const seconds = Number(arg('seconds', '10'))
const connList = arg('connections', '10,64').split(',').map(Number)
const rounds = Number(arg('rounds', '2'))
const againstArg = arg('against', '')
/** This build (dist undefined) and, with --against, the other one. */
const builds: Array<{ label: string; dist?: string }> = [{ label: againstArg ? 'this build' : '' }, ...(againstArg ? [{ label: againstArg, dist: resolve(againstArg) }] : [])]
const tag = (b: { label: string }): string => (b.label ? ` [${b.label}]` : '')
const rid = (): string => randomBytes(16).toString('base64url').slice(0, 21)
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const out: string[] = []
const verdicts: string[] = []
const log = (line: string): void => { out.push(line); process.stderr.write(line + '\n') }

async function storedEvents(dir: string): Promise<number> {
  const store = await openStore({ dataDir: dir })
  const n = ((store as unknown as { db: { prepare(s: string): { get(): { n: number } } } }).db.prepare('SELECT count(*) AS n FROM events').get()).n
  await store.close()
  return n
}

interface Shot { rps: number; p50: number; p99: number; total: number; bad: number; acked: number }
/** autocannon with a fresh body per request; `amount` requests so every one of them is answered. */
async function cannon(url: string, amount: number, conns: number, headers: Record<string, string>, body: () => string, ok: (status: number, body: string) => boolean): Promise<Shot> {
  let acked = 0
  let last = 0
  const t0 = performance.now()
  const r = await autocannon({
    url, connections: conns, amount, timeout: 30, method: 'POST', headers,
    requests: [{ setupRequest: (req: object) => ({ ...req, body: body() }), onResponse: (s: number, b: string) => { last = performance.now(); if (ok(s, b)) acked++ } }],
  })
  // autocannon's own `duration` ends on its next 1-second tick: time to the last response instead.
  return { rps: r.requests.total / ((last - t0) / 1000), p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, bad: r.non2xx + r.errors + r.timeouts, acked }
}

/** A warm-up of `warm` requests sets the size of the measured run (about `seconds` long). */
/** Also the CPU use of server and client (autocannon) during the measured run, in % of one core. */
async function timed(srv: Child, path: string, warm: number, conns: number, headers: Record<string, string>, body: () => string, ok: (s: number, b: string) => boolean) {
  const w = await cannon(srv.url + path, warm, conns, headers, body, ok)
  const load = [load1()]
  const [r0, c0, t0] = [await srv.rss(), process.cpuUsage(), performance.now()]
  const m = await cannon(srv.url + path, Math.max(1000, Math.round(w.rps * seconds)), conns, headers, body, ok)
  const [r1, c1, t1] = [await srv.rss(), process.cpuUsage(c0), performance.now()]
  load.push(load1())
  const cpu = `${Math.round((100 * (r1.cpuMs - r0.cpuMs)) / (t1 - t0))} / ${Math.round((c1.user + c1.system) / 10 / (t1 - t0))}`
  // CPU time of the server's main thread per request: unlike req/s, little moved by other load on the machine.
  const mainUs = r0.mainCpuMs === null || r1.mainCpuMs === null ? null : Math.round((1000 * (r1.mainCpuMs - r0.mainCpuMs)) / m.total)
  return { w, m, cpu, mainUs, load: `${load[0]} → ${load[1]}` }
}

const accepted1 = (s: number, b: string): boolean => s === 200 && (JSON.parse(b) as { accepted: number }).accepted === 1

async function collect(): Promise<void> {
  const headers = { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGIN, 'user-agent': BROWSER_UA }
  const body = (pk: string) => (): string => {
    const id = rid(), now = Date.now(), url = `${ORIGIN}/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=${id}`
    const touch = { source: 'google', medium: 'cpc', campaign: 'spring', click_id: id, click_id_type: 'gclid', channel: 'Paid Search', landing: url, referrer: 'https://www.google.com/', ts: now - 1000 }
    return JSON.stringify({ site: pk, sentAt: now, events: [{ id, type: 'page', ts: now - 1000, vid: rid(), sid: rid(), url, ref: 'https://www.google.com/', title: 'Pricing', touch }] })
  }
  log(`### /v1/collect, 1 event per request (${body(`pk_${rid()}`)().length} B body)`)
  log('')
  log('| round | connections | server | requests | req/s | p50 ms | p99 ms | failed | collector ÷ bare | CPU % server / client | server main thread µs / request | load before → after |')
  log('|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|')
  const ratios: number[] = []
  const p99s: number[] = []
  for (let round = 1; round <= rounds; round++) for (const connections of connList) {
    const bare = await startChild('bare')
    const b = await timed(bare, '/v1/collect', 3000, connections, headers, body(`pk_${rid()}`), (s) => s === 200)
    await bare.stop()
    log(`| ${round} | ${connections} | bare Fastify route | ${fmt(b.m.total)} | ${fmt(b.m.rps)} | ${b.m.p50} | ${b.m.p99} | ${b.m.bad} | | ${b.cpu} | ${b.mainUs ?? ''} | ${b.load} |`)
    // With --against the two builds take turns going first, round by round.
    for (const build of round % 2 === 1 ? builds : [...builds].reverse()) {
      const dir = tempDir()
      const srv = await startChild('collector', dir, build.dist)
      const c = await timed(srv, '/v1/collect', 3000, connections, headers, body(srv.pk), accepted1)
      await srv.stop()
      const stored = await storedEvents(dir)
      rmSync(dir, { recursive: true, force: true })
      const acked = c.w.acked + c.m.acked
      if (!build.dist) {
        ratios.push(c.m.rps / b.m.rps)
        p99s.push(c.m.p99)
      }
      log(`| ${round} | ${connections} | collector (SQLite, durable)${tag(build)} | ${fmt(c.m.total)} | ${fmt(c.m.rps)} | ${c.m.p50} | ${c.m.p99} | ${c.m.bad} | ${fmt(100 * c.m.rps / b.m.rps)}% | ${c.cpu} | ${c.mainUs ?? ''} | ${c.load} |`)
      if (stored !== acked) throw new Error(`round ${round}, ${connections} connections: ${acked} events acknowledged with 200 but ${stored} stored`)
      verdicts.push(`Round ${round}, ${connections} connections${tag(build)}: the reopened store holds ${fmt(stored)} events = ${fmt(acked)} acknowledged with 200 (warm-up included).`)
    }
  }
  const worst = Math.min(...ratios), p99 = Math.max(...p99s)
  verdicts.push(`/v1/collect: ${fmt(100 * worst)}–${fmt(100 * Math.max(...ratios))}% of the bare route's req/s over all rounds and connection counts (budget ≥ 40%: ${worst >= 0.4 ? 'met' : '**not met**'}); worst p99 ${p99} ms (budget ≤ 20 ms: ${p99 <= 20 ? 'met' : '**not met**'}).`)
  log('')
}

async function importBench(): Promise<void> {
  const events: unknown[] = []
  for (const v of simulateVisitors({ seed: 2, visitors: 250_000 })) { events.push(...v.events); if (events.length >= 500_000) break }
  events.length = 500_000
  log(`### /v1/import, ${fmt(events.length)} simulator events (with extra page views: ${fmt(events.filter((e) => (e as { touch?: unknown }).touch).length)} touches), 2 requests in flight`)
  log('')
  log('| events per request | build | requests | body MB | seconds | events/s | stored | load before → after |')
  log('|---:|---|---:|---:|---:|---:|---:|---|')
  for (const batch of [50_000, 5_000]) for (const build of builds) {
    const bodies: string[] = []
    for (let i = 0; i < events.length; i += batch) bodies.push(JSON.stringify({ events: events.slice(i, i + batch) }))
    const dir = tempDir()
    const srv = await startChild('collector', dir, build.dist)
    const before = load1()
    let next = 0
    let accepted = 0
    const t = performance.now()
    await Promise.all([0, 1].map(async () => {
      while (next < bodies.length) {
        const res = await fetch(`${srv.url}/v1/import`, { method: 'POST', headers: { authorization: `Bearer ${srv.sk}`, 'content-type': 'application/json' }, body: bodies[next++] })
        if (res.status !== 200) throw new Error(`import: ${res.status} ${await res.text()}`)
        accepted += ((await res.json()) as { accepted: number }).accepted
      }
    }))
    const s = (performance.now() - t) / 1000
    await srv.stop()
    const stored = await storedEvents(dir)
    rmSync(dir, { recursive: true, force: true })
    if (stored !== accepted || accepted !== events.length) throw new Error(`import: ${accepted} accepted, ${stored} stored of ${events.length}`)
    log(`| ${fmt(batch)} | ${build.label || 'this'} | ${bodies.length} | ${fmt(bodies[0].length / 1e6, 1)} | ${fmt(s, 1)} | ${fmt(events.length / s)} | ${fmt(stored)} | ${before} → ${load1()} |`)
    if (batch === 50_000) verdicts.push(`/v1/import${tag(build)}: ${fmt(events.length / s)} events/s in 50,000-event requests (budget ≥ 60,000: ${events.length / s >= 60_000 ? 'met' : '**not met**'}).`)
  }
  log('')
}

async function identify(): Promise<void> {
  const first = await dataset({ fresh: process.argv.includes('--fresh'), copy: true })
  const { meta } = first
  const anonymous: string[] = []
  for (const v of simulateVisitors({ seed: meta.seed, visitors: meta.visitors, end: meta.end, extraPages: 0 })) if (!v.identify && v.events.length > 0) anonymous.push(v.visitorId)
  log(`### /v1/identify on ${fmt(meta.touches)} touchpoints (${fmt(meta.visitors)} visitors, ${fmt(meta.leads)} leads; dataset built ${meta.builtAt.slice(0, 10)} in ${meta.seedSeconds} s through the HTTP API)`)
  log('')
  log('| build | connections | requests | req/s | p50 ms | p99 ms | failed | CPU % server / client | load before → after |')
  log('|---|---:|---:|---:|---:|---:|---:|---|---|')
  const rssLines: string[] = []
  for (const [k, build] of builds.entries()) {
    // Each build on its own copy of the dataset.
    const dir = k === 0 ? first.dir : (await dataset({ copy: true })).dir
    const srv = await startChild('collector', dir, build.dist)
    const idle = await srv.rss()
    let n = 0
    const body = (): string => { const i = n++; return JSON.stringify({ visitorId: anonymous[i % anonymous.length], email: `bench-${i}-${rid()}@identify.example` }) }
    const headers = { authorization: `Bearer ${srv.sk}`, 'content-type': 'application/json' }
    const created = (s: number, b: string): boolean => s === 200 && (JSON.parse(b) as { created: boolean; touchCount: number }).touchCount > 0
    let p99 = 0
    for (const conns of [1, 10]) {
      const r = await timed(srv, '/v1/identify', 500, conns, headers, body, created)
      if (r.m.acked !== r.m.total) throw new Error(`identify: ${r.m.total - r.m.acked} requests did not return a journey`)
      p99 = Math.max(p99, r.m.p99)
      log(`| ${build.label || 'this'} | ${conns} | ${fmt(r.m.total)} | ${fmt(r.m.rps)} | ${r.m.p50} | ${r.m.p99} | ${r.m.bad} | ${r.cpu} | ${r.load} |`)
    }
    const after = await srv.rss()
    await srv.stop()
    rmSync(dir, { recursive: true, force: true })
    rssLines.push(`Collector RSS${tag(build)} with the 1M-touchpoint store open: ${mb(idle.rss)} MB after start-up, ${mb(after.rss)} MB after the identify runs, peak ${mb(after.peak)} MB (sampled every 50 ms).`)
    verdicts.push(`/v1/identify at 1M touchpoints${tag(build)}: p99 ${p99} ms at the worse of 1 and 10 connections (budget ≤ 10 ms: ${p99 <= 10 ? 'met' : '**not met**'}); collector RSS ${mb(after.peak)} MB peak while serving identify (budget ≤ 300 MB: ${mb(after.peak) <= 300 ? 'met' : '**not met**'}).`)
  }
  log('')
  for (const line of rssLines) log(line)
  log('Report loads are extra: see the dashboard and report sections.')
  log('')
}

const started = new Date()
const loadStart = load1()
if (only.includes('collect')) await collect()
if (only.includes('import')) await importBench()
if (only.includes('identify')) await identify()
const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim()
const section = [
  '<!-- collector:start -->',
  '## Collector',
  '',
  `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0].model.trim()} (${Math.round(totalmem() / 2 ** 30)} GB), Node ${process.version}, at commit ${commit}, with`,
  '`npx -y pnpm@10 -C packages/collector exec tsx ../../bench/collector.ts --write`. Servers are child processes on 127.0.0.1 (`collector-server.ts`):',
  'the collector is `buildApp` over a SQLite file (WAL, group commit, acknowledged after the WAL sync) with rate limits off; autocannon 9 runs in the parent',
  `process on the same 2 cores, so client and server compete for CPU. Latencies are autocannon's (whole ms). 1-minute load average ${loadStart} at the start, ${load1()} at the end.`,
  '',
  ...out,
  ...verdicts.map((v) => `- ${v}`),
  '<!-- collector:end -->',
].join('\n')
process.stdout.write(section + '\n')
if (process.argv.includes('--write')) writeResultsSection('collector', section)
