// Several collectors on one PostgreSQL at the same total load: 1, 2 and 3 `closeloop serve
// --database-url` processes (the built package under plain node) on a fresh schema each, fed
// round-robin (as a load balancer would) at a fixed rate of /v1/collect requests, one landing of a
// new visitor per request. Per run: events/s acknowledged, CPU per 1,000 events of the collectors
// (/proc/<pid>/stat of each process) and of PostgreSQL (the backends serving the run's
// connections, found by application_name), and the ratio to one process. Rounds alternate the
// order (1,2,3 then 3,2,1) so a drift in machine load does not favour one N.
//
//   npx -y pnpm@10 -C bench run scale-out -- [--rate 800] [--seconds 15] [--rounds 2] [--procs 1,2,3]
//                                            [--warmup 10] [--write]
//
// PostgreSQL: CLOSELOOP_BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test (trust).
// Every acknowledged event must be in the database afterwards, once.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { BROWSER_UA, ensureBuilt, load1, ORIGIN } from './collector-server.js'
import { writeResultsSection } from './results.js'

const require = createRequire(new URL('../packages/collector/package.json', import.meta.url))
const pg = require('pg') as typeof import('pg')
const CLI = fileURLToPath(new URL('../packages/collector/dist/cli.js', import.meta.url))
const PG = process.env.CLOSELOOP_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }))
const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rate: { type: 'string', default: '800' }, seconds: { type: 'string', default: '15' }, rounds: { type: 'string', default: '2' },
    procs: { type: 'string', default: '1,2,3' }, warmup: { type: 'string', default: '10' }, write: { type: 'boolean', default: false },
  },
})
const rate = Number(flags.rate)
const seconds = Number(flags.seconds)
const counts = flags.procs.split(',').map(Number)
const lines: string[] = []
const log = (s = ''): void => { lines.push(s); process.stdout.write(`${s}\n`) }

/** utime + stime of a process in ms, or null once it is gone. */
function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICK
  } catch {
    return null
  }
}

async function admin<T>(fn: (c: import('pg').Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG })
  await c.connect()
  try { return await fn(c) } finally { await c.end() }
}

interface Serve { child: ChildProcess; url: string; port: number }

function serve(url: string, env: NodeJS.ProcessEnv): Promise<Serve> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--database-url', url], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve({ child, url: m[1], port: Number(new URL(m[1]).port) })
    })
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)))
  })
}

interface Run { perCommit: number; retries: number; procs: number; sent: number; acked: number; failed: number; seconds: number; eps: number; collectorMs: number; pgMs: number; stored: number; ackedAll: number; p99: number; load: [number, number] }

