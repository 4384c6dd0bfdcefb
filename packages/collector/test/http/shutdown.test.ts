// Graceful shutdown in-process: requests racing app.close() either get a durable 200 or a coded
// 503, and every acknowledged event is in the store after reopening it.

import { afterAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { openStore } from '../../src/store/index.js'
import { collect, pageEvent, startTestServer, visitorId } from './helpers.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('graceful shutdown', () => {
  it('finishes or refuses (coded) every request and flushes acknowledged events', async () => {
    const server = await startTestServer({ trustProxy: true })
    dirs.push(server.dir)
    const vid = visitorId()
    const secure = await collect(server, [pageEvent(vid)], { headers: { 'x-forwarded-proto': 'https' } })
    expect(secure.headers.get('set-cookie')).toMatch(/; Secure$/)

    const acked: string[] = []
    const outcomes: string[] = []
    const requests = Array.from({ length: 60 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i))
      const events = [pageEvent(vid), pageEvent(vid)]
      try {
        const res = await collect(server, events)
        if (res.status === 200) {
          acked.push(...events.map((e) => String(e.id)))
          outcomes.push('200')
        } else outcomes.push(`${res.status} ${res.body?.error?.code}`)
      } catch {
        outcomes.push('closed')
      }
    })
    await new Promise((r) => setTimeout(r, 25))
    await server.app.close()
    await Promise.all(requests)
    expect(outcomes.every((o) => o === '200' || o === '503 CL_ERR_SHUTTING_DOWN' || o === 'closed')).toBe(true)
    expect(acked.length).toBeGreaterThan(0)

    const store = await openStore({ dataDir: server.dir })
    try {
      const ids = new Set((await store.exportPerson(server.site.id, { visitorId: vid })).events.map((e) => String(e.id)))
      expect(acked.filter((id) => !ids.has(id))).toEqual([])
    } finally {
      await store.close()
    }
  })
})
