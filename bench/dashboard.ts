// Dashboard first render on 1M touchpoints (SPEC §9 "fast on 1M touchpoints"; budget ≤ 2 s): the
// real collector (child process, collector-server.ts) over the cached 1M-touchpoint store built by
// the simulator through the HTTP API, and headless Chromium via playwright-core.
//
// 1. Sign in: open /dashboard/, type the site's secret key, click "Sign in"; time from the click
//    to the overview being rendered.
// 2. First render, `--runs` times (default 3), signed in: a new tab navigates to /dashboard/; time
//    from navigation start (the page's performance.timeOrigin) to the moment a MutationObserver
//    sees the headline figures and at least one row of the channel table in the rendered view.
// Beside them: the reports of the overview, models and chart views for the same query from Node
// (the server's share; the overview asks for the won and the opportunity report at once, which
// share one store load), and the collector's RSS (current and peak, sampled every 50 ms).
//
//   npx -y pnpm@10 -C packages/collector exec tsx ../../bench/dashboard.ts [--runs 3] [--fresh] [--write]
//   (or: npx -y pnpm@10 -C bench run dashboard -- --write)
//
// --write replaces the <!-- dashboard:start/end --> section of RESULTS.md. Chromium: CHROMIUM_PATH
// or /usr/bin/chromium; nothing is downloaded.

import { execSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { chromium, type Page } from 'playwright-core'
import { dataset, load1, mb, startChild } from './collector-server.js'
import { writeResultsSection } from './results.js'

const i = process.argv.indexOf('--runs')
const runs = i > 0 ? Number(process.argv[i + 1]) : 3
const TIMEOUT = 600_000
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const started = new Date()
const loadStart = load1()

// A scratch copy: the views below write to it.
const { dir, meta } = await dataset({ fresh: process.argv.includes('--fresh'), copy: true })
const srv = await startChild('collector', dir)
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
// A string, not a function: tsx's keepNames would wrap named functions in a __name() the page lacks.
await context.addInitScript({ content: `
  new MutationObserver(function (_m, obs) {
    var view = '#view[data-rendered^="overview"] '
    if (document.querySelector(view + '[data-figure="revenue"]') && document.querySelector(view + 'table[data-table="channels"] tbody tr')) {
      window.__rendered = performance.now()
      obs.disconnect()
    }
  }).observe(document, { subtree: true, childList: true, attributes: true })` })

interface Shown { error: string | null; revenue: number; rows: number; touches: number }
async function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => ({
    error: document.querySelector('#view .error')?.textContent ?? null,
    revenue: Number(document.querySelector('[data-figure="revenue"]')?.getAttribute('data-value')),
    rows: document.querySelectorAll('table[data-table="channels"] tbody tr').length,
    touches: [...document.querySelectorAll('table[data-table="channels"] tbody tr')].reduce((s, tr) => s + Number(tr.children[1]?.getAttribute('data-value') ?? 0), 0),
  }))
}

