// Reports end to end: seed 100k / 300k / 1M touches into a SQLite store through its bulk path
// (ingest in 5,000-event batches, identify, deals, spend), then, in a FRESH process, time the cold
// load (touch scan into the report cache), then each model's report after a one-event ingest, an
// identify and a deal write (append + refresh + table build + engine), the all-models comparison,
// and RSS (report-measure.mjs: the built package under plain node, as `closeloop serve`).
//
//   npx -y pnpm@10 -C packages/collector exec tsx ../../bench/report-bench.ts [--sizes 100000,300000,1000000] [--committee 30] [--against DIST] [--write]
//
// Shape at the top size: 1M touches, 250k visitors, 100k leads in companies of 5 (one e-mail
// domain each), 10k won deals (20k deals in all); --committee P (default 30) of the deals name
// 2–4 people of their company. Reports run with journey=lead and journey=deal interleaved (and
// account when the store assigned accounts); RSS is measured once per journey mode in a process
// of its own. --against DIST also measures another build of the collector (its dist folder) on
// the same store, alternating with this one: before/after figures of a change.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MODELS } from '../packages/collector/src/attribution/types.js'
import { classifyChannel } from '../packages/collector/src/ingest/channel.js'
import { loadInstallKeys } from '../packages/collector/src/identity/crypto.js'
import { matchHash } from '../packages/collector/src/identity/match-keys.js'
import { createSite } from '../packages/collector/src/sites/admin.js'
import { ARRIVALS } from '../packages/collector/src/simulate/business.js'
import { Rng } from '../packages/collector/src/simulate/rng.js'
import { openStore } from '../packages/collector/src/store/index.js'
import type { IngestEvent, Store } from '../packages/collector/src/store/types.js'
import { ensureBuilt } from './collector-server.js'
import { writeResultsSection } from './results.js'

const DAY = 86_400_000
const END = Date.UTC(2026, 0, 1)
const SELF = fileURLToPath(import.meta.url)
const MEASURE = fileURLToPath(new URL('./report-measure.mjs', import.meta.url))

async function open(dir: string): Promise<Store> {
  const store = await openStore({ dataDir: dir })
  // The seed writes keyed match keys itself: record the store's keying as done while it is empty,
  // as `serve` does on a new store, so a later start does not key them a second time.
  await store.rekeyMatchHashes((h) => h)
  return store
}

/** Leads are grouped into companies of this many (one e-mail domain); a company's first lead may get a deal. */
const COMPANY = 5
const email = (i: number): string => `lead${i}@co${Math.floor(i / COMPANY)}.example`

/**
 * touches/4 visitors with 4 touches on average; 40% of visitors become leads, 10% of leads win.
 * `committee` percent of the deals also name 1–3 more leads of their company.
 */
