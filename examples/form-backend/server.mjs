// Example form backend: receives the site's form POST, links the visitor to a lead with
// POST /v1/identify (secret key, server-side only), and shows a thank-you page with the original
// source the collector returned. Everything shown is escaped: it came from the visitor's URL.
//
// Run standalone:
//   CLOSELOOP_COLLECTOR=http://127.0.0.1:8787 CLOSELOOP_SECRET_KEY=sk_… PORT=8789 node server.mjs
// or import { startFormBackend } (as `closeloop demo` does).

import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'

const MAX_BODY = 64 * 1024
const VISITOR_ID = /^[A-Za-z0-9_-]{21}$/

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks = []
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function parseForm(req, text) {
  const type = String(req.headers['content-type'] ?? '')
  if (type.startsWith('application/json')) {
    const json = JSON.parse(text)
    return typeof json === 'object' && json !== null ? Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v ?? '')])) : {}
  }
  return Object.fromEntries(new URLSearchParams(text))
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}dt{font-weight:600}dd{margin:0 0 .5rem}</style>
</head><body>${body}</body></html>`
}

function touchList(label, touch) {
  if (!touch) return `<p data-touch="${escapeHtml(label)}">${escapeHtml(label)}: none recorded</p>`
  const rows = ['channel', 'source', 'medium', 'campaign', 'term', 'content', 'click_id_type', 'landing', 'referrer']
    .filter((k) => touch[k] != null && touch[k] !== '')
    .map((k) => `<dt>${escapeHtml(k)}</dt><dd data-field="${escapeHtml(k)}">${escapeHtml(touch[k])}</dd>`)
  return `<h2>${escapeHtml(label)}</h2><dl data-touch="${escapeHtml(label)}">${rows.join('')}</dl>`
}

/**
 * @param {{ collector: string, secretKey: string, port?: number, host?: string, fetch?: typeof fetch }} options
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startFormBackend(options) {
  const doFetch = options.fetch ?? fetch
  const server = createServer(async (req, res) => {
    const send = (status, html) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end(html)
    }
    try {
      if (req.method !== 'POST') {
        send(200, page('Form backend', '<p>POST a form here.</p>'))
        return
      }
      const form = parseForm(req, await readBody(req))
      // Without the tracker (blocked, consent denied, Global Privacy Control) the field is missing
      // or empty: leave visitorId out and the lead is still created, just without a journey.
      const visitorId = VISITOR_ID.test(form.cl_visitor_id ?? '') ? form.cl_visitor_id : undefined
      const email = (form.email ?? '').trim() || undefined
      const phone = (form.phone ?? '').trim() || undefined
      if (!email && !phone) {
        send(400, page('Missing email', '<p>Please go back and enter an email address or phone number.</p>'))
        return
      }
      const response = await doFetch(`${options.collector}/v1/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.secretKey}` },
        body: JSON.stringify({ visitorId, email, phone, traits: form.name ? { name: String(form.name).slice(0, 200) } : undefined }),
      })
      const result = await response.json()
      if (!response.ok) {
        const code = result?.error?.code ?? 'unknown'
        send(502, page('Could not record', `<p>The collector refused the lead: <code>${escapeHtml(code)}</code></p>`))
        return
      }
      // Here a real backend would write result.firstTouch / result.lastTouch into the CRM.
      send(200, page('Thank you', [
        '<h1>Thank you!</h1>',
        `<p>Lead <code data-lead-id>${escapeHtml(result.leadId)}</code> ${result.created ? 'created' : 'updated'};`,
        ` ${escapeHtml(result.touchCount)} touch(es) on record.</p>`,
        `<p>Original source: <strong data-original-source>${escapeHtml(result.firstTouch ? `${result.firstTouch.source} / ${result.firstTouch.medium}` : '(none)')}</strong>`,
        ` (<span data-original-channel>${escapeHtml(result.channel ?? 'none')}</span>)</p>`,
        touchList('First touch', result.firstTouch),
        touchList('Last touch', result.lastTouch),
      ].join('')))
    } catch (err) {
      send(err?.status === 413 ? 413 : 500, page('Error', '<p>Something went wrong.</p>'))
    }
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise((ok, fail) => server.once('error', fail).listen(options.port ?? 0, host, ok))
  const { port } = server.address()
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise((ok) => {
      server.close(() => ok())
      server.closeAllConnections()
    }),
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const collector = process.env.CLOSELOOP_COLLECTOR ?? 'http://127.0.0.1:8787'
  const secretKey = process.env.CLOSELOOP_SECRET_KEY
  if (!secretKey) {
    process.stderr.write('CLOSELOOP_SECRET_KEY=sk_… is required\n')
    process.exit(1)
  }
  const running = await startFormBackend({ collector, secretKey, port: Number(process.env.PORT ?? 8789) })
  process.stdout.write(`form backend listening on ${running.url}\n`)
}
