// A real collector on 127.0.0.1:0 over a real SQLite file in a temporary directory.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nanoid } from 'nanoid'
import { buildApp, type AppOptions } from '../../src/http/app.js'
import type { Config } from '../../src/config.js'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { createSite } from '../../src/sites/admin.js'
import { openStore } from '../../src/store/index.js'
import type { Site, Store } from '../../src/store/types.js'
import type { FastifyInstance } from 'fastify'

export const ORIGIN = 'https://shop.example'
/** Node's fetch says `User-Agent: node`, which isbot rightly calls a bot. */
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'

export interface TestServer {
  url: string
  dir: string
  app: FastifyInstance
  store: Store
  site: Site
  pk: string
  sk: string
  close(): Promise<void>
}

export function tempDir(prefix = 'closeloop-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export async function startTestServer(config: Partial<Config> = {}, options: { logger?: AppOptions['logger'] } = {}): Promise<TestServer> {
  const dir = tempDir()
  const store = await openStore({ dataDir: dir })
  const keys = loadInstallKeys({ dataDir: dir, env: {} })
  const { site, secretKey } = await createSite(store, { name: 'Test shop', origins: [ORIGIN, 'http://localhost:5173'], cookieDomain: '.shop.example' })
  const app = await buildApp({ store, keys, config, logger: options.logger })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    url: `http://127.0.0.1:${address.port}${config.basePath ?? ''}`,
    dir,
    app,
    store,
    site,
    pk: site.publicKey,
    sk: secretKey,
    async close() {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const visitorId = (): string => nanoid(21)

export interface EventOverrides {
  [key: string]: unknown
}

export function pageEvent(vid: string, overrides: EventOverrides = {}): Record<string, unknown> {
  return { id: nanoid(21), type: 'page', ts: Date.now() - 1000, vid, sid: nanoid(12), url: 'https://shop.example/', title: 'Home', ...overrides }
}

export interface Reply<T = any> {
  status: number
  headers: Headers
  body: T
  text: string
}

export async function send(url: string, init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'user-agent': BROWSER_UA, ...init.headers }
  let body: string | undefined
  if (init.raw !== undefined) body = init.raw
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body)
    headers['content-type'] ??= 'text/plain;charset=UTF-8'
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body })
  const text = await res.text()
  let parsed: unknown = undefined
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.status, headers: res.headers, body: parsed, text }
}

export function collect(server: TestServer, events: unknown[], extra: { headers?: Record<string, string>; sentAt?: number; site?: string } = {}): Promise<Reply> {
  return send(`${server.url}/v1/collect`, {
    body: { site: extra.site ?? server.pk, sentAt: 'sentAt' in extra ? extra.sentAt : Date.now(), events },
    headers: extra.headers,
  })
}

export function secret(server: TestServer, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return send(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    body,
    headers: { authorization: `Bearer ${server.sk}`, 'content-type': 'application/json', ...headers },
  })
}

/** Polls `fn` every 25 ms until it returns something truthy (that value), or fails after `ms`. */
export async function waitFor<T>(fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 25))
  }
}
