// The Meta Conversions API adapter over real HTTP against a local stub of the Graph API events
// edge: event shapes field by field (hashes computed here independently), test event codes, a
// batch Meta rejects whole because of one bad event (the rows are then tried one by one so only
// that one fails), rate limits, an expired token, batches of at most 1,000 and resends with the
// same event_id.

import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConversionRow, Destination } from '../../src/integrations/destinations/adapter.js'
import { metaAdapter, type MetaOptions } from '../../src/integrations/destinations/meta.js'
import type { IntegrationEnv } from '../../src/integrations/types.js'
import { startMetaStub, type MetaStub } from './stubs/meta-stub.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const HOUR = 3_600_000
const DAY = 24 * HOUR
const CONVERTED = Date.UTC(2026, 2, 15, 14, 5, 9, 750)

let stub: MetaStub
const clock = CONVERTED + 2 * HOUR
let seq = 0
const env: IntegrationEnv = { fetch: (url, init) => fetch(url, init), now: () => clock }

beforeAll(async () => {
  stub = await startMetaStub({ now: () => clock })
})
afterAll(async () => stub.close())

function destination(over: Record<string, string> = {}): Destination<MetaOptions> {
  const options = metaAdapter.parseOptions({ 'pixel-id': stub.pixelId, 'access-token': stub.token, 'api-base': stub.url, ...over })
  return { id: `dst_meta_${++seq}`, siteId: 'site_1', kind: 'meta', options, send: { sql: { name: 'QualifiedLead', value: 100 } } }
}

function row(over: Partial<ConversionRow> = {}): ConversionRow {
  return {
    key: `cv_${++seq}`, leadId: 'lead_42', stage: 'sql', conversionName: 'QualifiedLead', value: 100, currency: 'EUR', occurredAt: CONVERTED,
    click: { type: 'fbclid', value: 'IwAR2xYz_fbclid', ts: CONVERTED - 3 * DAY }, email: 'Jane.Doe@Gmail.com', phone: '+44 20 7946 0958', fbp: null, ...over,
  }
}

async function deliver(rows: ConversionRow[], d = destination()) {
  const batch = metaAdapter.buildBatch(rows, d)
  const list = await metaAdapter.send(batch, d, env)
  return { batch, list, results: Object.fromEntries(list.map((r) => [r.key, r.result])) }
}

