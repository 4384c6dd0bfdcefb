// Start-up script time of dist/closeloop.js beside form-attribution, its closest open peer (it also
// fills hidden form fields), in one Chromium run. Pages: a landing from a Google ad (UTMs and a
// gclid) with 0 or with 10 forms, carrying one async script tag: the tracker, form-attribution with
// `data-click-ids="true"` and cookie or localStorage storage, or an empty script. Every measurement
// is a fresh browser context (a first visit); the variants take turns in a new random order each
// round, so a busy machine slows them alike.
//
// Figure: CDP Performance.getMetrics ScriptDuration (all script on the page's main thread: compile,
// run, callbacks, and the synchronous cookie/storage round trips made from script), minus the
// empty script's median on the same page. Read twice per page:
//   - at load: as soon as the load event has been heard over CDP (what the page paid before it was
//     loaded), with requestIdleCallback callbacks held until then and released right after, so
//     idle-time work cannot race the CDP round trip into the figure;
//   - settled: after 1 s without navigation (every deferred piece of work, idle-time callbacks
//     and the first send of the collected events included).
// ScriptDuration leaves out microtasks (promise callbacks, async functions after an await): 5 ms of
// work in a promise callback adds ~0.05 ms to it. So the settled figure is also given as
// TaskDuration (all main-thread task time: script, microtasks, style, layout, the browser's own
// work), minus the empty script's: noisier, but work cannot hide from it. Only with --cpu: in wall
// time the page's own parsing and the machine's load swamp it.
// Then the next page of the same visit, the page view most page views are: a fresh context
// (a new tab, a new renderer) holding what the variant stored on the landing, loading another page
// of the site with the landing as referrer and no campaign in its address.
// Then a phone stand-in: the same pages under 6× CPU throttling (Emulation.setCPUThrottlingRate),
// with PerformanceObservers for long tasks (> 50 ms) and long animation frames installed before any
// page script: the frames name the scripts that ran in them, so the tracker's own longest task is
// told apart from the machine's.
//
//   node tracker-startup.mjs [--runs 21] [--next-runs 11] [--throttled-runs 7] [--cpu] [--write] [--check]
// --write replaces the start-up section of RESULTS.md; --check exits 1 when a ratio is over 1.0
// (at load or settled) or the tracker ran a task of its own over 50 ms.
import { cpus, loadavg } from 'node:os'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { BUNDLE, filledForms, launch, median, shuffle, startServer } from './tracker-pages.mjs'

/** Replaces this bench's section of RESULTS.md between its markers (results.ts does the same for the TypeScript benches). */
function writeResultsSection(name, section) {
  const file = new URL('./RESULTS.md', import.meta.url)
  const text = readFileSync(file, 'utf8')
  const a = text.indexOf(`<!-- ${name}:start -->`)
  const end = `<!-- ${name}:end -->`
  const b = text.indexOf(end)
  writeFileSync(file, a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + end.length) : `${text.trimEnd()}\n\n${section}\n`)
  console.log('updated bench/RESULTS.md')
}

