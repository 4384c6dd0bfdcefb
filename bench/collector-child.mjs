// The server child of collector-server.ts, in plain JavaScript so that it runs the collector's BUILT
// package (packages/collector/dist) under plain `node`, as `closeloop serve` does: no TypeScript
// loader in the process, whose own memory (~40 MB) would count toward the RSS measured here.
// startChild() rebuilds dist first when a source file is newer.
//
//   node bench/collector-child.mjs collector <dataDir> [distDir]   (real buildApp over SQLite)
//   node bench/collector-child.mjs bare                            (bare Fastify route)
//
// distDir: another build's dist folder (collector.ts --against), measured beside this one.
// A child stops on the parent's 'stop', when the parent goes away (IPC disconnect), or after 2 h.
// It samples its own memory every 50 ms and answers 'rss' with { rss, peak } in bytes, the
// process.memoryUsage() of the peak sample (atPeak) and its CPU time.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const ORIGIN = process.env.CLOSELOOP_BENCH_ORIGIN
// The load comes from one IP; the default limits (2,000 req/s sustained per IP) would measure the limiter.
const NO_LIMITS = { ipPerSecond: 0, ipBurst: 0, keyPerSecond: 0, keyBurst: 0 }

const [kind, dir, distArg] = process.argv.slice(2)
const DIST = distArg ? pathToFileURL(distArg.replace(/\/?$/, '/')).href : new URL('../packages/collector/dist/', import.meta.url).href
const { default: Fastify } = await import('../packages/collector/node_modules/fastify/fastify.js')
let app
let site = { pk: '', sk: '' }
let warm = { touches: 0, ms: 0 }
if (kind === 'bare') {
  // Fastify's own text/plain parser gives the body as a string; nothing else happens.
  app = Fastify()
  app.post('/v1/collect', async () => ({ accepted: 1, duplicates: 0, rejected: [] }))
} else {
  // As `closeloop serve` does before opening the store (builds before http/heap.js have no such step).
  ;(await import(DIST + 'http/heap.js').catch(() => null))?.limitHeapGrowth()
  const { buildApp } = await import(DIST + 'http/app.js')
  const { loadInstallKeys } = await import(DIST + 'identity/crypto.js')
  const { createSite } = await import(DIST + 'sites/admin.js')
  const { openStore } = await import(DIST + 'store/index.js')
  const store = await openStore({ dataDir: dir })
  const metaFile = join(dir, 'meta.json')
  if (existsSync(metaFile)) site = JSON.parse(readFileSync(metaFile, 'utf8'))
  else {
    const created = await createSite(store, { name: 'bench', origins: [ORIGIN] })
    site = { pk: created.site.publicKey, sk: created.secretKey }
    writeFileSync(metaFile, JSON.stringify(site))
  }
  app = await buildApp({ store, keys: loadInstallKeys({ dataDir: dir, env: {} }), config: { rateLimit: NO_LIMITS } })
  // As startServer does before listening (`closeloop serve`).
  const t = performance.now()
  warm = { touches: await store.warmReports(), ms: performance.now() - t }
}
const address = await app.listen({ port: 0, host: '127.0.0.1' })
let peak = 0
let atPeak = null
setInterval(() => {
  const m = process.memoryUsage()
  if (m.rss > peak) { peak = m.rss; atPeak = m }
}, 50).unref()
// The main thread alone (Linux: its utime + stime in clock ticks, assumed 100 a second), without
// the checkpointer's thread and libuv's pool (the fsyncs): what limits a single-process collector.
const mainThreadCpuMs = () => {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch { return null }
}
const stop = () => { void app.close().finally(() => process.exit(0)) }
setTimeout(stop, 2 * 3600_000).unref()
process.on('disconnect', stop)
process.on('message', (m) => {
  if (m === 'rss') { const c = process.cpuUsage(); process.send?.({ rss: process.memoryUsage().rss, peak, atPeak, cpuMs: (c.user + c.system) / 1000, mainCpuMs: mainThreadCpuMs() }) }
  if (m === 'stop') stop()
})
process.send?.({ url: address, ...site, warm })
