// Attribution engine benchmark (SPEC §10: 1M touchpoints / 100k leads / 10k won deals → one
// rule-based model ≤ 1 s, all models ≤ 5 s, cost linear in touchpoints).
//
// Run: npx -y pnpm@10 -C packages/collector exec tsx ../../bench/attribution-engine.ts [--write]
// Synthetic journeys at 100k / 300k / 1M touches (journeys and deals scale with touches, reaching
// 100k journeys and 10k won deals at 1M). Times are wall-clock medians of 3 runs after a warm-up;
// each buildReport call starts from raw journeys (compile, key interning, paths, the model for
// the chosen conversion and again for leads, spend matching). --write updates bench/RESULTS.md.

import os from 'node:os'
import {
  buildModelsComparison,
  buildReport,
  MODELS,
  type AttributionTouch,
  type DealStageChange,
  type Journey,
  type SpendRow,
} from '../packages/collector/src/attribution/index.js'
import { writeResultsSection } from './results.js'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SOURCES: Array<{ source: string; medium: string; channel: string; paid: boolean }> = [
  { source: 'google', medium: 'cpc', channel: 'Paid Search', paid: true },
  { source: 'bing', medium: 'cpc', channel: 'Paid Search', paid: true },
  { source: 'facebook', medium: 'paid_social', channel: 'Paid Social', paid: true },
  { source: 'linkedin', medium: 'paid_social', channel: 'Paid Social', paid: true },
  { source: 'youtube', medium: 'cpv', channel: 'Paid Video', paid: true },
  { source: 'dv360', medium: 'display', channel: 'Display', paid: true },
  { source: 'google', medium: 'organic', channel: 'Organic Search', paid: false },
  { source: 'bing', medium: 'organic', channel: 'Organic Search', paid: false },
  { source: 'newsletter', medium: 'email', channel: 'Email', paid: false },
  { source: 'partner', medium: 'affiliate', channel: 'Affiliates', paid: false },
  { source: 'news.ycombinator.com', medium: 'referral', channel: 'Referral', paid: false },
  { source: 't.co', medium: 'referral', channel: 'Organic Social', paid: false },
  { source: '(direct)', medium: '(none)', channel: 'Direct', paid: false },
]
const CAMPAIGNS = 300

export function generate(touchCount: number, seed = 1): { journeys: Journey[]; spend: SpendRow[] } {
  const r = rng(seed)
  const journeyCount = touchCount / 10
  const journeys: Journey[] = []
  let made = 0
  for (let j = 0; j < journeyCount; j++) {
    const len = j === journeyCount - 1 ? touchCount - made : Math.max(1, Math.min(touchCount - made - (journeyCount - j - 1), 1 + Math.floor(r() * 19)))
    made += len
    const startDay = r() * 180
    const touches: AttributionTouch[] = []
    let t = T0 + startDay * DAY
    for (let k = 0; k < len; k++) {
      const s = SOURCES[Math.floor(Math.pow(r(), 1.5) * SOURCES.length)]
      const campaign = s.paid ? (r() < 0.9 ? `campaign-${Math.floor(Math.pow(r(), 2) * CAMPAIGNS)}` : null) : null
      touches.push({ ts: t, source: s.source, medium: s.medium, channel: s.channel, campaign, content: s.paid ? `ad-${Math.floor(r() * 20)}` : null, term: null, landing: `https://example.com/p/${Math.floor(r() * 50)}` })
      t += r() * 6 * DAY
    }
    const journey: Journey = { id: `j${j}`, touches, identifiedAt: null, deals: [] }
    if (r() < 0.4) {
      const identified = touches[Math.floor(r() * len)].ts + r() * DAY
      journey.identifiedAt = identified
      // 40% leads × 35.7% with a deal × 70% won ≈ 10% of journeys won (10k at 100k journeys).
      if (r() < 0.357) {
        const opp = identified + r() * 20 * DAY
        const stages: DealStageChange[] = [{ stage: 'sql', ts: identified + DAY }, { stage: 'opportunity', ts: opp }]
        stages.push(r() < 0.7 ? { stage: 'won', ts: opp + r() * 30 * DAY } : { stage: 'lost', ts: opp + r() * 30 * DAY })
        journey.deals = [{ dealId: `d${j}`, amount: Math.round(1000 + r() * 50_000), stages }]
      }
    }
    journeys.push(journey)
  }
  const spend: SpendRow[] = []
  for (let d = 0; d < 240; d++) {
    const date = new Date(T0 + d * DAY).toISOString().slice(0, 10)
    for (let c = 0; c < CAMPAIGNS; c += 3) {
      const s = SOURCES[c % 6]
      spend.push({ date, source: s.source, medium: s.medium, campaign: `campaign-${c}`, amount: Math.round(r() * 500) })
    }
  }
  return { journeys, spend }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

interface Timing {
  median: number
  max: number
  /** Median process CPU time (user + system, all threads) per call: less sensitive to other load. */
  cpu: number
}

/** Wall-clock median and worst, and median CPU time, of `runs` calls after one warm-up. */
function time(fn: () => unknown, runs = 5): Timing {
  fn()
  const ms: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage()
    const t = performance.now()
    fn()
    ms.push(performance.now() - t)
    const d = process.cpuUsage(c)
    cpu.push((d.user + d.system) / 1000)
  }
  return { median: median(ms), max: Math.max(...ms), cpu: median(cpu) }
}

