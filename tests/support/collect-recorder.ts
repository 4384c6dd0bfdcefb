// A stand-in for the collector's `POST /v1/collect` that records every request as the
// browser sent it, answers like the collector (dedupe by event id), and can be told to fail.
import { waitUntil } from './wait.js'

export interface CollectTouch {
  ts: number
  source: string
  medium: string
  campaign?: string
  term?: string
  content?: string
  click_id?: string
  click_id_type?: string
  channel: string
  landing?: string
  referrer?: string
  [field: string]: unknown
}

export interface CollectEvent {
  id: string
  type: 'page' | 'track' | 'identify'
  ts: number
  vid: string
  sid: string
  url?: string
  ref?: string
  title?: string
  name?: string
  props?: Record<string, unknown>
  traits?: Record<string, unknown>
  touch?: CollectTouch
}

export interface CollectBody {
  site: string
  sentAt: number
  events: CollectEvent[]
}

export interface CollectRequest {
  /** Host header, e.g. `www.example.test:41234`. */
  host: string
  origin: string | undefined
  contentType: string | undefined
  /** `Sec-Fetch-Mode`: `no-cors` for navigator.sendBeacon with a text body, `cors`/`same-origin` for fetch. */
  fetchMode: string | undefined
  cookie: string | undefined
  /** The request URL's query, e.g. the tags TRANSPORT_PROBE adds (`via`, `leaving`). */
  query: URLSearchParams
  /** HTTP status the recorder answered. */
  status: number
  raw: string
  /** Parsed body, or null when it was not JSON of the wire shape. */
  body: CollectBody | null
  receivedAt: number
}

export interface CollectAnswer {
  status: number
  body: string
}

function parse(raw: string): CollectBody | null {
  try {
    const b = JSON.parse(raw) as Partial<CollectBody>
    return b && typeof b.site == 'string' && Array.isArray(b.events) ? (b as CollectBody) : null
  } catch {
    return null
  }
}

export class CollectRecorder {
  readonly requests: CollectRequest[] = []
  private failures = 0
  private failStatus = 503
  private readonly seen = new Set<string>()

  /** The next `count` requests are answered `status` (default 503); later ones 200. */
  failNext(count: number, status = 503): void {
    this.failures = count
    this.failStatus = status
  }

  clear(): void {
    this.requests.length = 0
    this.failures = 0
    this.seen.clear()
  }

  handle(meta: Omit<CollectRequest, 'status' | 'raw' | 'body' | 'receivedAt'>, raw: string): CollectAnswer {
    const body = parse(raw)
    const status = this.failures > 0 ? (this.failures--, this.failStatus) : body ? 200 : 400
    this.requests.push({ ...meta, status, raw, body, receivedAt: Date.now() })
    if (status != 200 || !body) return { status, body: JSON.stringify({ error: { code: status == 400 ? 'CL_ERR_BAD_REQUEST' : 'CL_ERR_UNAVAILABLE', message: 'test recorder' } }) }
    let accepted = 0
    let duplicates = 0
    for (const e of body.events) {
      if (this.seen.has(e.id)) duplicates++
      else {
        this.seen.add(e.id)
        accepted++
      }
    }
    return { status, body: JSON.stringify({ accepted, duplicates, rejected: [] }) }
  }

  /** Every event of every request, in arrival order, including ones answered with an error. */
  sent(): CollectEvent[] {
    return this.requests.flatMap((r) => r.body?.events ?? [])
  }

  /** Events in requests answered 200, each id once (its first acceptance). */
  accepted(): CollectEvent[] {
    const out = new Map<string, CollectEvent>()
    for (const r of this.requests) if (r.status == 200) for (const e of r.body?.events ?? []) if (!out.has(e.id)) out.set(e.id, e)
    return [...out.values()]
  }

  /** How many times each event id arrived in a request answered 200. */
  acceptCounts(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const r of this.requests) if (r.status == 200) for (const e of r.body?.events ?? []) counts.set(e.id, (counts.get(e.id) ?? 0) + 1)
    return counts
  }

  /**
   * Resolves once no request has arrived for `quietMs`: a page closed at the end of a test may
   * still have its pagehide send in flight, and it must land before the next test's reset.
   */
  async settle(quietMs = 100, maxMs = 1_000): Promise<void> {
    const start = Date.now()
    for (;;) {
      const last = Math.max(start, this.requests.at(-1)?.receivedAt ?? 0)
      const wait = last + quietMs - Date.now()
      if (wait <= 0 || Date.now() - start > maxMs) return
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }

  /** Waits until the accepted events satisfy `probe`, returning its result. */
  waitForAccepted<T>(probe: (events: CollectEvent[]) => T | undefined | null | false, what: string, timeoutMs = 5_000): Promise<T> {
    return waitUntil(() => probe(this.accepted()), what, timeoutMs)
  }
}
