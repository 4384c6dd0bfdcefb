// The longest main-thread task of each start-up script's own, from a Chromium trace: per task, the
// time in the script's entry points (its evaluation, its callbacks), as wall time (`dur`) and thread
// time (`tdur`, CPU). On a busy machine a long-task observer also counts the time the operating
// system took the core away, and whole tasks hold the browser's own work. Pages and variants
// as in tracker-startup.mjs (a fresh context per run, a landing from a Google ad, 0 or 10 forms),
// unthrottled and under 6× CPU throttling, from navigation until a second after load.
//   node tracker-tasks.mjs [--runs 5]
import { launch, median, shuffle, startServer } from './tracker-pages.mjs'

const i = process.argv.indexOf('--runs')
const RUNS = i > 0 ? +process.argv[i + 1] : 5
const SCRIPT = { closeloop: '/closeloop.js', 'fa-cookie': '/form-attribution.js', 'fa-localStorage': '/form-attribution.js' }
const CATEGORIES = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8']

const server = await startServer()
const browser = await launch()

/** [wall ms, thread ms] of the longest task that ran the variant's script. */
async function longest(variant, forms, throttle) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  if (throttle) await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle })
  await browser.startTracing(page, { categories: CATEGORIES })
  await page.goto(server.url(variant, forms), { waitUntil: 'load' })
  await new Promise((r) => setTimeout(r, throttle ? 2000 : 1000))
  const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents
  await context.close()
  const main = events.find((e) => e.name == 'thread_name' && e.args.name == 'CrRendererMain' && events.some((f) => f.pid == e.pid && f.tid == e.tid && f.args?.data?.url?.endsWith(SCRIPT[variant])))
  if (!main) return [0, 0]
  const mine = events.filter((e) => e.pid == main.pid && e.tid == main.tid)
  // The script's own entry points (its evaluation and every callback of it the browser calls); a
  // task that merely holds one (a rendering task running a microtask of it) is not the script's.
  const ours = mine.filter((e) => e.ph == 'X' && (e.name == 'EvaluateScript' || e.name == 'FunctionCall') && e.args?.data?.url?.endsWith(SCRIPT[variant]))
  let best = [0, 0, '']
  for (const t of mine.filter((e) => e.name == 'RunTask' && e.ph == 'X')) {
    const inside = ours.filter((e) => e.ts >= t.ts && e.ts < t.ts + t.dur && !ours.some((o) => o != e && o.ts <= e.ts && e.ts < o.ts + o.dur))
    const wall = inside.reduce((s, e) => s + e.dur, 0) / 1000
    if (inside[0] && wall > best[0]) best = [wall, inside.reduce((s, e) => s + (e.tdur ?? 0), 0) / 1000, inside[0].name]
  }
  return best
}

const out = {}
try {
  for (let r = 0; r < RUNS; r++)
    for (const throttle of [0, 6])
      for (const forms of [0, 10])
        for (const v of shuffle(Object.keys(SCRIPT))) {
          const [wall, thread, what] = await longest(v, forms, throttle)
          const cell = ((out[`${throttle}/${forms}`] ??= {})[v] ??= { wall: [], thread: [], what: new Set() })
          cell.wall.push(wall)
          cell.thread.push(thread)
          cell.what.add(what)
        }
} finally {
  await browser.close()
  server.close()
}
console.log(`longest own task of each script (its entry points' time within one task), ms (median and max of ${RUNS} fresh contexts; wall = dur, CPU = tdur)`)
console.log('| CPU throttling | forms | script | wall median | wall max | CPU median | CPU max | longest was |')
console.log('|---|---:|---|---:|---:|---:|---:|---|')
for (const [k, cells] of Object.entries(out))
  for (const [v, c] of Object.entries(cells)) {
    const [throttle, forms] = k.split('/')
    console.log(`| ${throttle == '0' ? 'none' : throttle + '×'} | ${forms} | ${v} | ${median(c.wall).toFixed(1)} | ${Math.max(...c.wall).toFixed(1)} | ${median(c.thread).toFixed(1)} | ${Math.max(...c.thread).toFixed(1)} | ${[...c.what].join(', ')} |`)
  }