async function seed(dir: string, touches: number, committee: number): Promise<Record<string, number>> {
  const store = await open(dir)
  // Match keys as the collector computes them: keyed with this store's install key.
  const matchKey = loadInstallKeys({ dataDir: dir, env: {} }).matchKey
  const hashOf = (value: string): string => matchHash(value, matchKey)
  const { site } = await createSite(store, { name: 'bench', origins: ['https://bench.example'] })
  const rng = new Rng(touches)
  const weights = ARRIVALS.map((a) => a.weight)
  const visitors = Math.round(touches / 4)
  let batch: IngestEvent[] = []
  let written = 0
  const leads: Array<{ vid: string; ts: number; i: number }> = []
  const pending: Array<Promise<unknown>> = []
  const t0 = performance.now()
  for (let v = 0; v < visitors && written < touches; v++) {
    const vid = rng.id(21)
    let ts = END - 120 * DAY + Math.floor(rng.next() * 110 * DAY)
    const n = Math.min(touches - written, 1 + Math.floor(rng.next() * 7))
    for (let k = 0; k < n; k++) {
      const a = ARRIVALS[rng.weighted(weights)]
      const campaign = a.campaigns.length ? rng.pick(a.campaigns) : null
      const channel = classifyChannel({ source: a.source, medium: a.medium, campaign: campaign ?? '', click_id_type: a.clickId })
      const id = `${vid}${k}`
      batch.push({
        siteId: site.id, id, type: 'page', ts, receivedAt: ts, visitorId: vid, sessionId: id,
        url: `https://bench.example/pricing`, touch: { ts, source: a.source, medium: a.medium, campaign, click_id: a.clickId ? id : null, click_id_type: a.clickId ?? null, referrer: a.referrer ?? null, landing: 'https://bench.example/pricing', channel },
      })
      ts += Math.floor(rng.next() * 5 * DAY)
    }
    written += n
    if (rng.chance(0.4)) leads.push({ vid, ts: ts + 60_000, i: leads.length })
    if (batch.length >= 5_000) { pending.push(store.ingest(batch)); batch = [] }
    if (pending.length >= 8) await Promise.all(pending.splice(0))
  }
  if (batch.length) pending.push(store.ingest(batch))
  await Promise.all(pending.splice(0))
  const tIngest = performance.now()
  // Without statistics SQLite plans identify's earliest-touch lookup as a scan of the site's
  // touches by time (quadratic seeding); ANALYZE, as a long-running install would have, fixes it.
  const db = (store as { db?: { exec(sql: string): void } }).db
  db?.exec('ANALYZE')
  for (let i = 0; i < leads.length; i += 2_000) {
    await Promise.all(leads.slice(i, i + 2_000).map((l) => {
      // The e-mail's domain, as the identify route derives it: a company's leads share an account.
      return store.identify({ siteId: site.id, visitorId: l.vid, keys: [{ kind: 'email' as const, hash: hashOf(email(l.i)) }], ts: l.ts, accountDomain: email(l.i).split('@')[1] })
    }))
  }
  const tIdentify = performance.now()
  let won = 0
  let deals = 0
  let multi = 0
  let people = 0
  const match = (i: number) => ({ leadId: null, keys: [{ kind: 'email' as const, hash: hashOf(email(i)) }] })
  for (let i = 0; i < leads.length; i += 2_000) {
    const writes = []
    for (const l of leads.slice(i, i + 2_000)) {
      if (l.i % COMPANY !== 0) continue // 20% of leads get a deal, half of those win: 10% of leads
      const amount = Math.round(rng.logNormal(12_000, 0.6))
      // 1–3 colleagues (leads l.i+1 … l.i+4 are of the same company).
      const others = rng.chance(committee / 100) ? 1 + Math.floor(rng.next() * 3) : 0
      const contacts = []
      for (let k = 1; k <= others && l.i + k < leads.length; k++) contacts.push(match(l.i + k))
      const base = { dealId: `deal-${l.i}`, match: match(l.i), ...(contacts.length ? { contacts } : {}), amount, originalAmount: amount, originalCurrency: null }
      writes.push({ ...base, stage: 'sql' as const, crmStage: 'sql', ts: l.ts + 3 * DAY })
      const wins = l.i % (2 * COMPANY) === 0
      writes.push({ ...base, stage: wins ? 'won' as const : 'lost' as const, crmStage: wins ? 'won' : 'lost', ts: l.ts + 20 * DAY })
      deals++
      if (wins) won++
      if (contacts.length) multi++
      people += 1 + contacts.length
    }
    await store.upsertDeals(site.id, writes)
  }
  const spend = []
  for (let d = END - 120 * DAY; d < END; d += DAY) {
    for (const a of ARRIVALS) if (a.dailySpend) for (const c of a.campaigns) spend.push({ date: new Date(d).toISOString().slice(0, 10), source: a.source, medium: a.medium, campaign: c, amount: a.dailySpend, originalAmount: a.dailySpend, originalCurrency: null })
  }
  await store.upsertSpend(site.id, spend)
  const tDone = performance.now()
  await store.close()
  return { touches: written, visitors, leads: leads.length, deals, won, multi, people, ingestMs: tIngest - t0, identifyMs: tIdentify - tIngest, seedMs: tDone - t0 }
}

/** `seed` runs this file again (tsx); `measure` runs report-measure.mjs on a built package under plain node. */
function child(args: string[]): Record<string, unknown> {
  const argv = args[0] === 'measure' ? [MEASURE, ...args.slice(1)] : [...process.execArgv, SELF, ...args]
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 24, cwd: dirname(MEASURE) })
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, unknown>
}

const ms = (v: number): string => Math.round(v).toLocaleString('en-US')
const count = (v: number): string => v.toLocaleString('en-US')
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const COLUMNS = [...MODELS, 'all'] as const

/** One build's figures on one store: cells are medians over every run of every measuring process. */
interface Measured {
  build: string
  modes: string[]
  cell: Record<string, number>
  coldLoad: number
  load: number
  /** Peak RSS (MB) of a process reporting in one journey mode only, and of the process taking turns. */
  rss: Record<string, number>
  rssTurns: number
  peak: { heap: number; heapTotal: number; arrayBuffers: number }
  /** What journey=deal appends to the table. */
  merged: { journeys: number; touches: number }
}

