// The pages, scripts and browser the tracker's start-up benches share: a local HTTP server with a
// landing page carrying 0 or 10 forms and one script tag (the tracker, form-attribution with one of
// its storages, or an empty script), and Chromium launched with the project's flags.
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const BUNDLE = fileURLToPath(new URL('../packages/tracker/dist/closeloop.js', import.meta.url))
/** form-attribution's published build, outside the repository: loaded for side-by-side runs only. */
export const PEER = fileURLToPath(new URL('../../shared/peers/form-attribution/script.min.js', import.meta.url))

for (const [file, hint] of [
  [BUNDLE, 'build the tracker first (npx -y pnpm@10 -C packages/tracker build)'],
  [PEER, 'the peer build is expected beside the repository (../shared/peers/form-attribution/script.min.js)'],
]) {
  if (!existsSync(file)) {
    console.error(`${file} is missing: ${hint}`)
    process.exit(1)
  }
}

const SITE = 'pk_bench000000000000000000'
/** A first visit from a Google ad: both scripts capture UTMs and a click ID and store them. */
export const LANDING_QUERY = '?utm_source=google&utm_medium=cpc&utm_campaign=spring_launch&utm_term=crm&utm_content=ad-1&gclid=Cj0KCQ-bench_1'

/** What each variant puts on the page: one async script tag, as each product documents its install. */
export const VARIANTS = {
  empty: () => '<script async src="/empty.js"></script>',
  closeloop: (origin) => `<script async src="/closeloop.js" data-site="${SITE}" data-collector="${origin}"></script>`,
  'fa-cookie': () => '<script async src="/form-attribution.js" data-storage="cookie" data-click-ids="true"></script>',
  'fa-localStorage': () => '<script async src="/form-attribution.js" data-storage="localStorage" data-click-ids="true"></script>',
}

const form = (i) =>
  `<form id="f${i}" action="/lead" method="post"><input name="name"><input name="email" type="email"><input type="hidden" name="utm_source"><textarea name="message"></textarea><button>Send</button></form>`

export function pageHtml(origin, variant, forms) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Start-up</title>
${VARIANTS[variant](origin)}
</head><body>
<h1>A landing page</h1>
<p>Some text before the forms.</p>
${Array.from({ length: forms }, (_, i) => form(i)).join('\n')}
</body></html>`
}

/** Serves /p/<variant>/<forms>, the scripts, and a /v1/collect that accepts everything. */
export async function startServer() {
  const files = { '/closeloop.js': readFileSync(BUNDLE), '/form-attribution.js': readFileSync(PEER), '/empty.js': '' }
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    const origin = `http://${req.headers.host}`
    if (files[url.pathname] != null) return res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' }).end(files[url.pathname])
    if (url.pathname == '/v1/collect') {
      req.resume()
      return res.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' }).end('{"accepted":1,"duplicates":0,"rejected":[]}')
    }
    const m = /^\/p\/([\w-]+)\/(\d+)$/.exec(url.pathname)
    if (m && VARIANTS[m[1]]) return res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(pageHtml(origin, m[1], +m[2]))
    res.writeHead(404).end()
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${server.address().port}`
  return { base, url: (variant, forms) => `${base}/p/${variant}/${forms}${LANDING_QUERY}`, close: () => server.close() }
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}

/**
 * What the script did to a 10-form page, read after the measurement: a run where a script did not
 * do its job is no valid measurement of it.
 */
export async function filledForms(page, variant) {
  return page.evaluate((v) => {
    const forms = [...document.forms]
    if (v == 'closeloop') return forms.filter((f) => f.elements.namedItem('cl_visitor_id')?.value && f.elements.namedItem('cl_ft_campaign')?.value == 'spring_launch').length
    return forms.filter((f) => [...f.querySelectorAll('input')].some((i) => i.name.endsWith('utm_campaign') && i.value == 'spring_launch')).length
  }, variant)
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export function shuffle(xs) {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}