// A live collector is written to all the time: one event lands and one lead is identified before
// each measured view, so no report load of an earlier view (reports.ts reuses one while nothing
// was written) is reused.
let live = 0
async function write(): Promise<void> {
  const ts = Date.now()
  const res = await fetch(`${srv.url}/v1/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.sk}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events: [{
      type: 'page', id: `live-${ts}-${live++}`, ts, vid: `benchlive${String(live % 1000).padStart(12, '0')}`, sid: `live-${live}`,
      url: 'https://bench.example/?utm_source=live&utm_medium=cpc', touch: { source: 'live', medium: 'cpc', campaign: 'live' },
    }] }),
  })
  if (res.status !== 200) throw new Error(`import: ${res.status} ${await res.text()}`)
  // ...and a form submission makes that visitor a lead.
  const id = await fetch(`${srv.url}/v1/identify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.sk}`, 'content-type': 'application/json' },
    body: JSON.stringify({ visitorId: `benchlive${String(live % 1000).padStart(12, '0')}`, email: `live${ts}@bench.example` }),
  })
  if (id.status !== 200) throw new Error(`identify: ${id.status} ${await id.text()}`)
}

const lines: string[] = ['| run | navigation → figures + channel table, ms | wall clock, ms | channel rows | touches in table | load before → after |', '|---|---:|---:|---:|---:|---|']
const times: number[] = []
let last: Shown | null = null

// 1. Sign in.
const page = await context.newPage()
await page.goto(`${srv.url}/dashboard/`)
await page.getByLabel('Secret key').fill(srv.sk)
await write()
let before = load1()
let t = performance.now()
await page.getByRole('button', { name: 'Sign in' }).click()
await page.waitForFunction(() => (window as unknown as { __rendered?: number }).__rendered, null, { timeout: TIMEOUT, polling: 20 })
const signIn = performance.now() - t
last = await shown(page)
lines.push(`| sign-in click → first render | | ${fmt(signIn)} | ${last.rows} | ${fmt(last.touches)} | ${before} → ${load1()} |`)
await page.close()

// 2. First render of a signed-in tab.
for (let r = 1; r <= runs; r++) {
  const p = await context.newPage()
  await write()
  before = load1()
  t = performance.now()
  await p.goto(`${srv.url}/dashboard/`, { waitUntil: 'commit' })
  await p.waitForFunction(() => (window as unknown as { __rendered?: number }).__rendered, null, { timeout: TIMEOUT, polling: 20 })
  const wall = performance.now() - t
  const nav = await p.evaluate(() => (window as unknown as { __rendered: number }).__rendered)
  last = await shown(p)
  if (last.error) throw new Error(`the overview shows an error: ${last.error}`)
  if (!(last.revenue > 0) || last.rows === 0) throw new Error('the overview rendered no revenue or no channel rows')
  times.push(nav)
  lines.push(`| ${r} | ${fmt(nav)} | ${fmt(wall)} | ${last.rows} | ${fmt(last.touches)} | ${before} → ${load1()} |`)
  process.stderr.write(lines[lines.length - 1] + '\n')
  await p.close()
}
await browser.close()

// The server's share: the dashboard's reports for its default query (the last 90 days up to today)
// from Node, each after a write so each pays for its own load: the overview's report, then the
// models view (all nine models: the heaviest) and the chart's weekly series, so the RSS peak below
// covers every view's report.
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
const range = `from=${day(Date.now() - 89 * 86_400_000)}&to=${day(Date.now())}`
const apiTimes: Record<string, { ms: number; load: string }> = {}
for (const [name, path] of [
  ['attribution', `attribution?model=linear&by=channel&conversion=won&${range}`],
  ['models', `models?by=channel&conversion=won&${range}`],
  ['series', `series?model=linear&period=week&conversion=won&${range}`],
] as const) {
  await write()
  before = load1()
  t = performance.now()
  const res = await fetch(`${srv.url}/v1/reports/${path}`, { headers: { authorization: `Bearer ${srv.sk}` } })
  if (res.status !== 200) throw new Error(`report ${name}: ${res.status}`)
  await res.json()
  apiTimes[name] = { ms: performance.now() - t, load: `${before} → ${load1()}` }
}
const rss = await srv.rss()
await srv.stop()
rmSync(dir, { recursive: true, force: true })

const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]
const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim()
const section = [
  '<!-- dashboard:start -->',
  '## Dashboard first render',
  '',
  `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0].model.trim()} (${Math.round(totalmem() / 2 ** 30)} GB), Node ${process.version}, Chromium ${browser.version()} (headless), at commit ${commit}, with`,
  '`npx -y pnpm@10 -C packages/collector exec tsx ../../bench/dashboard.ts --write`. The collector (`buildApp`, SQLite) serves the cached dataset:',
  `${fmt(meta.touches)} touchpoints, ${fmt(meta.visitors)} visitors, ${fmt(meta.leads)} leads, ${fmt(meta.wonDeals)} won deals (simulator seed ${meta.seed}, 90 days to ${day(meta.end)}, sent through the HTTP API on ${meta.builtAt.slice(0, 10)}).`,
  'Default view: overview, linear model, the last 90 days, by channel. Browser, server and load generator share the 2 cores.',
  `Before listening the collector read the report cache (${fmt(srv.warm.touches)} touches, ${fmt(srv.warm.ms)} ms), as \`closeloop serve\` does. One event is`,
  'imported and one lead identified before each measured view, so every view pays for its own report load (nothing of an earlier view is reused).',
  `1-minute load average ${loadStart} at the start, ${load1()} at the end.`,
  '',
  ...lines,
  '',
  `From Node, each after a write (same range, won): \`GET /v1/reports/attribution\` (by channel) ${fmt(apiTimes.attribution.ms)} ms (load ${apiTimes.attribution.load}),`,
  `\`/models\` (all nine models) ${fmt(apiTimes.models.ms)} ms (${apiTimes.models.load}), \`/series\` (weekly) ${fmt(apiTimes.series.ms)} ms (${apiTimes.series.load}).`,
  `Collector RSS: ${mb(rss.rss)} MB after all of it, peak ${mb(rss.peak)} MB${rss.atPeak ? ` (then: V8 heap ${mb(rss.atPeak.heapUsed)} MB used of ${mb(rss.atPeak.heapTotal)}, array buffers ${mb(rss.atPeak.arrayBuffers)} MB)` : ''}.`,
  '',
  `- Dashboard first render at 1M touchpoints: median ${fmt(median)} ms of ${runs} (budget ≤ 2,000 ms: ${median <= 2000 ? 'met' : '**not met**'}).`,
  `- Collector RSS while serving every dashboard view's report at 1M touchpoints: peak ${mb(rss.peak)} MB (budget ≤ 300 MB: ${mb(rss.peak) <= 300 ? 'met' : '**not met**'}).`,
  '<!-- dashboard:end -->',
].join('\n')
process.stdout.write(section + '\n')
if (process.argv.includes('--write')) writeResultsSection('dashboard', section)