describe('Meta Conversions API', () => {
  it('posts system_generated CRM events with hashed user data, fbc and the CRM custom data', async () => {
    const before = stub.requests.length
    const clicked = row({ fbp: 'fb.1.1741900000000.1098765432' })
    const noClick = row({ key: 'cv_noclick', click: null, value: null, phone: null, leadId: 'lead_43' })
    const { results } = await deliver([clicked, noClick])
    expect(results).toEqual({ [clicked.key]: { status: 'sent' }, cv_noclick: { status: 'sent' } })
    const [req] = stub.requests.slice(before)
    expect(req.path).toBe(`/v24.0/${stub.pixelId}/events`)
    expect(req.query).toEqual({ access_token: stub.token })
    expect(req.headers['content-type']).toBe('application/json')
    const { data, test_event_code } = req.body as { data: Array<Record<string, unknown>>; test_event_code?: string }
    expect(test_event_code).toBeUndefined()
    expect(data[0]).toEqual({
      event_name: 'QualifiedLead',
      // Seconds, not milliseconds.
      event_time: Math.floor(CONVERTED / 1000),
      event_id: clicked.key,
      action_source: 'system_generated',
      user_data: {
        // Meta keeps the dots of Gmail addresses, and hashes phones without the "+".
        em: [sha('jane.doe@gmail.com')],
        ph: [sha('442079460958')],
        fbc: `fb.1.${CONVERTED - 3 * DAY}.IwAR2xYz_fbclid`,
        fbp: 'fb.1.1741900000000.1098765432',
        external_id: [sha('lead_42')],
      },
      custom_data: { value: 100, currency: 'EUR', lead_event_source: 'Closeloop', event_source: 'crm' },
    })
    expect(data[1]).toEqual({
      event_name: 'QualifiedLead', event_time: Math.floor(CONVERTED / 1000), event_id: 'cv_noclick', action_source: 'system_generated',
      user_data: { em: [sha('jane.doe@gmail.com')], external_id: [sha('lead_43')] },
      custom_data: { lead_event_source: 'Closeloop', event_source: 'crm' },
    })
    expect(stub.events.has(`QualifiedLead|${clicked.key}`)).toBe(true)
  })

  it('passes --test-event-code so the events show under Test events', async () => {
    await deliver([row()], destination({ 'test-event-code': 'TEST4821' }))
    expect((stub.requests.at(-1)?.body as { test_event_code?: string }).test_event_code).toBe('TEST4821')
  })

  it('isolates the event that made Meta reject the batch: only that row fails, with its reason', async () => {
    const before = stub.requests.length
    const good1 = row()
    const old = row({ occurredAt: clock - 9 * DAY, click: null })
    const good2 = row()
    const { results } = await deliver([good1, old, good2])
    expect(results[good1.key]).toEqual({ status: 'sent' })
    expect(results[good2.key]).toEqual({ status: 'sent' })
    expect(results[old.key].status).toBe('failed')
    const reason = (results[old.key] as { reason: string }).reason
    expect(reason).toMatch(/^Meta answered 400: Invalid parameter \(The timestamp for this event is too far in the past \(event 0\)\. .*\) \[code 100\/2804004\] fbtrace_id \S+$/)
    // The whole batch, then halves until the bad event stands alone.
    expect(stub.requests.slice(before).map((r) => (r.body as { data: unknown[] }).data.length)).toEqual([3, 1, 2, 1, 1])
    expect(stub.events.has(`QualifiedLead|${old.key}`)).toBe(false)
    expect(stub.events.has(`QualifiedLead|${good2.key}`)).toBe(true)
  })

  it('finds two bad events among 40 in a few requests', async () => {
    const before = stub.requests.length
    const rows = Array.from({ length: 40 }, (_, i) => row({ key: `cv_forty_${i}`, ...(i === 7 || i === 31 ? { value: Number.NaN } : {}) }))
    const { list } = await deliver(rows)
    expect(list.map((r) => r.key)).toEqual(rows.map((r) => r.key))
    const failed = list.filter((r) => r.result.status === 'failed').map((r) => r.key)
    expect(failed).toEqual(['cv_forty_7', 'cv_forty_31'])
    expect((list[7].result as { reason: string }).reason).toContain('custom_data.value must be a number')
    expect(list.filter((r) => r.result.status === 'sent')).toHaveLength(38)
    expect(stub.requests.length - before).toBeLessThan(25)
    for (const key of ['cv_forty_0', 'cv_forty_30', 'cv_forty_39']) expect(stub.events.has(`QualifiedLead|${key}`)).toBe(true)
  })

  it('stops the search when Meta rate-limits it, and retries the rows not yet settled', async () => {
    const rows = [row(), row({ occurredAt: clock - 8 * DAY }), row(), row()]
    // The batch (400), its first half (400), then the rate limit on the first half's first event.
    stub.rateLimitNext(1, 5, 2)
    const { list } = await deliver(rows)
    expect(list.map((r) => r.result.status)).toEqual(['retry', 'retry', 'retry', 'retry'])
    expect(list[3].result).toMatchObject({ retryAfterMs: 5 * 60_000 })
  })

  it('retries rate-limited batches after the time Meta says access comes back', async () => {
    const rows = [row(), row()]
    stub.rateLimitNext(1, 3)
    const { results } = await deliver(rows)
    for (const r of rows) expect(results[r.key]).toMatchObject({ status: 'retry', retryAfterMs: 3 * 60_000 })
    expect((results[rows[0].key] as { reason: string }).reason).toContain('(#17) User request limit reached')
    const again = await deliver(rows)
    expect(again.list.map((r) => r.result.status)).toEqual(['sent', 'sent'])
  })

  it('fails every row of a batch with the reason when the access token has expired', async () => {
    const other = await startMetaStub({ now: () => clock })
    try {
      const d: Destination<MetaOptions> = {
        id: 'dst_meta_expired', siteId: 's', kind: 'meta', send: {},
        options: metaAdapter.parseOptions({ 'pixel-id': other.pixelId, 'access-token': other.token, 'api-base': other.url }),
      }
      other.expireToken()
      const rows = [row(), row()]
      const list = await metaAdapter.send(metaAdapter.buildBatch(rows, d), d, env)
      expect(list.map((r) => r.key)).toEqual(rows.map((r) => r.key))
      for (const r of list) {
        expect(r.result.status).toBe('failed')
        expect((r.result as { reason: string }).reason).toMatch(/^Access token expired or invalid: Meta answered 400: Error validating access token: Session has expired .* \[code 190\/463\]/)
      }
      // No one-by-one retries for a token problem.
      expect(other.requests).toHaveLength(1)
    } finally {
      await other.close()
    }
  })

  it('splits more than 1,000 rows into requests of at most 1,000 events', () => {
    const rows = Array.from({ length: 2001 }, (_, i) => row({ key: `cv_many_${i}` }))
    const { requests } = metaAdapter.buildBatch(rows, destination())
    expect(requests.map((r) => r.rowKeys.length)).toEqual([1000, 1000, 1])
    expect(requests[1].rowKeys[0]).toBe('cv_many_1000')
    expect((JSON.parse(requests[2].body) as { data: Array<{ event_id: string }> }).data[0].event_id).toBe('cv_many_2000')
  })

  it('resends a row with the same event_id, which Meta keeps once', async () => {
    const d = destination()
    const r = row({ key: 'cv_meta_resend' })
    await deliver([r], d)
    const kept = stub.events.size
    await deliver([{ ...r }], d)
    const ids = stub.requests.slice(-2).map((q) => (q.body as { data: Array<{ event_id: string }> }).data[0].event_id)
    expect(ids).toEqual(['cv_meta_resend', 'cv_meta_resend'])
    expect(stub.events.size).toBe(kept)
  })
})
