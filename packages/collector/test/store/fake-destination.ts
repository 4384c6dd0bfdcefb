// A test double of an API destination (registered under the `meta` kind in test registries only):
// a fake platform's conversions endpoint, `POST {api-base}/events`, answering one result per row.
// Matches by its own click (fbclid) within 7 days, else by identity when an e-mail is on file.

import { clError } from '../../src/errors.js'
import type { ApiDestinationAdapter, ConversionRow } from '../../src/integrations/destinations/adapter.js'
import { parseRetryAfter } from '../../src/integrations/backoff.js'
import { createDestinationRegistry } from '../../src/integrations/destinations/registry.js'
import { googleAdsFeed } from '../../src/integrations/destinations/google-ads-feed.js'
import { microsoftAdsFeed } from '../../src/integrations/destinations/microsoft-ads-feed.js'
import type { DestinationAdapter } from '../../src/integrations/destinations/adapter.js'

export interface FakeOptions { apiBase: string; token: string }

export const FAKE_WINDOW_MS = 7 * 86_400_000

export const fakeApi: ApiDestinationAdapter<FakeOptions> = {
  kind: 'meta',
  secretOptions: ['access-token'],
  parseOptions(raw) {
    const apiBase = raw['api-base']
    const token = raw['access-token']
    if (typeof apiBase !== 'string' || typeof token !== 'string') throw clError('BAD_CONFIG', 'the fake platform needs --api-base and --access-token')
    return { apiBase, token }
  },
  matchable(lead) {
    const click = lead.clicks.find((c) => c.type === 'fbclid' && lead.convertedAt - c.ts <= FAKE_WINDOW_MS)
    if (click) return { by: 'click', click }
    return lead.hasEmail ? { by: 'identity' } : null
  },
  buildBatch(rows: readonly ConversionRow[], d) {
    return {
      requests: [{
        method: 'POST', url: `${d.options.apiBase}/events`, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: rows.map((r) => ({ event_id: r.key, event_name: r.conversionName, value: r.value, currency: r.currency, time: r.occurredAt, click: r.click?.value ?? null, email: r.email })) }),
        rowKeys: rows.map((r) => r.key),
      }],
    }
  },
  async send(batch, d, env) {
    const out = []
    for (const req of batch.requests) {
      let res: Response
      try {
        res = await env.fetch(req.url, { method: req.method, headers: { ...req.headers, authorization: `Bearer ${d.options.token}` }, body: req.body, signal: env.signal })
      } catch (err) {
        for (const key of req.rowKeys) out.push({ key, result: { status: 'retry' as const, retryAfterMs: null, reason: `network: ${String(err)}` } })
        continue
      }
      if (res.status === 429 || res.status >= 500) {
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), env.now())
        for (const key of req.rowKeys) out.push({ key, result: { status: 'retry' as const, retryAfterMs, reason: `platform answered ${res.status}` } })
        continue
      }
      const body = (await res.json()) as { results: Array<{ event_id: string; ok: boolean; message?: string }> }
      for (const key of req.rowKeys) {
        const r = body.results.find((x) => x.event_id === key)
        out.push({ key, result: r?.ok ? { status: 'sent' as const } : { status: 'failed' as const, reason: r?.message ?? 'no result' } })
      }
    }
    return out
  },
}

/** The product's feeds plus the double. */
export const TEST_DESTINATIONS = createDestinationRegistry([googleAdsFeed, microsoftAdsFeed, fakeApi] as DestinationAdapter[])
