// Where the tracker's start-up time goes: CPU profiles (V8 sampling profiler over CDP, 50 µs) of a
// fresh context loading the landing page with 0 or 10 forms, from navigation until the page has
// been quiet for a second, summed over --runs. Prints the self time of every function of
// closeloop.js (with a snippet of the minified code where it starts, since names are mangled), the
// time the same samples spend in the browser's own entries ((program), GC, native calls), and
// ScriptDuration (CDP Performance.getMetrics) beside the empty script's.
//   node tracker-profile.mjs [--runs 10] [--forms 0,10] [--variant closeloop]
import { readFileSync } from 'node:fs'
import { BUNDLE, PEER, launch, median, startServer } from './tracker-pages.mjs'

const arg = (name, dflt) => {
  const i = process.argv.indexOf('--' + name)
  return i > 0 ? process.argv[i + 1] : dflt
}
const RUNS = +arg('runs', 10)
const FORMS = arg('forms', '0,10').split(',').map(Number)
const VARIANT = arg('variant', 'closeloop')
const SETTLE_MS = 1000
const code = readFileSync(VARIANT == 'closeloop' ? BUNDLE : PEER, 'utf8')
const lines = code.split('\n')
const snippet = (line, col) => (lines[line] ?? '').slice(col, col + 60).replace(/\s+/g, ' ')

const server = await startServer()
const browser = await launch()

async function once(variant, forms, profile) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('Performance.enable')
  if (profile) {
    await cdp.send('Profiler.enable')
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 })
    await cdp.send('Profiler.start')
  }
  await page.goto(server.url(variant, forms), { waitUntil: 'load' })
  await new Promise((r) => setTimeout(r, SETTLE_MS))
  const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]))
  const result = { script: metrics.ScriptDuration * 1000 }
  if (profile) result.profile = (await cdp.send('Profiler.stop')).profile
  await context.close()
  return result
}

try {
  for (const forms of FORMS) {
    const self = new Map()
    const ours = [], empty = []
    let sampled = 0
    for (let r = 0; r < RUNS; r++) {
      empty.push((await once('empty', forms, false)).script)
      const { script, profile } = await once(VARIANT, forms, true)
      ours.push(script)
      const dt = new Map()
      // timeDeltas[i] is the time before samples[i]: the sample stands for that slice.
      profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)))
      const parent = new Map()
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n)
      for (const n of profile.nodes) {
        const t = (dt.get(n.id) ?? 0) / 1000
        if (!t) continue
        const f = n.callFrame
        // Native calls and the idle/program buckets are charged to the script frame that called them.
        let key
        if (f.url.endsWith(VARIANT == 'closeloop' ? '/closeloop.js' : '/form-attribution.js')) key = `js  ${f.functionName || '(anonymous)'} @${f.lineNumber}:${f.columnNumber}  ${snippet(f.lineNumber, f.columnNumber)}`
        else {
          let p = parent.get(n.id)
          while (p && !p.callFrame.url) p = parent.get(p.id)
          const caller = p && p.callFrame.url.match(/[^/]+$/)?.[0]
          key = `    ${f.functionName || f.url || '(anonymous)'}${caller ? ` ← ${caller} ${p.callFrame.functionName || '(anonymous)'} @${p.callFrame.lineNumber}:${p.callFrame.columnNumber}` : ''}`
        }
        self.set(key, (self.get(key) ?? 0) + t)
        sampled += t
      }
    }
    console.log(`\n${VARIANT}, ${forms} forms, ${RUNS} runs: ScriptDuration median ${median(ours).toFixed(2)} ms, empty script ${median(empty).toFixed(2)} ms, difference ${(median(ours) - median(empty)).toFixed(2)} ms`)
    console.log(`self time per run (ms), entries ≥ 0.05 ms, of ${(sampled / RUNS).toFixed(2)} ms sampled per run (idle included):`)
    for (const [k, t] of [...self].sort((a, b) => b[1] - a[1])) if (t / RUNS >= 0.05 && !k.includes('(idle)')) console.log(`${(t / RUNS).toFixed(2).padStart(7)}  ${k}`)
  }
} finally {
  await browser.close()
  server.close()
}
