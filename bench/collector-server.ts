// Shared by collector.ts and dashboard.ts: a server in a CHILD process on 127.0.0.1:0 (so the load
// generator and the browser never share its event loop), and the cached 1M-touchpoint dataset.
//
//   child:  tsx bench/collector-server.ts serve collector <dataDir>   (real buildApp over SQLite)
//           tsx bench/collector-server.ts serve bare                  (bare Fastify route)
//
// The collector child is buildApp exactly as `closeloop serve` builds it (all routes, dashboard,
// group commit, durable acknowledgements) except that the per-IP and per-key rate limits are off: the
// load comes from one IP and the defaults (2,000 req/s sustained per IP) would measure the limiter.
// A child stops on the parent's 'stop', when the parent goes away (IPC disconnect), or after 2 h.
// It samples its own RSS every 50 ms and answers 'rss' with { rss, peak } in bytes and its CPU time.
//
// Dataset: bench/.data/sim-1m/ (gitignored) holds a SQLite store with 1M touchpoints sent through
// the real HTTP API by the project's simulator (driveSimulation: /v1/import in ~50,000-event
// batches, /v1/identify, /v1/rates, /v1/deals, /v1/spend) and meta.json. It is built once, on first
// use (~10 min); delete the folder (or pass --fresh) to rebuild it.

import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SELF = fileURLToPath(import.meta.url)
export const DATA = fileURLToPath(new URL('./.data/', import.meta.url))
export const DATASET = join(DATA, 'sim-1m')
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'
export const ORIGIN = 'https://bench.example'
const NO_LIMITS = { ipPerSecond: 0, ipBurst: 0, keyPerSecond: 0, keyBurst: 0 }

export interface SiteMeta { pk: string; sk: string }
export interface DatasetMeta extends SiteMeta {
  complete: boolean; seed: number; visitors: number; touches: number; leads: number; dealUpdates: number; wonDeals: number
  end: number; seedSeconds: number; builtAt: string; load: [number, number]
}
export interface Child extends SiteMeta {
  url: string
  /** The report cache read before listening: touches held, ms taken. */
  warm: { touches: number; ms: number }
  rss(): Promise<{ rss: number; peak: number; cpuMs: number }>
  stop(): Promise<void>
}

export const load1 = (): number => Math.round(loadavg()[0] * 100) / 100
export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'closeloop-bench-'))
export const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024)

export function startChild(kind: 'collector' | 'bare', dir = ''): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, SELF, 'serve', kind, dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const ask = <T>(msg: string): Promise<T> => new Promise((resolve) => { child.once('message', (m) => resolve(m as T)); child.send(msg) })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code} before listening`)))
    child.once('message', (m) => {
      child.removeAllListeners('exit')
      const info = m as { url: string; warm: { touches: number; ms: number } } & SiteMeta
      resolve({
        ...info,
        rss: () => ask('rss'),
        stop: () => new Promise<void>((done) => { child.once('exit', () => done()); child.send('stop') }),
      })
    })
  })
}

async function serve(kind: string, dir: string): Promise<void> {
  const { default: Fastify } = await import('../packages/collector/node_modules/fastify/fastify.js')
  let app: import('fastify').FastifyInstance
  let site: SiteMeta = { pk: '', sk: '' }
  let warm = { touches: 0, ms: 0 }
  if (kind === 'bare') {
    // Fastify's own text/plain parser gives the body as a string; nothing else happens.
    app = Fastify()
    app.post('/v1/collect', async () => ({ accepted: 1, duplicates: 0, rejected: [] }))
  } else {
    const { buildApp } = await import('../packages/collector/src/app.js')
    const { loadInstallKeys } = await import('../packages/collector/src/crypto.js')
    const { createSite } = await import('../packages/collector/src/site-admin.js')
    const { openStore } = await import('../packages/collector/src/store/index.js')
    const store = await openStore({ dataDir: dir })
    const metaFile = join(dir, 'meta.json')
    if (existsSync(metaFile)) site = JSON.parse(readFileSync(metaFile, 'utf8')) as SiteMeta
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
  setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 50).unref()
  const stop = (): void => { void app.close().finally(() => process.exit(0)) }
  setTimeout(stop, 2 * 3600_000).unref()
  process.on('disconnect', stop)
  process.on('message', (m) => {
    if (m === 'rss') { const c = process.cpuUsage(); process.send?.({ rss: process.memoryUsage().rss, peak, cpuMs: (c.user + c.system) / 1000 }) }
    if (m === 'stop') stop()
  })
  process.send?.({ url: address, ...site, warm })
}

/** The first visitors of the simulator (seed 1, no extra page views) that make `touches` touches. */
export async function simVisitorsFor(touches: number, end: number) {
  const { simulateVisitors } = await import('../packages/collector/src/simulate/index.js')
  const opts = { seed: 1, visitors: 10 * touches, end, extraPages: 0 }
  let n = 0
  let visitors = 0
  for (const v of simulateVisitors(opts)) {
    n += v.events.length
    visitors++
    if (n >= touches) break
  }
  return { ...opts, visitors }
}

/** The cached 1M-touchpoint store (built on first use), copied to a scratch folder when `copy`. */
export async function dataset(opts: { fresh?: boolean; copy?: boolean } = {}): Promise<{ dir: string; meta: DatasetMeta }> {
  const metaFile = join(DATASET, 'dataset.json')
  if (opts.fresh) rmSync(DATASET, { recursive: true, force: true })
  if (!existsSync(metaFile)) {
    rmSync(DATASET, { recursive: true, force: true })
    mkdirSync(DATASET, { recursive: true })
    const { driveSimulation } = await import('../packages/collector/src/simulate/index.js')
    const now = Date.now()
    const sim = await simVisitorsFor(1_000_000, now - (now % 86_400_000))
    const before = load1()
    process.stderr.write(`building the 1M-touchpoint dataset in ${DATASET} (${sim.visitors} visitors)…\n`)
    const server = await startChild('collector', DATASET)
    const t = performance.now()
    const s = await driveSimulation({ ...sim, baseUrl: server.url, secretKey: server.sk, importBatch: 49_990 })
    await server.stop()
    const meta: DatasetMeta = {
      complete: true, pk: server.pk, sk: server.sk, seed: sim.seed, visitors: s.visitors, touches: s.touches, leads: s.leads,
      dealUpdates: s.dealUpdates, wonDeals: s.wonDeals, end: sim.end, seedSeconds: Math.round((performance.now() - t) / 1000),
      builtAt: new Date().toISOString(), load: [before, load1()],
    }
    writeFileSync(metaFile, JSON.stringify(meta, null, 2))
  }
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as DatasetMeta
  if (!opts.copy) return { dir: DATASET, meta }
  const dir = tempDir()
  cpSync(DATASET, dir, { recursive: true })
  return { dir, meta }
}

if (process.argv[1] === SELF && process.argv[2] === 'serve') await serve(process.argv[3], process.argv[4])