const arg = (name, dflt) => {
  const i = process.argv.indexOf('--' + name)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
const RUNS = arg('runs', 21)
const THROTTLED_RUNS = arg('throttled-runs', 7)
const NEXT_RUNS = arg('next-runs', 11)
const FORMS = [0, 10]
// Wall clock by default, as the budget names it; --cpu counts main-thread CPU time only, which a busy
// machine disturbs far less (waits for the browser process and the scheduler left out).
const TIME = process.argv.includes('--cpu') ? 'threadTicks' : 'timeTicks'
const VARIANTS = ['empty', 'closeloop', 'fa-cookie', 'fa-localStorage']
const PEERS = ['fa-cookie', 'fa-localStorage']
const ALL_TASKS = TIME == 'threadTicks'
// Idle callbacks wait until the at-load figure is read, then run as they would have (same page,
// same options): without this, idle work that starts right after load races the CDP round trip.
// Only the order changes; "settled" still counts all of it. (form-attribution uses none.)
const HOLD_IDLE = `(() => {
  const held = [], ric = window.requestIdleCallback.bind(window)
  window.requestIdleCallback = (f, o) => (held.push([f, o]), 0)
  window.__releaseIdle = () => { window.requestIdleCallback = ric; for (const [f, o] of held.splice(0)) ric(f, o) }
})()`
const LONG_TASK_OBSERVER = `new PerformanceObserver((l) => { for (const e of l.getEntries()) (window.__longTasks ||= []).push(Math.round(e.duration)) }).observe({ type: 'longtask', buffered: true })
new PerformanceObserver((l) => { for (const e of l.getEntries()) for (const s of e.scripts) (window.__ownScripts ||= []).push([s.sourceURL, Math.round(s.duration)]) }).observe({ type: 'long-animation-frame', buffered: true })`
// A long task counts any work of the page's main thread, and on a busy machine the empty page has
// them too. Long animation frames (> 50 ms) name the scripts that ran in them, with each entry
// point's duration (listed from 5 ms): the longest entry of the variant's own script is its longest
// task, whatever else the machine did.
const OWN_SCRIPT = { closeloop: '/closeloop.js', 'fa-cookie': '/form-attribution.js', 'fa-localStorage': '/form-attribution.js' }

const server = await startServer()
const browser = await launch()
const load0 = loadavg()[0]

/** What `variant` stored on the landing page, in a context of its own (Playwright's storageState). */
async function landingState(variant, forms) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(server.url(variant, forms), { waitUntil: 'load' })
  await new Promise((r) => setTimeout(r, 800))
  const state = await context.storageState()
  await context.close()
  return state
}

async function measure(variant, forms, throttle, next) {
  const context = await browser.newContext(next ? { storageState: await landingState(variant, forms) } : {})
  if (throttle) await context.addInitScript(LONG_TASK_OBSERVER)
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('Performance.enable', { timeDomain: TIME })
  if (throttle) await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle })
  const script = async (name = 'ScriptDuration') => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name == name).value * 1000
  await context.addInitScript(HOLD_IDLE)
  const loaded = new Promise((r) => cdp.once('Page.loadEventFired', r))
  await cdp.send('Page.enable')
  await page.goto(next ? server.url(variant, forms).split('?')[0] : server.url(variant, forms), { waitUntil: 'commit', referer: next ? server.url(variant, forms) : undefined })
  await loaded
  const atLoad = await script()
  await cdp.send('Runtime.evaluate', { expression: '__releaseIdle()' })
  await new Promise((r) => setTimeout(r, throttle ? 2000 : 1000))
  const settled = await script()
  const result = { atLoad, settled, task: await script('TaskDuration'), longTasks: [], own: [] }
  if (throttle) await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 })
  if (forms && variant != 'empty') {
    const n = await filledForms(page, variant)
    if (n != forms) throw new Error(`${variant} filled ${n} of ${forms} forms: not a valid start-up measurement`)
  }
  if (throttle) {
    result.longTasks = await page.evaluate(() => window.__longTasks ?? [])
    const scripts = await page.evaluate(() => window.__ownScripts ?? [])
    result.own = scripts.filter(([url]) => OWN_SCRIPT[variant] && url.endsWith(OWN_SCRIPT[variant])).map(([, d]) => d)
  }
  await context.close()
  return result
}

async function series(rounds, throttle, next) {
  const out = {}
  for (let r = 0; r < rounds; r++)
    for (const forms of FORMS)
      for (const v of shuffle(VARIANTS)) {
        const m = await measure(v, forms, throttle, next)
        const cell = (out[forms] ??= {})[v] ??= { atLoad: [], settled: [], task: [], longTasks: [], own: [] }
        cell.atLoad.push(m.atLoad)
        cell.settled.push(m.settled)
        cell.task.push(m.task)
        cell.longTasks.push(...m.longTasks)
        cell.own.push(m.own.length ? Math.max(...m.own) : 0)
      }
  return out
}

const f = (ms) => ms.toFixed(2)
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) + '×' : 'n/a')

