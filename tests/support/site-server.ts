// A real node:http server on 127.0.0.1:0 that plays every party of a tracker test: it serves
// examples/static-site (placeholders substituted per request, like `closeloop demo`), the BUILT
// tracker at /closeloop.js, a recording /v1/collect, a form backend, and pages on other hosts that
// link to the site (so the browser sends a genuine cross-site referrer). Every host name the browser
// maps to 127.0.0.1 (see browser.ts) reaches this one server; it answers by path, not by host.
import { existsSync, readFileSync } from 'node:fs'
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CollectRecorder } from './collect-recorder.js'

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const SITE_ROOT = join(REPO, 'examples/static-site')
export const TRACKER_BUNDLE = join(REPO, 'packages/tracker/dist/closeloop.js')
export const SPA_ROOT = join(REPO, 'examples/spa')
/** The npm build, served where an import map or a dev server would find it. */
const NPM_PATH = '/node_modules/@closeloop/tracker/dist/'
const NPM_DIST = join(REPO, 'packages/tracker/dist')
/** A syntactically valid public key (`pk_` + 21 characters). */
export const TEST_SITE_KEY = 'pk_test0000000000000000a'

/** Where the example's forms post (%FORM_ACTION%). */
export const FORM_PATH = '/__test/form'
/** `GET /__test/referrer?to=<url>[&policy=<referrer policy>]` on any host: a page whose link `#go`
 * leads to `<url>`; `policy=unsafe-url` makes the browser send the full URL, query included. */
export const REFERRER_PATH = '/__test/referrer'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.md': 'text/plain; charset=utf-8',
}

export interface SiteServerOptions {
  root?: string
  bundle?: string
  site?: string
  /** Host (no port) the collector URL names, e.g. `t.example.test` for a cross-origin collector.
   * Default: the host the page was requested on (a same-origin collector, as behind a reverse proxy). */
  collectorHost?: string
}

export interface FormPost {
  host: string
  path: string
  /** Every submitted field in document order; a name appears twice if the form had it twice. */
  entries: [string, string][]
}

export interface SiteServer {
  readonly port: number
  readonly site: string
  /** `http://<host>:<port>` */
  origin(host?: string): string
  /** Absolute URL of `path` (which may carry a query) on `host` (default www.example.test). */
  url(path: string, host?: string): string
  readonly collect: CollectRecorder
  readonly forms: FormPost[]
  /** `host + path` of every request, in order, e.g. to prove an injected `<img src=x>` never loaded. */
  readonly hits: string[]
  /** Extra `data-*` options on the tracker's script tag (key without `data-`), applied to pages served from now on. */
  tag: Record<string, string>
  collectorHost: string | undefined
  /** Forgets recordings and tag options between tests. */
  reset(): void
  close(): Promise<void>
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

/** Adds or replaces data-* attributes on the `<script … src=".../closeloop.js">` tag. */
export function withTagOptions(html: string, options: Record<string, string>): string {
  return html.replace(/<script\b[^>]*\/closeloop\.js"[^>]*>/g, (tag) => {
    let out = tag
    for (const [key, value] of Object.entries(options)) {
      out = out.replace(new RegExp(`\\sdata-${key}="[^"]*"`), '')
      out = out.replace(/>$/, ` data-${key}="${escapeAttr(value)}">`)
    }
    return out
  })
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')))
    req.on('error', fail)
  })
}

