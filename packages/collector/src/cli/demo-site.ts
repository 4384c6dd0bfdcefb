// Serves examples/static-site with its placeholders substituted (conventions): used by
// `closeloop demo` and by test harnesses that need the example site on a real origin.

import { readFile, realpath } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ExampleSiteOptions {
  /** Directory of the example site (default: the repository's examples/static-site). */
  dir?: string
  /** Collector base URL, no trailing slash. */
  collector: string
  /** Public key pk_… */
  site: string
  /** Target of the site's form POST. */
  formAction: string
  host?: string
  port?: number
}

export interface RunningSite {
  server: Server
  url: string
  close(): Promise<void>
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.mjs': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
}
const SUBSTITUTED = new Set(['.html', '.js', '.mjs', '.css'])

/** The repository root, from src/ or dist/ of packages/collector. */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../../../', import.meta.url))
}

export function substitute(text: string, values: { collector: string; site: string; formAction: string }): string {
  return text
    .replaceAll('%CLOSELOOP_COLLECTOR%', values.collector)
    .replaceAll('%CLOSELOOP_SITE%', values.site)
    .replaceAll('%FORM_ACTION%', values.formAction)
}

export async function serveExampleSite(options: ExampleSiteOptions): Promise<RunningSite> {
  const root = await realpath(options.dir ?? join(repoRoot(), 'examples', 'static-site'))
  const server = createServer((req, res) => {
    void (async () => {
      let pathname: string
      try {
        pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
      } catch {
        res.writeHead(400).end('bad request')
        return
      }
      if (pathname.endsWith('/')) pathname += 'index.html'
      const file = resolve(root, '.' + pathname)
      // Path traversal: the resolved (and symlink-free) file must stay inside the site.
      let real: string
      try {
        real = await realpath(file)
      } catch {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
        return
      }
      if (!real.startsWith(root + sep) || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
        return
      }
      const ext = extname(real)
      let body: Buffer | string = await readFile(real)
      if (SUBSTITUTED.has(ext)) body = substitute(body.toString('utf8'), options)
      res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : body)
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(options.port ?? 0, host, () => ok()))
  const { port } = server.address() as AddressInfo
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((ok) => {
      server.close(() => ok())
      server.closeAllConnections()
    }),
  }
}
