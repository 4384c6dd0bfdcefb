// A fake ad platform's conversions endpoint behind a real local HTTP server, for the delivery
// worker's tests (the product's platforms have their own stubs): `POST /events` with a Bearer token,
// one result per event; it can answer 429 with Retry-After, 5xx, or refuse single events.

import { createServer, type Server } from 'node:http'
import { listenLocal } from './listen.js'

export interface FakeEvent { event_id: string; event_name: string; value: number | null; currency: string; time: number; click: string | null; email: string | null }

export interface FakePlatform {
  url: string
  token: string
  requests: Array<{ authorization: string | undefined; events: FakeEvent[] }>
  /** Event IDs counted once each, as a platform de-duplicates by event/order ID. */
  counted: Map<string, FakeEvent>
  /** Answers for the next requests, in order: a status (with Retry-After seconds), or 200 refusing these event IDs. */
  script: Array<{ status: number; retryAfter?: string } | { refuse: Record<string, string> } | { hang: true }>
  /** Drops the connections of requests answered with `hang` (processed, but the answer never arrives). */
  release(): void
  close(): Promise<void>
}

export async function startFakePlatform(token = 'fake-platform-token'): Promise<FakePlatform> {
  const hung: Array<() => void> = []
  const platform: Omit<FakePlatform, 'url' | 'close'> = { token, requests: [], counted: new Map(), script: [], release: () => { for (const h of hung.splice(0)) h() } }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(body))
      }
      if (req.method !== 'POST' || req.url !== '/events') return answer(404, { error: 'not found' })
      if (req.headers.authorization !== `Bearer ${token}`) return answer(401, { error: 'invalid token' })
      const events = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: FakeEvent[] }).events
      platform.requests.push({ authorization: req.headers.authorization, events })
      const next = platform.script.shift()
      if (next && 'status' in next) return answer(next.status, { error: 'try later' }, next.retryAfter ? { 'retry-after': next.retryAfter } : {})
      if (next && 'hang' in next) {
        for (const e of events) if (!platform.counted.has(e.event_id)) platform.counted.set(e.event_id, e)
        hung.push(() => req.socket.destroy())
        return
      }
      const refuse = next && 'refuse' in next ? next.refuse : {}
      for (const e of events) if (!(e.event_id in refuse) && !platform.counted.has(e.event_id)) platform.counted.set(e.event_id, e)
      answer(200, { results: events.map((e) => (e.event_id in refuse ? { event_id: e.event_id, ok: false, message: refuse[e.event_id] } : { event_id: e.event_id, ok: true })) })
    })
  })
  const local = await listenLocal(server)
  return { ...platform, url: local.url, close: () => { platform.release(); return local.close() } }
}
