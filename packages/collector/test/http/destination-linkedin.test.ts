// The LinkedIn Conversions API adapter over real HTTP against a local stub of /rest/conversionEvents:
// BATCH_CREATE shapes and headers field by field (hashes computed here independently), per-element
// statuses as per-row results, 429 with Retry-After, an expired token, and resends with the same
// eventId.

import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConversionRow, Destination } from '../../src/integrations/destinations/adapter.js'
import { linkedinAdapter, type LinkedInOptions } from '../../src/integrations/destinations/linkedin.js'
import type { IntegrationEnv } from '../../src/integrations/types.js'
import { startLinkedInStub, type LinkedInStub } from './stubs/linkedin-stub.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const HOUR = 3_600_000
const DAY = 24 * HOUR
const CONVERTED = Date.UTC(2026, 2, 15, 14, 5, 9, 750)
const RULE = 'urn:lla:llaPartnerConversion:1111'
const WON_RULE = 'urn:lla:llaPartnerConversion:2222'

let stub: LinkedInStub
const clock = CONVERTED + HOUR
let seq = 0
const env: IntegrationEnv = { fetch: (url, init) => fetch(url, init), now: () => clock }

beforeAll(async () => {
  stub = await startLinkedInStub({ now: () => clock })
})
afterAll(async () => stub.close())

function destination(over: Record<string, string> = {}): Destination<LinkedInOptions> {
  const options = linkedinAdapter.parseOptions({ 'access-token': stub.token, 'conversion-urn': RULE, 'api-base': stub.url, ...over })
  return { id: `dst_li_${++seq}`, siteId: 'site_1', kind: 'linkedin', options, send: { sql: { name: 'Qualified lead', value: 100 } } }
}

function row(over: Partial<ConversionRow> = {}): ConversionRow {
  return {
    key: `cv_${++seq}`, leadId: 'lead_7', stage: 'sql', conversionName: 'Qualified lead', value: 100, currency: 'USD', occurredAt: CONVERTED,
    click: { type: 'li_fat_id', value: 'df5gf5-gh6t7-ph4j7h-fgf6n1', ts: CONVERTED - 5 * DAY }, email: ' Jane.Doe@Gmail.com', phone: null, fbp: null, ...over,
  }
}

async function deliver(rows: ConversionRow[], d = destination()) {
  const batch = linkedinAdapter.buildBatch(rows, d)
  const list = await linkedinAdapter.send(batch, d, env)
  return { batch, list, results: Object.fromEntries(list.map((r) => [r.key, r.result])) }
}

