// The dashboard inside the real collector: buildApp + a SQLite file, over a listening socket.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/http/app.js'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { createSite } from '../../src/sites/admin.js'
import { SqliteStore } from '../../src/store/sqlite/store.js'

let app: FastifyInstance
let base: string
let origin: string
let key: string
const dir = mkdtempSync(join(tmpdir(), 'cl-dash-'))

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build-dashboard.mjs'], { cwd: fileURLToPath(new URL('../..', import.meta.url)) })
  const store = new SqliteStore({ file: join(dir, 'closeloop.sqlite') })
  await store.migrate()
  key = (await createSite(store, { name: 'shop', origins: ['https://shop.example'] })).secretKey
  app = await buildApp({ store, keys: loadInstallKeys({ dataDir: dir }), config: { basePath: '/_cl' } })
  origin = await app.listen({ port: 0, host: '127.0.0.1' })
  base = `${origin}/_cl`
})

afterAll(async () => {
  await app?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function signIn(): Promise<string> {
  const res = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ key }) })
  expect(res.status).toBe(200)
  expect(await res.json()).toEqual({ site: { name: 'shop', currency: 'USD' } })
  const cookie = res.headers.get('set-cookie') ?? ''
  expect(cookie).toMatch(/^cl_dash=[A-Za-z0-9_-]{43}; Path=\/_cl\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/)
  return cookie.split(';')[0]
}

describe('dashboard in the collector', () => {
  it('serves the page under the base path with a strict CSP', async () => {
    const redirect = await fetch(`${base}/dashboard`, { redirect: 'manual' })
    expect(redirect.status).toBe(301)
    expect(redirect.headers.get('location')).toBe('dashboard/')
    expect(new URL('dashboard/', `${base}/dashboard`).href).toBe(`${base}/dashboard/`)
    const withQuery = await fetch(`${base}/dashboard?view=quality`, { redirect: 'manual' })
    expect(withQuery.headers.get('location')).toBe('dashboard/?view=quality')
    const page = await fetch(`${base}/dashboard/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    const js = await fetch(`${base}/dashboard/assets/main.js`)
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect((await fetch(`${base}/dashboard/assets/..%2Fplugin.js`)).status).toBe(404)
  })

  it('never redirects to the host of an absolute-form request target', async () => {
    const { port } = new URL(origin)
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.end('GET http://evil.example/_cl/dashboard HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n')
      })
      let text = ''
      socket.on('data', (d) => (text += d.toString()))
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
    })
    expect(head).toMatch(/^HTTP\/1\.1 301/)
    const location = /\r\nlocation: ([^\r]*)/i.exec(head)?.[1]
    expect(location).toBe('dashboard/')
    expect(head).not.toMatch(/location:[^\r]*evil/i)
  })

  it('refuses a wrong key and a cross-origin sign-in with coded errors', async () => {
    const wrong = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ key: `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}` }) })
    expect(wrong.status).toBe(401)
    expect((await wrong.json()).error.code).toBe('CL_ERR_BAD_SECRET_KEY')
    const cross = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://shop.example' }, body: JSON.stringify({ key }) })
    expect(cross.status).toBe(403)
    expect((await cross.json()).error.code).toBe('CL_ERR_CROSS_ORIGIN')
  })

  it('lets the session cookie read API GETs, same-origin only, until sign-out', async () => {
    const cookie = await signIn()
    const lead = (headers: Record<string, string>) => fetch(`${base}/v1/leads/nope`, { headers })
    expect((await (await lead({ cookie })).json()).error.code).toBe('CL_ERR_LEAD_NOT_FOUND')
    expect((await lead({})).status).toBe(401)
    expect((await lead({ cookie, origin: 'https://shop.example' })).status).toBe(401)
    expect((await lead({ cookie, 'sec-fetch-site': 'same-site' })).status).toBe(401)
    const out = await fetch(`${base}/dashboard/session`, { method: 'DELETE', headers: { cookie, origin } })
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toMatch(/^cl_dash=; .*Max-Age=0/)
    expect((await lead({ cookie })).status).toBe(401)
    expect((await fetch(`${base}/dashboard/session`, { headers: { cookie } })).status).toBe(401)
  })

  // Last in the file: it leaves this address throttled.
  it('throttles key guessing: after 10 wrong keys from one address, 429 with Retry-After, even for the right key', async () => {
    const attempt = (k: string) => fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ key: k }) })
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) statuses.push((await attempt(`${key.slice(0, -2)}${String(i).padStart(2, '0')}`)).status)
    // One wrong key earlier in this file: the 10th wrong key in all is the last 401.
    expect(statuses).toEqual([...Array(9).fill(401), 429, 429, 429])
    const right = await attempt(key)
    expect(right.status).toBe(429)
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await right.json()).error.code).toBe('CL_ERR_RATE_LIMITED')
    // Only signing in waits: the page itself is served.
    expect((await fetch(`${base}/dashboard/`)).status).toBe(200)
  })
})
