// Batched delivery to `{collector}/v1/collect` (wire format: docs/api.md). Bodies are
// text/plain JSON so the browser sends them without a CORS preflight. Every send is a `fetch` with
// `keepalive`, which outlives the page like sendBeacon. When the page is left, the answer can no
// longer be read: what is sent then stays queued, marked, and a later page sends it once more with
// an answer (the event ids make that safe) — but never a third time: see `leave`. Unsent events live in a
// bounded queue, stored in localStorage once a send failed or the page was left with events in it
// (while sends succeed nothing is written), with the cookie `_cl_q` beside it telling the next page
// whether to read it (pages read no localStorage otherwise: see storage.ts); each carries a client
// `id`, so a retry after a lost response is counted once by the collector.
import { LS_QUEUE, fromJar, jar, lsGet, lsSet, setCookie } from './storage.js'
import type { Touch } from './touch.js'

export interface TrackerEvent {
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
  touch?: Touch
}

/** A queued event; `h` counts its sends still without an answer (in flight, or left behind by a page). */
type Queued = TrackerEvent & { h?: number }

/** Queue bound: the oldest events go first when a visitor stays offline for long. */
export const MAX_QUEUE = 200
/**
 * Body limit in UTF-16 units: at most 3 UTF-8 bytes each, so a body stays under the 64 KB that
 * keepalive fetches and sendBeacon allow, without measuring bytes. Larger single events go
 * without keepalive (and the collector refuses events over 32 KB).
 */
const MAX_BODY = 21000

export interface Transport {
  push(e: TrackerEvent): void
  /** Sends everything queued now; resolves when the attempt is over. */
  flush(): Promise<void>
  /** The page is being hidden or unloaded: sends what was never sent, without waiting. */
  leave(): void
  /** Writes (or, when not allowed, leaves out) the persisted queue. */
  persist(): void
  /** Forgets the queue in memory (clearState removes its stored copy). */
  clear(): void
}

/** `domain` is the cookie domain (of `_cl_q`). */
export function createTransport(url: string, site: string, domain: string, allowed: () => boolean, onError: (code: string, cause?: unknown) => void): Transport {
  // `kept`: whether localStorage may hold a queue; while it may, the stored queue follows every
  // change, else only failures and leaving write it. The cookie `_cl_q` (named as the entry it flags)
  // says `1` events wait, `0` none; without it (a first page, lost cookies, a visitor of a version
  // before the flag) nobody knows, so localStorage is read and the flag written at the first persist.
  let kept: unknown = fromJar(jar(), LS_QUEUE) != '0'
  let q = ([] as Queued[]).concat((kept && lsGet(LS_QUEUE)) as Queued[]).filter((e) => e?.id)
  let timer: ReturnType<typeof setTimeout> | 0 = 0
  let failures = 0
  let busy: Promise<void> | 0 = 0

  const persist = () => allowed() && (kept || q[0]) && (lsSet(LS_QUEUE, (kept = q[0]) && q), setCookie('q', kept ? 1 : '0', domain))
  const later = (ms: number) => (timer = timer || setTimeout(run, ms))
  // Posts the next batch of `from` (at most 100 events, the collector's limit, and MAX_BODY
  // units; at least one event, none for an empty `from`), counting one more unanswered send on
  // each. A string body goes as text/plain: no CORS preflight. Credentials: the response refreshes
  // the server-set _cl_vid cookie. With `answer` the answer is read (the one send that sets
  // `busy`); without (leaving), only a failed fetch is, should the page live to see it. Never
  // rejects: an event JSON refuses or a missing or throwing fetch is an ordinary failed send.
  // (`size` and `batch` are locals.)
  const post = async (from: Queued[], answer?: 1, size = 0, batch: Queued[] = []) => {
    if (!from[0]) return
    try {
      batch = from.filter((e, i) => i < 100 && ((size += JSON.stringify(e).length) < MAX_BODY || !i) && (e.h = -~e.h!))
      const body = JSON.stringify({ site, sentAt: Date.now(), events: batch.map(({ h, ...e }) => e) })
      const r = await fetch(url, { method: 'POST', body, credentials: 'include', keepalive: body.length < MAX_BODY })
      if (answer) {
        // 429 and 5xx are worth retrying; any other refusal would be refused again.
        if (/^5|429/.test(r.status as never)) throw r.status
        // The script tag has no onError: its build drops the codes.
        if (!r.ok && !__SCRIPT__) onError('CL_ERR_TRACKER_REJECTED', r.status)
        failures = 0
        q = q.filter((e) => !batch.includes(e))
      }
    } catch (cause) {
      __SCRIPT__ || onError('CL_ERR_TRACKER_SEND', cause)
      // Answered (or never to be): these sends no longer count.
      for (const e of batch) e.h!--
      // Exponential backoff with jitter, capped at five minutes; it replaces the batch timer an event
      // pushed during the send set.
      clearTimeout(timer as number)
      timer = setTimeout(run, Math.min(1000 * 2 ** failures++, 3e5) * (0.5 + Math.random()))
    }
  }

  const run = async (): Promise<void> => {
    clearTimeout(timer as number)
    timer = 0
    if (busy) return busy
    // Not allowed: nothing is sent, and nothing scheduled.
    if (allowed()) {
      await (busy = post(q, 1))
      busy = 0
      persist()
      q[0] && later(0)
    }
  }

  return {
    push(e) {
      q.push(e)
      q = q.slice(-MAX_QUEUE)
      kept && persist()
      // Also while a send is in flight: its end then leaves the wait to this timer, so events pushed
      // meanwhile still go as one batch 300 ms later, not one request each.
      later(300)
    },
    flush: run,
    leave() {
      // The batch in flight (already counted) and this send both go unanswered; an event that
      // already went unanswered twice is taken as delivered rather than sent a third time.
      q = q.filter((e) => !(e.h! > 1))
      allowed() && post(q.filter((e) => !e.h))
      persist()
    },
    persist,
    clear() {
      // Its stored copy goes with the rest of the state (clearState).
      q = []
      kept = 0
    },
  }
}