/** Rows of one series: per page, per variant, medians minus the empty script's, and the ratios. */
function table(res, throttle) {
  const rows = []
  const verdicts = []
  for (const forms of FORMS) {
    const cells = res[forms]
    const base = { atLoad: median(cells.empty.atLoad), settled: median(cells.empty.settled), task: median(cells.empty.task) }
    const net = (v, k) => median(cells[v][k]) - base[k]
    for (const v of VARIANTS.slice(1)) {
      const lt = cells[v].longTasks
      rows.push({
        forms,
        variant: v,
        atLoad: net(v, 'atLoad'),
        settled: net(v, 'settled'),
        task: net(v, 'task'),
        range: `${f(Math.min(...cells[v].settled) - base.settled)}–${f(Math.max(...cells[v].settled) - base.settled)}`,
        longTasks: throttle ? (lt.length ? `${lt.length} (longest ${Math.max(...lt)} ms)` : 'none') : '',
        own: throttle ? Math.max(...cells[v].own) : 0,
      })
    }
    rows.push({ forms, variant: 'empty (raw, subtracted above)', atLoad: base.atLoad, settled: base.settled, task: base.task, range: '', own: null, longTasks: throttle ? (cells.empty.longTasks.length ? `${cells.empty.longTasks.length} (longest ${Math.max(...cells.empty.longTasks)} ms)` : 'none') : '' })
    for (const p of PEERS)
      for (const k of ALL_TASKS ? ['atLoad', 'settled', 'task'] : ['atLoad', 'settled']) verdicts.push({ forms, peer: p, when: k, ratio: net('closeloop', k) / net(p, k) })
  }
  return { rows, verdicts }
}

const ownCell = (ms) => (ms == null ? '' : ms >= 5 ? `${ms} ms` : '< 5 ms')

function print(title, { rows, verdicts }, throttle) {
  console.log(`\n${title}`)
  console.log(`  ${'forms'.padEnd(6)}${'script'.padEnd(32)}${'at load ms'.padStart(11)}${'settled ms'.padStart(12)}${ALL_TASKS ? 'all tasks ms'.padStart(14) : ''}   settled min–max${throttle ? '   page long tasks > 50 ms   longest own task' : ''}`)
  for (const r of rows) console.log(`  ${String(r.forms).padEnd(6)}${r.variant.padEnd(32)}${f(r.atLoad).padStart(11)}${f(r.settled).padStart(12)}${ALL_TASKS ? f(r.task).padStart(14) : ''}   ${r.range.padEnd(15)}${throttle ? '   ' + r.longTasks.padEnd(22) + ownCell(r.own) : ''}`)
  for (const v of verdicts) console.log(`  ${v.forms} forms, closeloop ÷ ${v.peer}, ${v.when}: ${v.ratio.toFixed(2)}×`)
}

let normal, nextPage, throttled
try {
  normal = table(await series(RUNS, 0), false)
  nextPage = NEXT_RUNS > 0 ? table(await series(NEXT_RUNS, 0, true), false) : null
  throttled = THROTTLED_RUNS > 0 ? table(await series(THROTTLED_RUNS, 6), true) : null
} finally {
  await browser.close()
  server.close()
}
const load1 = loadavg()[0]
const machine = `${cpus().length} × ${cpus()[0].model.trim()}, load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after`
const version = browser.version()
print(`Start-up script time (${TIME == 'threadTicks' ? 'CPU' : 'wall'}), ScriptDuration minus the empty script's, median of ${RUNS} fresh contexts (Chromium ${version}; ${machine})`, normal, false)
if (nextPage) print(`The next page of the visit (fresh context holding the landing's cookies and storage), median of ${NEXT_RUNS}`, nextPage, false)
if (throttled) print(`6× CPU throttling, median of ${THROTTLED_RUNS} fresh contexts`, throttled, true)

const over = normal.verdicts.filter((v) => v.when != 'task' && v.ratio > 1)
const trackerLong = throttled ? throttled.rows.filter((r) => r.variant == 'closeloop' && r.own > 50) : []
console.log(`\nbudget (≤ 1.0× form-attribution with either storage, 0 and 10 forms; no task of its own > 50 ms): ${over.length || trackerLong.length ? 'NOT MET' : 'met'}`)
if (process.argv.includes('--check') && (over.length || trackerLong.length)) process.exitCode = 1

