// The measuring half of report-bench.ts, in plain JavaScript so that it runs the collector's BUILT
// package (packages/collector/dist, or another build's dist folder) under plain `node`, as
// `closeloop serve` does: timings and RSS without a TypeScript loader in the process.
// report-bench.ts rebuilds dist first when stale.
//
//   node bench/report-measure.mjs <dataDir> [lead,deal,account] [distDir]   → one JSON line of figures on stdout
//   CLOSELOOP_BENCH_DATABASE_URL=postgres://… measures that PostgreSQL store instead (e.g. the seeded
//   SQLite store copied there with `closeloop migrate-store`); <dataDir> still holds the install keys.
//
// Cold: the first load of a fresh process scans the site's touches into the in-memory columns.
// Warm, as on a live collector: before every report a new event lands, a form submission identifies
// a new lead and the CRM moves a deal, so no earlier load can be reused and each report pays for the
// append, re-reading the lead and the deal, the table build and the engine. The journey modes
// asked for take turns (report by report), so they see the same machine load; `account` is left
// out when no lead has an account. RSS is sampled every 20 ms.
import { pathToFileURL } from 'node:url'

const [dir, modesArg = 'lead,deal', distArg] = process.argv.slice(2)
const DIST = distArg ? pathToFileURL(distArg.replace(/\/?$/, '/')).href : new URL('../packages/collector/dist/', import.meta.url).href
// As `closeloop serve` does before opening the store (builds before http/heap.js have no such step).
;(await import(DIST + 'http/heap.js').catch(() => null))?.limitHeapGrowth()
const { MODELS } = await import(DIST + 'attribution/types.js')
const { journeyTable } = await import(DIST + 'attribution/index.js')
const { matchHash, hashIdentity } = await import(DIST + 'identity/match-keys.js')
const { loadInstallKeys } = await import(DIST + 'identity/crypto.js')
const { attributionReport, modelsReport } = await import(DIST + 'reports/query.js')
const { openStore } = await import(DIST + 'store/index.js')

const END = Date.UTC(2026, 0, 1)
const databaseUrl = process.env.CLOSELOOP_BENCH_DATABASE_URL || undefined
const store = await openStore({ dataDir: dir, databaseUrl })
// Keyed match keys, as the collector computes them (a build from before they were keyed has hashIdentity).
const hashOf = matchHash ? ((key) => (v) => matchHash(v, key))(loadInstallKeys({ dataDir: dir, env: {} }).matchKey) : hashIdentity
const site = await store.getSiteByName('bench')
if (!site) throw new Error('no bench site')
const out = {}
const q = { by: 'channel', conversion: 'won' }
const all = { touchesFrom: null, touchesTo: null }
let peak = 0
let atPeak = null
const sample = () => {
  const m = process.memoryUsage()
  if (m.rss > peak) { peak = m.rss; atPeak = m }
}
const sampler = setInterval(sample, 20)

let t = performance.now()
const cold = await store.loadReportTable(site.id, all)
out.coldLoad = performance.now() - t
out.journeys = cold.table.journeys.length
out.accounts = new Set(cold.table.journeys.map((j) => j.account).filter((a) => a != null)).size
const modes = modesArg.split(',').filter((m) => m !== 'account' || out.accounts > 0)
out.modes = modes
// What journey=deal adds to the table: merged journeys and the touches copied into them.
const merged = journeyTable(cold.table, 'deal')
out.mergedJourneys = merged.journeys.length - cold.table.journeys.length
out.mergedTouches = merged.ts.length - cold.table.ts.length
cold.release?.()
let n = 0
const write = async () => {
  const visitorId = `bench-live-${n++}`
  await store.ingest([{
    siteId: site.id, id: visitorId, type: 'page', ts: END, receivedAt: END, visitorId, sessionId: visitorId,
    touch: { ts: END, source: 'google', medium: 'cpc', campaign: 'live', channel: 'Paid Search' },
  }])
  const key = { kind: 'email', hash: hashOf(`${visitorId}@bench.example`) }
  await store.identify({ siteId: site.id, visitorId, keys: [key], ts: END })
  await store.upsertDeals(site.id, [{ dealId: `live-${n}`, match: { leadId: null, keys: [key] }, stage: 'won', crmStage: 'won', amount: 1000, originalAmount: 1000, originalCurrency: null, ts: END }])
}
await write()
t = performance.now()
const warm = await store.loadReportTable(site.id, all)
out.load = performance.now() - t
warm.release?.()
// One warm-up report per mode: JIT.
for (const journey of modes) {
  await write()
  await attributionReport(store, site, { ...q, journey, model: 'linear' })
}
// Every run of every cell (ms), and the median of each.
out.runs = {}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const model of MODELS) {
  for (let r = 0; r < 3; r++) {
    for (const journey of modes) {
      await write()
      t = performance.now()
      const rep = await attributionReport(store, site, { ...q, journey, model })
      ;(out.runs[`${journey}.${model}`] ??= []).push(performance.now() - t)
      if (rep.rows.length === 0) throw new Error('empty report')
    }
  }
}
for (let r = 0; r < 3; r++) {
  for (const journey of modes) {
    await write()
    t = performance.now()
    await modelsReport(store, site, { ...q, journey })
    ;(out.runs[`${journey}.all`] ??= []).push(performance.now() - t)
  }
}
for (const [k, v] of Object.entries(out.runs)) out[k] = median(v)
sample()
clearInterval(sampler)
out.rssMb = Math.round(peak / 1024 / 1024)
// What the peak was made of (MB): V8 heap used and reserved, array buffers.
out.peakHeapMb = Math.round(atPeak.heapUsed / 1048576)
out.peakHeapTotalMb = Math.round(atPeak.heapTotal / 1048576)
out.peakArrayBuffersMb = Math.round(atPeak.arrayBuffers / 1048576)
await store.close()
process.stdout.write(JSON.stringify(out) + '\n')