export async function startSiteServer(options: SiteServerOptions = {}): Promise<SiteServer> {
  const root = resolve(options.root ?? SITE_ROOT)
  const bundle = options.bundle ?? TRACKER_BUNDLE
  const site = options.site ?? TEST_SITE_KEY
  const collect = new CollectRecorder()
  const forms: FormPost[] = []
  const hits: string[] = []
  let port = 0

  const hostOf = (req: IncomingMessage) => (req.headers.host ?? '127.0.0.1').replace(/:\d+$/, '')

  const cors = (req: IncomingMessage, res: ServerResponse) => {
    // As the collector does: credentials allowed for the calling origin, so the tracker's
    // `credentials: 'include'` fetch can read the answer and does not retry a delivered batch.
    if (req.headers.origin) {
      res.setHeader('Access-Control-Allow-Origin', req.headers.origin)
      res.setHeader('Access-Control-Allow-Credentials', 'true')
      res.setHeader('Vary', 'Origin')
    }
  }

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' })
    res.end(body)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    const host = hostOf(req)
    hits.push(host + url.pathname)

    if (url.pathname == '/v1/collect') {
      cors(req, res)
      if (req.method == 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'POST')
        res.setHeader('Access-Control-Allow-Headers', 'Content-Type')
        return void res.writeHead(204).end()
      }
      if (req.method != 'POST') return send(res, 405, 'text/plain', 'POST only')
      const raw = await readBody(req)
      const answer = collect.handle(
        {
          host: req.headers.host ?? '',
          origin: req.headers.origin,
          contentType: req.headers['content-type'],
          fetchMode: req.headers['sec-fetch-mode'] as string | undefined,
          cookie: req.headers.cookie,
          query: url.searchParams,
        },
        raw,
      )
      return send(res, answer.status, 'application/json', answer.body)
    }

    if (url.pathname == '/closeloop.js') {
      // Read on every request: the tracker may be rebuilt while a watch-mode test run is open.
      if (!existsSync(bundle)) return send(res, 404, 'text/plain', `tracker bundle missing: ${bundle} (build @closeloop/tracker first)`)
      return send(res, 200, TYPES['.js'], readFileSync(bundle))
    }

    if (url.pathname.startsWith(NPM_PATH)) {
      const file = normalize(join(NPM_DIST, url.pathname.slice(NPM_PATH.length)))
      if (!file.startsWith(NPM_DIST + sep) || !existsSync(file)) return send(res, 404, 'text/plain', 'not found')
      return send(res, 200, TYPES[extname(file)] ?? 'text/javascript; charset=utf-8', readFileSync(file))
    }

    if (url.pathname == FORM_PATH && req.method == 'POST') {
      const entries = [...new URLSearchParams(await readBody(req)).entries()]
      forms.push({ host, path: url.pathname, entries })
      return send(res, 200, TYPES['.html'], '<!doctype html><title>Thanks</title><h1 id="thanks">Thanks</h1>')
    }

    if (url.pathname == REFERRER_PATH) {
      const to = url.searchParams.get('to') ?? '/'
      const policy = url.searchParams.get('policy')
      const meta = policy ? `<meta name="referrer" content="${escapeAttr(policy)}">` : ''
      return send(res, 200, TYPES['.html'], `<!doctype html>${meta}<title>Results</title><a id="go" href="${escapeAttr(to)}">result</a>`)
    }

    // Static files, confined to the site root.
    const rel = decodeURIComponent(url.pathname).replace(/\/$/, '/index.html')
    const file = normalize(join(root, rel))
    if (!file.startsWith(root + sep) || !existsSync(file)) return send(res, 404, 'text/plain', 'not found')
    const type = TYPES[extname(file)] ?? 'application/octet-stream'
    if (extname(file) != '.html') return send(res, 200, type, readFileSync(file))
    const collector = `http://${server.collectorHost ?? host}:${port}`
    const html = readFileSync(file, 'utf8')
      .replaceAll('%CLOSELOOP_COLLECTOR%', collector)
      .replaceAll('%CLOSELOOP_SITE%', site)
      .replaceAll('%FORM_ACTION%', FORM_PATH)
    return send(res, 200, type, withTagOptions(html, server.tag))
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', String(e))
      else res.destroy()
    })
  })
  await new Promise<void>((done) => http.listen(0, '127.0.0.1', done))
  port = (http.address() as AddressInfo).port

  const server: SiteServer = {
    port,
    site,
    origin: (host = 'www.example.test') => `http://${host}:${port}`,
    url: (path, host = 'www.example.test') => `http://${host}:${port}${path.startsWith('/') ? '' : '/'}${path}`,
    collect,
    forms,
    hits,
    tag: {},
    collectorHost: options.collectorHost,
    reset() {
      collect.clear()
      forms.length = 0
      hits.length = 0
      server.tag = {}
      server.collectorHost = options.collectorHost
    },
    close: () =>
      new Promise<void>((done) => {
        http.closeAllConnections()
        http.close(() => done())
      }),
  }
  return server
}