const mb = (b: number): string => `${Math.round(b / 1048576)} MB`

interface Result {
  touches: number
  journeys: number
  won: number
  perModel: Record<string, Timing>
  all: Timing
  markovCampaign: Timing
  heap: number
  rss: number
}

function run(touches: number): Result {
  const { journeys, spend } = generate(touches)
  const won = journeys.reduce((n, j) => n + (j.deals ?? []).filter((d) => d.stages.some((s) => s.stage === 'won')).length, 0)
  const base = { journeys, spend, by: 'channel' as const, conversion: 'won' as const, currency: 'USD' }
  const perModel: Record<string, Timing> = {}
  for (const model of MODELS) perModel[model] = time(() => buildReport({ ...base, model }))
  const all = time(() => buildModelsComparison(base))
  const markovCampaign = time(() => buildReport({ ...base, by: 'campaign', model: 'markov' }), 3)
  const mem = process.memoryUsage()
  return { touches, journeys: journeys.length, won, perModel, all, markovCampaign, heap: mem.heapUsed, rss: mem.rss }
}

const loadBefore = os.loadavg()[0]
const results: Result[] = []
for (const n of [100_000, 300_000, 1_000_000]) {
  const r = run(n)
  results.push(r)
  console.log(JSON.stringify({ ...r, heap: mb(r.heap), rss: mb(r.rss) }))
}

const loadAfter = os.loadavg()[0]
const ms = (v: Timing): string => `${Math.round(v.median)} (${Math.round(v.max)})`
const cpu = (v: Timing): string => `${Math.round(v.cpu)}`
const lines = [
  '## Attribution engine',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, with`,
  '`npx -y pnpm@10 -C packages/collector exec tsx ../../bench/attribution-engine.ts --write`. Synthetic journeys (10 touches',
  'each on average, 13 sources, 300 campaigns, 40% identified, ~10% won). Each `buildReport` starts from raw journeys',
  'and runs the model twice (won conversions, and leads for the `leads` column); `by=channel`. Cells: median (worst) ms of 5',
  "runs after a warm-up; the worst runs are the ones a full mark-compact of the caller's journey objects lands in.",
  '',
  'Wall-clock ms, median (worst):',
  '',
  `| touches | journeys | won deals | ${MODELS.join(' | ')} | all 9 (\`buildModelsComparison\`) | markov by=campaign | heap | RSS |`,
  `|---|---|---|${MODELS.map(() => '---').join('|')}|---|---|---|---|`,
  ...results.map(
    (r) =>
      `| ${r.touches.toLocaleString('en')} | ${r.journeys.toLocaleString('en')} | ${r.won.toLocaleString('en')} | ${MODELS.map((m) => ms(r.perModel[m])).join(' | ')} | ${ms(r.all)} | ${ms(r.markovCampaign)} | ${mb(r.heap)} | ${mb(r.rss)} |`,
  ),
  '',
  'Process CPU ms per call (user + system, all threads including GC helpers), median:',
  '',
  `| touches | ${MODELS.join(' | ')} | all 9 | markov by=campaign |`,
  `|---|${MODELS.map(() => '---').join('|')}|---|---|`,
  ...results.map((r) => `| ${r.touches.toLocaleString('en')} | ${MODELS.map((m) => cpu(r.perModel[m])).join(' | ')} | ${cpu(r.all)} | ${cpu(r.markovCampaign)} |`),
  '',
  `1-minute load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after the run (other work shares the 2 cores; times`,
  'measured on a busy machine are upper bounds).',
  '',
  'Budget (SPEC §10) at 1M touches: one rule-based model ≤ 1 s, all models ≤ 5 s. Heap/RSS include the synthetic',
  'journey objects themselves (the input the storage layer would hand over).',
  '',
]

if (process.argv.includes('--write')) {
  writeResultsSection('attribution-engine', `<!-- attribution-engine:start -->\n${lines.join('\n')}<!-- attribution-engine:end -->`)
} else {
  console.log(lines.join('\n'))
}
