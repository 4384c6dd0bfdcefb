// Shared by collector.ts and dashboard.ts: a server in a CHILD process on 127.0.0.1:0 (so the load
// generator and the browser never share its event loop), and the cached 1M-touchpoint dataset.
//
//   child:  node bench/collector-child.mjs collector <dataDir>   (real buildApp over SQLite)
//           node bench/collector-child.mjs bare                  (bare Fastify route)
//
// The collector child is the built package (packages/collector/dist, rebuilt here when stale) under
// plain node, and buildApp exactly as `closeloop serve` builds it (all routes, dashboard, group
// commit, durable acknowledgements) except that the per-IP and per-key rate limits are off: the
// load comes from one IP and the defaults (2,000 req/s sustained per IP) would measure the limiter.
//
// Dataset: bench/.data/sim-1m/ (gitignored) holds a SQLite store with 1M touchpoints sent through
// the real HTTP API by the project's simulator (driveSimulation: /v1/import in ~50,000-event
// batches, /v1/identify, /v1/rates, /v1/deals, /v1/spend) and meta.json. It is built once, on first
// use (~10 min); delete the folder (or pass --fresh) to rebuild it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DATA = fileURLToPath(new URL('.data/', import.meta.url))
export const DATASET = join(DATA, 'sim-1m')
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'
export const ORIGIN = 'https://bench.example'

export interface SiteMeta { pk: string; sk: string }
export interface DatasetMeta extends SiteMeta {
  complete: boolean; seed: number; visitors: number; touches: number; leads: number; dealUpdates: number; wonDeals: number
  end: number; seedSeconds: number; builtAt: string; load: [number, number]
}
export interface Child extends SiteMeta {
  url: string
  /** The report cache read before listening: touches held, ms taken. */
  warm: { touches: number; ms: number }
  rss(): Promise<{ rss: number; peak: number; atPeak: NodeJS.MemoryUsage | null; cpuMs: number; mainCpuMs: number | null }>
  stop(): Promise<void>
}

const COLLECTOR = fileURLToPath(new URL('../packages/collector/', import.meta.url))
const CHILD = fileURLToPath(new URL('./collector-child.mjs', import.meta.url))
let built = false

function newest(dir: string, ext: string, pick: (a: number, b: number) => number, skip = ''): number {
  let t = pick === Math.max ? 0 : Infinity
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const f = join(e.parentPath, e.name)
    if (e.isFile() && e.name.endsWith(ext) && !(skip && f.startsWith(skip))) t = pick(t, statSync(f).mtimeMs)
  }
  return t
}

/** The child runs packages/collector/dist: rebuilt when any source file is newer than the oldest output. */
export function ensureBuilt(): void {
  if (built) return
  built = true
  const dist = join(COLLECTOR, 'dist')
  const src = newest(join(COLLECTOR, 'src'), '.ts', Math.max, join(COLLECTOR, 'src', 'dashboard', 'client'))
  if (existsSync(join(dist, 'app.js')) && newest(dist, '.js', Math.min) >= src) return
  process.stderr.write('packages/collector/dist is older than its sources: building it…\n')
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: COLLECTOR, stdio: 'inherit' })
  if (r.status !== 0) throw new Error('building packages/collector failed')
}

export const load1 = (): number => Math.round(loadavg()[0] * 100) / 100
export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'closeloop-bench-'))
export const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024)

/** `dist`: another build's dist folder to run instead of this one's (collector.ts --against). */
export function startChild(kind: 'collector' | 'bare', dir = '', dist?: string): Promise<Child> {
  if (kind === 'collector' && dist === undefined) ensureBuilt()
  // CLOSELOOP_BENCH_NODE_FLAGS: node flags for the child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const flags = (process.env.CLOSELOOP_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)
  const child: ChildProcess = spawn(process.execPath, [...flags, CHILD, kind, dir, ...(dist === undefined ? [] : [dist])], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: dirname(CHILD),
    env: { ...process.env, CLOSELOOP_BENCH_ORIGIN: ORIGIN },
  })
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