if (process.argv.includes('--write')) {
  let commit = ''
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    // Not a git checkout: the section says so by leaving the commit out.
  }
  const code = readFileSync(BUNDLE)
  const md = (res, throttle) => [
    `| forms | script | at load ms | settled ms |${ALL_TASKS ? ' settled, all tasks ms |' : ''} settled min–max |${throttle ? ' page long tasks > 50 ms | longest own task |' : ''}`,
    `|---:|---|---:|---:|${ALL_TASKS ? '---:|' : ''}---|${throttle ? '---|---:|' : ''}`,
    ...res.rows.map((r) => `| ${r.forms} | ${r.variant == 'closeloop' ? '**closeloop**' : r.variant} | ${f(r.atLoad)} | ${f(r.settled)} |${ALL_TASKS ? ` ${f(r.task)} |` : ''} ${r.range} |${throttle ? ` ${r.longTasks} | ${ownCell(r.own)} |` : ''}`),
    '',
    `| forms | ratio closeloop ÷ | at load | settled |${ALL_TASKS ? ' settled, all tasks |' : ''}`,
    `|---:|---|---:|---:|${ALL_TASKS ? '---:|' : ''}`,
    ...FORMS.flatMap((forms) => PEERS.map((p) => {
      const at = res.verdicts.find((v) => v.forms == forms && v.peer == p && v.when == 'atLoad').ratio
      const st = res.verdicts.find((v) => v.forms == forms && v.peer == p && v.when == 'settled').ratio
      const all = res.verdicts.find((v) => v.forms == forms && v.peer == p && v.when == 'task')
      return `| ${forms} | ${p} | ${at.toFixed(2)}× | ${st.toFixed(2)}× |${all ? ` ${all.ratio.toFixed(2)}× |` : ''}`
    })),
  ]
  writeResultsSection(
    'tracker-startup',
    [
      '<!-- tracker-startup:start -->',
      '## Tracker start-up beside form-attribution',
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}, Chromium ${version} (headless), with`,
      `\`npx -y pnpm@10 -C bench run tracker:startup -- --write\`, \`dist/closeloop.js\`${commit ? ` at commit ${commit}` : ''} (${code.length.toLocaleString('en')} B raw, ${gzipSync(code, { level: 9 }).length.toLocaleString('en')} B gzip -9)`,
      'beside form-attribution 2.5.0 (`data-click-ids="true"`, `data-storage="cookie"` or `"localStorage"`). Landing from a Google ad',
      '(five UTMs and a gclid), a fresh browser context per measurement, the four scripts in a new random order each round.',
      'Cells: CDP `ScriptDuration` medians minus the empty script\'s median on the same page; "at load" is read as soon as the',
      'load event is heard over CDP, with `requestIdleCallback` callbacks held until then (released right after: idle work',
      'cannot race the CDP round trip), "settled" one second later (deferred work and the first send included: all the script',
      'costs a page view nobody interacts with). ScriptDuration leaves out microtasks (promise callbacks); with `--cpu`,',
      '"all tasks" is CDP `TaskDuration` at the settled point (every main-thread task) minus the empty script\'s.',
      `Timing: ${TIME == 'threadTicks' ? 'main-thread CPU time (`--cpu`: `Performance.enable` with `timeDomain: threadTicks`)' : 'wall clock (the default `timeDomain`)'}.`,
      '',
      `### Unthrottled, median of ${RUNS}`,
      '',
      ...md(normal, false),
      '',
      ...(nextPage ? [`### The next page of the visit, median of ${NEXT_RUNS}`, '', 'A fresh context holding what the script stored on the landing (cookies and localStorage), loading another page of the site with the landing as referrer: a new tab of the same visit. The budget rows above are the landing; this is the page view most page views are.', '', ...md(nextPage, false), ''] : []),
      ...(throttled ? [`### 6× CPU throttling (phone stand-in), median of ${THROTTLED_RUNS}`, '', ...md(throttled, true), ''] : []),
      `Budget: ≤ 1.0× form-attribution with either storage on both pages, and no task of the tracker's own over 50 ms: **${over.length || trackerLong.length ? 'not met' : 'met'}** in this run.`,
      '<!-- tracker-startup:end -->',
    ].join('\n'),
  )
}
