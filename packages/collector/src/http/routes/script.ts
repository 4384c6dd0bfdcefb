// GET /closeloop.js: the tracker's IIFE bundle from @closeloop/tracker, with an ETag so browsers
// revalidate cheaply. Not `immutable`: the URL is not versioned, so a deploy must reach visitors.

import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { RouteModule } from '../context.js'
import { clError } from '../../errors.js'

interface Script {
  body: Buffer
  etag: string
  mtimeMs: number
}

export function trackerScriptPath(): string | null {
  try {
    return createRequire(import.meta.url).resolve('@closeloop/tracker/closeloop.js')
  } catch {
    return null
  }
}

export const scriptRoute: RouteModule = (app) => {
  let cached: Script | null = null

  async function load(): Promise<Script | null> {
    const path = trackerScriptPath()
    if (path === null) return null
    let mtimeMs: number
    try {
      mtimeMs = (await stat(path)).mtimeMs
    } catch {
      return null
    }
    // Re-read only when the file changed (a rebuild during development).
    if (cached && cached.mtimeMs === mtimeMs) return cached
    const body = await readFile(path)
    cached = { body, mtimeMs, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
    return cached
  }

  app.get('/closeloop.js', async (request, reply) => {
    const script = await load()
    if (!script) throw clError('NOT_FOUND', 'The tracker script is not built (run pnpm build)')
    reply.header('etag', script.etag)
    reply.header('cache-control', 'public, max-age=3600, stale-while-revalidate=86400')
    reply.header('access-control-allow-origin', '*')
    const inm = request.headers['if-none-match']
    if (inm !== undefined && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === script.etag)) {
      return reply.code(304).send()
    }
    reply.header('content-type', 'application/javascript; charset=utf-8')
    return reply.send(script.body)
  })
}
