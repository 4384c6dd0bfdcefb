// scratch: CPU profile of /v1/identify in-process
import { Session } from 'node:inspector/promises'
import { spawn } from 'node:child_process'
import { writeFileSync, readFileSync, rmSync } from 'node:fs'
import { dataset } from './collector-server.js'
import { simulateVisitors } from '../packages/collector/src/simulate/index.js'
import { buildApp } from '../packages/collector/src/app.js'
import { loadInstallKeys } from '../packages/collector/src/crypto.js'

const conns = Number(process.argv[2] ?? 10)
const amount = Number(process.argv[3] ?? 15000)
const { dir, meta } = await dataset({ copy: true })
const anonymous: string[] = []
for (const v of simulateVisitors({ seed: meta.seed, visitors: meta.visitors, end: meta.end, extraPages: 0 })) if (!v.identify && v.events.length > 0) anonymous.push(v.visitorId)
writeFileSync('/tmp/prof/anon.json', JSON.stringify(anonymous))
const site = JSON.parse(readFileSync(dir + '/meta.json', 'utf8'))
const { SqliteStore } = await import('../packages/collector/src/store/sqlite.js')
const store = new SqliteStore({ file: dir + '/closeloop.sqlite', checkpointIntervalMs: process.env.CKPT ? Number(process.env.CKPT) : undefined })
await store.migrate()
const app = await buildApp({ store, keys: loadInstallKeys({ dataDir: dir, env: {} }), config: { rateLimit: { ipPerSecond: 0, ipBurst: 0, keyPerSecond: 0, keyBurst: 0 } } })
await store.warmReports()
const commits: number[] = []
const timing = new Map<string, [number, number]>()
const wrapAll = (groups: Record<string, unknown>, prefix: string) => {
  for (const [g, v] of Object.entries(groups)) {
    if (v && typeof v === 'object' && !('run' in (v as object))) { wrapAll(v as Record<string, unknown>, `${prefix}${g}.`); continue }
    const st = v as Record<string, (...a: unknown[]) => unknown>
    if (!st || typeof st.run !== 'function') continue
    for (const m of ['run', 'get', 'all']) {
      const orig = st[m].bind(st)
      st[m] = (...a: unknown[]) => { const t = process.hrtime.bigint(); try { return orig(...a) } finally { const k = `${prefix}${g}.${m}`; if (k === 'tx.commit.run') commits.push(Number(process.hrtime.bigint() - t) / 1e6); const e = timing.get(k) ?? [0, 0]; e[0] += Number(process.hrtime.bigint() - t) / 1e6; e[1]++; timing.set(k, e) } }
    }
  }
}
if (process.env.SYNC) (store as any).db.pragma(`synchronous = ${process.env.SYNC}`)
if (process.env.TIME_STMTS) { wrapAll((store as any).stmts, ''); wrapAll((store as any).loopStmts, 'loop.') }
const url = await app.listen({ port: 0, host: '127.0.0.1' })
const drive = (n: number) => new Promise<string>((resolve) => {
  const c = spawn(process.execPath, ['../../bench/scratch-drive.mjs', url, site.sk, String(conns), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  c.stdout.on('data', (d) => (out += d))
  c.on('exit', () => resolve(out))
})
console.log('warm', await drive(1000))
const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 200 })
await session.post('Profiler.start')
const cpu0 = process.cpuUsage(); const t0 = performance.now()
console.log('measured', await drive(amount))
const cpu = process.cpuUsage(cpu0); const dt = performance.now() - t0
const { profile } = await session.post('Profiler.stop')
console.log(`server cpu ${Math.round(100 * (cpu.user + cpu.system) / 1000 / dt)}% over ${Math.round(dt)} ms; stats`, store.stats())
for (const [k, [ms, n]] of [...timing].sort((a, b) => b[1][0] - a[1][0]).slice(0, 25)) console.log(`${ms.toFixed(0).padStart(7)} ms ${String(n).padStart(7)}x ${(1000 * ms / n).toFixed(1).padStart(7)} us  ${k}`)
commits.sort((a, b) => a - b); console.log('commit ms p50/p90/p99/max', [0.5, 0.9, 0.99].map((q) => commits[Math.floor(q * commits.length)]?.toFixed(2)), commits.at(-1)?.toFixed(2))
writeFileSync('/tmp/prof/identify.cpuprofile', JSON.stringify(profile))
const self = new Map<string, number>()
const dts = profile.timeDeltas!
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const counts = new Map<number, number>()
profile.samples!.forEach((id, i) => counts.set(id, (counts.get(id) ?? 0) + (dts[i] ?? 0)))
let total = 0
for (const [id, us] of counts) {
  const n = byId.get(id)!
  const f = n.callFrame
  const key = `${f.functionName || '(anon)'} ${f.url.replace(/.*node_modules\//, 'nm/').replace(/.*\/work\/main\//, '')}:${f.lineNumber + 1}`
  self.set(key, (self.get(key) ?? 0) + us); total += us
}
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 45)
for (const [k, us] of top) console.log(`${(100 * us / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
await app.close()
await store.close()
rmSync(dir, { recursive: true, force: true })