async function run(n: number): Promise<Run> {
  const schema = `cl_bench_${randomBytes(5).toString('hex')}`
  const app = `cl_${schema}`
  await admin((c) => c.query(`CREATE SCHEMA ${schema}`))
  const url = `${PG}${PG.includes('?') ? '&' : '?'}application_name=${app}&options=${encodeURIComponent(`-c search_path=${schema}`)}`
  const env: NodeJS.ProcessEnv = {
    CLOSELOOP_SECRET_KEY: randomBytes(32).toString('hex'), CLOSELOOP_LOG_LEVEL: 'warn',
    CLOSELOOP_RATE_IP_PER_SECOND: '0', CLOSELOOP_RATE_IP_BURST: '0', CLOSELOOP_RATE_KEY_PER_SECOND: '0', CLOSELOOP_RATE_KEY_BURST: '0',
  }
  const added = await new Promise<string>((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, 'sites', 'add', '--database-url', url, '--name', 'bench', '--origin', ORIGIN], { env: { ...process.env, ...env } })
    let out = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`sites add exited with ${code}`))))
  })
  const pk = /public key: (pk_\S+)/.exec(added)![1]
  const servers = await Promise.all(Array.from({ length: n }, () => serve(url, env)))
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  let next = 0
  let acked = 0
  let ackedAll = 0
  let failed = 0
  const latencies: number[] = []
  const send = (measure: boolean): Promise<void> => new Promise((resolve) => {
    const s = servers[next++ % servers.length]
    const now = Date.now()
    const id = randomBytes(16).toString('base64url').slice(0, 21)
    const landing = `https://bench.example/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=${id}`
    const touch = { source: 'google', medium: 'cpc', campaign: 'spring', click_id: id, click_id_type: 'gclid', landing, referrer: 'https://www.google.com/', ts: now - 1000 }
    const body = JSON.stringify({ site: pk, sentAt: now, events: [{ id, type: 'page', ts: now - 1000, vid: randomBytes(16).toString('base64url').slice(0, 21), sid: id, url: landing, ref: 'https://www.google.com/', title: 'Pricing', touch }] })
    const t = performance.now()
    const req = http.request({ host: '127.0.0.1', port: s.port, path: '/v1/collect', method: 'POST', agent, headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGIN, 'user-agent': BROWSER_UA } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => {
        const ok = res.statusCode === 200 && (JSON.parse(text) as { accepted: number }).accepted === 1
        if (ok) ackedAll++
        if (measure) {
          latencies.push(performance.now() - t)
          if (ok) acked++
          else failed++
        }
        resolve()
      })
    })
    req.on('error', () => { if (measure) failed++; resolve() })
    req.end(body)
  })
  /** Open loop at `rate` requests/s for `secs`: sent on a 10 ms tick whatever the answers do. */
  const drive = async (secs: number, measure: boolean): Promise<number> => {
    const inFlight: Array<Promise<void>> = []
    const start = performance.now()
    let sent = 0
    while (performance.now() - start < secs * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate)
      for (; sent < due; sent++) inFlight.push(send(measure))
      await new Promise((r) => setTimeout(r, 10))
    }
    await Promise.all(inFlight)
    return sent
  }
  await drive(Number(flags.warmup), false) // warm-up: JIT (each process compiles its own), pools, first pages
  const backends = async (): Promise<number[]> => admin(async (c) => (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app])).rows.map((r) => r.pid))
  const before = new Map<number, number>()
  for (const pid of [...servers.map((s) => s.child.pid!), ...(await backends())]) before.set(pid, cpuMs(pid) ?? 0)
  // Backends may come and go (the pool closes idle ones): sampled every 250 ms, last value kept.
  const last = new Map(before)
  const sample = async () => { for (const pid of await backends()) { const v = cpuMs(pid); if (v !== null) last.set(pid, v) } }
  const sampler = setInterval(() => void sample(), 250)
  const load0 = load1()
  const t0 = performance.now()
  const sent = await drive(seconds, true)
  const elapsed = (performance.now() - t0) / 1000
  clearInterval(sampler)
  await sample()
  const collectorMs = servers.reduce((sum, s) => sum + ((cpuMs(s.child.pid!) ?? 0) - (before.get(s.child.pid!) ?? 0)), 0)
  const serverPids = new Set(servers.map((s) => s.child.pid!))
  let pgMs = 0
  for (const [pid, v] of last) if (!serverPids.has(pid)) pgMs += v - (before.get(pid) ?? 0)
  const load: [number, number] = [load0, load1()]
  // Requests per commit and whole-batch retries, from each process's /metrics (warm-up included).
  let jobs = 0
  let commits = 0
  let retries = 0
  for (const s of servers) {
    const text = await (await fetch(`${s.url}/metrics`)).text()
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
    jobs += metric('closeloop_store_commit_jobs_sum')
    commits += metric('closeloop_store_commit_jobs_count')
    retries += metric('closeloop_store_batch_retries_total')
  }
  for (const s of servers) s.child.kill('SIGTERM')
  await Promise.all(servers.map((s) => new Promise((r) => s.child.once('exit', r))))
  agent.destroy()
  const stored = await admin(async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${schema}.events`)).rows[0].n))
  await admin((c) => c.query(`DROP SCHEMA ${schema} CASCADE`))
  latencies.sort((a, b) => a - b)
  return { perCommit: jobs / Math.max(1, commits), retries, procs: n, sent, acked, failed, seconds: elapsed, eps: acked / elapsed, collectorMs, pgMs, stored, ackedAll, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0, load }
}

ensureBuilt()
const version = await admin(async (c) => (await c.query("SELECT current_setting('server_version') AS v")).rows[0].v as string)
log('<!-- scale-out:start -->')
log('## Several collectors on one PostgreSQL')
log()
log(`Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, PostgreSQL ${version}, with`)
log(`\`npx -y pnpm@10 -C bench run scale-out -- --rate ${rate} --seconds ${seconds} --rounds ${flags.rounds} --warmup ${flags.warmup}\`.`)
log(`Offered load ${rate} /v1/collect requests/s in total (1 landing event each), round-robin over the processes; ${seconds} s measured after ${flags.warmup} s of warm-up; each run on a fresh schema.`)
log('CPU in ms per 1,000 acknowledged events: collectors = the serve processes, PostgreSQL = the backends of their connections.')
log()
log('| round | processes | events/s | failed | p99 ms | requests per commit | retried commits | collectors CPU ms / 1k | PostgreSQL CPU ms / 1k | total / 1k | total vs 1 process | stored = acked (warm-up too) | load before → after |')
log('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
const results: Run[] = []
for (let round = 0; round < Number(flags.rounds); round++) {
  const order = round % 2 === 0 ? counts : [...counts].reverse()
  const mine: Run[] = []
  for (const n of order) mine.push(await run(n))
  const one = mine.find((r) => r.procs === 1)
  for (const r of [...mine].sort((a, b) => a.procs - b.procs)) {
    const per = (ms: number) => (ms / r.acked) * 1000
    const total = per(r.collectorMs + r.pgMs)
    const ratio = one ? total / ((one.collectorMs + one.pgMs) / one.acked * 1000) : NaN
    log(`| ${round + 1} | ${r.procs} | ${Math.round(r.eps)} | ${r.failed} | ${r.p99.toFixed(1)} | ${r.perCommit.toFixed(1)} | ${r.retries} | ${per(r.collectorMs).toFixed(0)} | ${per(r.pgMs).toFixed(0)} | ${total.toFixed(0)} | ${ratio.toFixed(2)}× | ${r.stored === r.ackedAll ? 'yes' : `**no** (${r.stored} vs ${r.ackedAll})`} | ${r.load[0]} → ${r.load[1]} |`)
  }
  results.push(...mine)
}
log()
const byN = (n: number) => results.filter((r) => r.procs === n)
const perK = (rs: Run[]) => rs.reduce((s, r) => s + r.collectorMs + r.pgMs, 0) / rs.reduce((s, r) => s + r.acked, 0) * 1000
if (counts.includes(1)) for (const n of counts.filter((c) => c > 1)) {
  const ratio = perK(byN(n)) / perK(byN(1))
  const part = (rs: Run[], f: (r: Run) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.reduce((s, r) => s + r.acked, 0)
  const side = (f: (r: Run) => number) => (part(byN(n), f) / part(byN(1), f)).toFixed(2)
  log(`All rounds: ${n} processes use ${ratio.toFixed(2)}× one process's CPU per event (collectors ${side((r) => r.collectorMs)}×, PostgreSQL ${side((r) => r.pgMs)}×; budget ≤ 1.25×: ${ratio <= 1.25 ? 'met' : '**not met**'}).`)
}
log('<!-- scale-out:end -->')
if (flags.write) writeResultsSection('scale-out', lines.join('\n'))