describe('LinkedIn Conversions API', () => {
  it('sends a BATCH_CREATE of conversion events with the versioned Rest.li headers', async () => {
    const before = stub.requests.length
    const clicked = row({ value: 2500.5 })
    const byEmail = row({ key: 'cv_li_email', click: null, value: null })
    const { results } = await deliver([clicked, byEmail])
    expect(results).toEqual({ [clicked.key]: { status: 'sent' }, cv_li_email: { status: 'sent' } })
    const [req] = stub.requests.slice(before)
    expect(req.path).toBe('/rest/conversionEvents')
    expect(req.headers.authorization).toBe(`Bearer ${stub.token}`)
    expect(req.headers['linkedin-version']).toBe('202603')
    expect(req.headers['x-restli-protocol-version']).toBe('2.0.0')
    expect(req.headers['x-restli-method']).toBe('BATCH_CREATE')
    const { elements } = req.body as { elements: Array<Record<string, unknown>> }
    expect(elements[0]).toEqual({
      conversion: RULE,
      // Epoch milliseconds, as they are.
      conversionHappenedAt: CONVERTED,
      conversionValue: { currencyCode: 'USD', amount: '2500.5' },
      user: {
        userIds: [
          // LinkedIn: trimmed and lower-cased, dots kept.
          { idType: 'SHA256_EMAIL', idValue: sha('jane.doe@gmail.com') },
          { idType: 'LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID', idValue: 'df5gf5-gh6t7-ph4j7h-fgf6n1' },
        ],
      },
      eventId: clicked.key,
    })
    expect(elements[1]).toEqual({
      conversion: RULE, conversionHappenedAt: CONVERTED, user: { userIds: [{ idType: 'SHA256_EMAIL', idValue: sha('jane.doe@gmail.com') }] }, eventId: 'cv_li_email',
    })
  })

  it('sends each conversion name to its own rule with NAME=URN entries', async () => {
    const d = destination({ 'conversion-urn': `Qualified lead=${RULE}\nClosed deal=${WON_RULE}` })
    const won = row({ stage: 'won', conversionName: 'Closed deal' })
    const unmapped = row({ conversionName: 'Demo' })
    const { batch, results } = await deliver([row(), won, unmapped], d)
    expect((JSON.parse(batch.requests[0].body) as { elements: Array<{ conversion: string }> }).elements.map((e) => e.conversion)).toEqual([RULE, WON_RULE])
    expect(results[unmapped.key]).toEqual({ status: 'failed', reason: 'No --conversion-urn for the conversion "Demo"' })
    expect(results[won.key]).toEqual({ status: 'sent' })
  })

  it('turns per-element statuses into per-row results', async () => {
    const good = row()
    const old = row({ occurredAt: clock - 100 * DAY })
    const good2 = row({ click: null })
    const { results } = await deliver([good, old, good2])
    expect(results[good.key]).toEqual({ status: 'sent' })
    expect(results[good2.key]).toEqual({ status: 'sent' })
    expect(results[old.key]).toEqual({ status: 'failed', reason: 'LinkedIn answered 400: /conversionHappenedAt: must be within the past 90 days (ILLEGAL_ARGUMENT)' })
    expect(stub.events.has(`${RULE}|${old.key}`)).toBe(false)
    // A rule that is gone fails its rows, not the batch.
    const gone = destination({ 'conversion-urn': 'urn:lla:llaPartnerConversion:9999' })
    const r = await deliver([row()], gone)
    expect(r.list[0].result).toMatchObject({ status: 'failed', reason: expect.stringContaining('LinkedIn answered 404: Conversion rule urn:lla:llaPartnerConversion:9999 does not exist') })
  })

  it('retries on 429 after Retry-After', async () => {
    const rows = [row(), row()]
    stub.failNext(1, 12)
    const first = await deliver(rows)
    for (const r of rows) expect(first.results[r.key]).toEqual({ status: 'retry', retryAfterMs: 12_000, reason: 'LinkedIn answered 429: Resource level throttle limit for calls to this resource is reached. (TOO_MANY_REQUESTS)' })
    const second = await deliver(rows)
    expect(second.list.map((r) => r.result.status)).toEqual(['sent', 'sent'])
  })

  it('fails the rows with the reason when the token has expired, and on a retired API version', async () => {
    const other = await startLinkedInStub({ now: () => clock })
    try {
      const d: Destination<LinkedInOptions> = {
        id: 'dst_li_expired', siteId: 's', kind: 'linkedin', send: {},
        options: linkedinAdapter.parseOptions({ 'access-token': other.token, 'conversion-urn': RULE, 'api-base': other.url, 'api-version': '202401' }),
      }
      const retired = await linkedinAdapter.send(linkedinAdapter.buildBatch([row({ key: 'cv_v' })], d), d, env)
      expect(retired).toEqual([{ key: 'cv_v', result: { status: 'failed', reason: 'LinkedIn answered 426: Requested version 202401 is not active (NONEXISTENT_VERSION)' } }])
      other.expireToken()
      const list = await linkedinAdapter.send(linkedinAdapter.buildBatch([row({ key: 'cv_x' }), row({ key: 'cv_y' })], { ...d, options: { ...d.options, apiVersion: '202603' } }), d, env)
      expect(list).toEqual(['cv_x', 'cv_y'].map((key) => ({ key, result: { status: 'failed', reason: 'Access token expired or revoked: LinkedIn answered 401: The token used in the request has expired (EXPIRED_ACCESS_TOKEN)' } })))
    } finally {
      await other.close()
    }
  })

  it('resends a row with the same eventId, which LinkedIn keeps once', async () => {
    const d = destination()
    const r = row({ key: 'cv_li_resend' })
    await deliver([r], d)
    const kept = stub.events.size
    await deliver([{ ...r }], d)
    const ids = stub.requests.slice(-2).map((q) => (q.body as { elements: Array<{ eventId: string }> }).elements[0].eventId)
    expect(ids).toEqual(['cv_li_resend', 'cv_li_resend'])
    expect(stub.events.size).toBe(kept)
  })
})