function measure(dir: string, builds: Array<{ name: string; dist: string | null }>, rounds: number): Measured[] {
  const runs = builds.map(() => [] as Array<Record<string, unknown>>)
  // Builds alternate process by process, so both see the same machine load.
  for (let r = 0; r < rounds; r++) {
    builds.forEach((b, i) => runs[i].push(child(['measure', dir, 'lead,deal,account', ...(b.dist ? [b.dist] : [])])))
  }
  return builds.map((b, i) => {
    const first = runs[i][0]
    const modes = first.modes as string[]
    const cell: Record<string, number> = {}
    for (const mode of modes) for (const c of COLUMNS) cell[`${mode}.${c}`] = median(runs[i].flatMap((m) => (m.runs as Record<string, number[]>)[`${mode}.${c}`]))
    const rss: Record<string, number> = {}
    for (const mode of modes) rss[mode] = child(['measure', dir, mode, ...(b.dist ? [b.dist] : [])]).rssMb as number
    const top = runs[i].reduce((x, y) => ((y.rssMb as number) > (x.rssMb as number) ? y : x))
    return {
      build: b.name, modes, cell,
      coldLoad: median(runs[i].map((m) => m.coldLoad as number)), load: median(runs[i].map((m) => m.load as number)),
      rss, rssTurns: top.rssMb as number,
      peak: { heap: top.peakHeapMb as number, heapTotal: top.peakHeapTotalMb as number, arrayBuffers: top.peakArrayBuffersMb as number },
      merged: { journeys: first.mergedJourneys as number, touches: first.mergedTouches as number },
    }
  })
}

/** The budgets at the largest size: one model ≤ 1 s, all ≤ 5 s, cost linear (µs per touch across sizes), RSS ≤ 300 MB. */
function verdicts(results: Array<{ touches: number; m: Measured }>): string[] {
  const top = results[results.length - 1]
  if (!top) return []
  const n = top.touches.toLocaleString('en-US')
  const lines: string[] = []
  for (const mode of top.m.modes) {
    const worst = Math.max(...MODELS.map((x) => top.m.cell[`${mode}.${x}`]))
    const all = top.m.cell[`${mode}.all`]
    const perTouch = results.map((r) => `${(1000 * Math.max(...MODELS.map((x) => r.m.cell[`${mode}.${x}`])) / r.touches).toFixed(2)} µs at ${count(r.touches)}`)
    lines.push(`- journey=${mode}${top.m.build ? ` (${top.m.build})` : ''}, ${n} touchpoints: one model worst ${ms(worst)} ms (budget ≤ 1,000 ms: ${worst <= 1000 ? 'met' : '**not met**'}); all 9 side by side ${ms(all)} ms (budget ≤ 5,000 ms: ${all <= 5000 ? 'met' : '**not met**'}); cost per touch of the slowest model ${perTouch.join(', ')}; peak RSS ${top.m.rss[mode]} MB (budget ≤ 300 MB: ${top.m.rss[mode] <= 300 ? 'met' : '**not met**'}).`)
  }
  lines.push(
    `- Cold load (the first report after start, or after another process wrote): ${ms(top.m.coldLoad)} ms; \`closeloop serve\` does it before listening.`,
    `- RSS of the process taking turns between the journey modes: peak ${top.m.rssTurns} MB (then: V8 heap ${top.m.peak.heap} MB used of ${top.m.peak.heapTotal}, array buffers ${top.m.peak.arrayBuffers} MB).`,
  )
  return lines
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : undefined
}

async function main(): Promise<void> {
  const [mode, dir, n, committeeArg] = process.argv.slice(2)
  if (mode === 'seed') { process.stdout.write(JSON.stringify(await seed(dir, Number(n), Number(committeeArg))) + '\n'); return }
  ensureBuilt()
  const sizes = (arg('--sizes') ?? '100000,300000,1000000').split(',').map(Number)
  const committee = Number(arg('--committee') ?? 30)
  if (!(committee >= 0 && committee <= 100)) throw new Error('--committee takes a percentage of deals, 0-100')
  // Relative to packages/collector, where pnpm -C runs this.
  const againstArg = arg('--against')
  const against = againstArg ? resolve(againstArg) : undefined
  const builds = [{ name: against ? 'this build' : '', dist: null }, ...(against ? [{ name: `against ${againstArg}`, dist: against }] : [])]
  const lines = [
    '| touches | leads | deals (with 2–4 people) | won deals | copies in journey=deal: journeys / touches | seed (ingest / identify) s | cold load ms | load ms | journey | ' + MODELS.join(' | ') + ' | all 9 | RSS MB |',
    '|' + '---|'.repeat(MODELS.length + 12),
  ]
  const loadStart = Math.round(loadavg()[0] * 100) / 100
  const results: Array<{ touches: number; m: Measured }> = []
  for (const size of sizes) {
    const d = mkdtempSync(join(tmpdir(), 'closeloop-report-bench-'))
    try {
      const s = child(['seed', d, String(size), String(committee)]) as Record<string, number>
      const measured = measure(d, builds, against ? 2 : 1)
      results.push({ touches: s.touches, m: measured[0] })
      // The store's figures once per size; the rows below it are its other journey modes and builds.
      let shape = `| ${count(s.touches)} | ${count(s.leads)} | ${count(s.deals)} (${count(s.multi)}) | ${count(s.won)} | ${count(measured[0].merged.journeys)} / ${count(measured[0].merged.touches)} | ${(s.seedMs / 1000).toFixed(0)} (${(s.ingestMs / 1000).toFixed(0)} / ${(s.identifyMs / 1000).toFixed(0)}) |`
      for (const m of measured) {
        for (const j of m.modes) {
          lines.push(`${shape} ${ms(m.coldLoad)} | ${ms(m.load)} | ${j}${m.build ? ` (${m.build})` : ''} | ${MODELS.map((x) => ms(m.cell[`${j}.${x}`])).join(' | ')} | ${ms(m.cell[`${j}.all`])} | ${m.rss[j]} |`)
          process.stderr.write(lines[lines.length - 1] + '\n')
          shape = '| | | | | | |'
        }
      }
      if (against) for (const m of measured.slice(1)) process.stdout.write(verdicts([{ touches: s.touches, m }]).join('\n') + '\n')
    } finally {
      rmSync(d, { recursive: true, force: true })
    }
  }
  const section = [
    '<!-- reports-e2e:start -->',
    '## Reports end to end',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on this machine (${process.arch}, Node ${process.version}) with`,
    `\`npx -y pnpm@10 -C packages/collector exec tsx ../../bench/report-bench.ts --committee ${committee} --write\`. SQLite file store seeded through`,
    'its bulk path (ingest in 5,000-event batches, identify, deals, spend), then measured in fresh processes.',
    `Leads come in companies of ${COMPANY} (one e-mail domain each); ${committee}% of the deals name 2–4 people of their company`,
    '(POST /v1/deals `emails`), the rest one. "copies" is what `journey=deal` appends to the table: one merged journey',
    'per such deal, holding copies of its people\'s touches.',
    '"cold load" is the first `loadReportTable` of a process: one scan of the site\'s touches into the in-memory',
    'columns (store/sqlite/report-cache.ts) plus leads, links, deals and spend. Every later report follows, as on a live',
    'collector, a one-event ingest, an identify of a new lead and a won deal for it, so no earlier load is reused:',
    '"load" (the storage part alone) and the model cells pay for the append, re-reading that lead and deal, the table',
    'build, the journey mode\'s merged journeys, the pure engine and the KPIs, exactly what `GET /v1/reports/attribution` does.',
    'Cells: median of 3 runs after one warm-up, ms; `by=channel`, `conversion=won`; the journey modes take turns report by',
    'report in one process (`account` only when the store assigned accounts). RSS is the peak of a process that reports',
    'in that journey mode only (the built package under plain node, sampled every 20 ms).',
    'With `--against DIST` the rows of another build (its dist folder, relative to packages/collector) follow, measured',
    'on the same store in processes alternating with this build\'s (cells: median over both processes\' runs).',
    '',
    'Changed 2026-12-04: deals may name several people, so the store now has leads in companies, multi-contact deals',
    '(`--committee`, default 30%) and a row per journey mode; reports also compute the KPIs (sourced, influenced,',
    'LTV:CAC) that came with journey modes. Figures before that date are not comparable with these.',
    '',
    ...lines,
    '',
    `1-minute load average ${loadStart} at the start, ${Math.round(loadavg()[0] * 100) / 100} at the end.`,
    '',
    ...verdicts(results),
    '<!-- reports-e2e:end -->',
  ].join('\n')
  process.stdout.write(section + '\n')
  if (process.argv.includes('--write')) writeResultsSection('reports-e2e', section)
}

await main()
