// The Google Ads adapter over real HTTP against a local stub of Google's OAuth token endpoint and
// UploadClickConversions: request shapes field by field (hashes computed here independently),
// partial failures, 429 with Retry-After or Google's retryDelay, the access token cached, refreshed
// once on 401 and then failing with Google's reason, and resends carrying the same orderId.

import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConversionRow, Destination } from '../../src/integrations/destinations/adapter.js'
import { googleAdsAdapter, type GoogleAdsOptions } from '../../src/integrations/destinations/google-ads.js'
import type { IntegrationEnv } from '../../src/integrations/types.js'
import { startGoogleAdsStub, type GoogleAdsStub } from './stubs/google-ads-stub.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const HOUR = 3_600_000
const DAY = 24 * HOUR
/** 2026-03-15 14:05:09.750 UTC: the conversion. */
const CONVERTED = Date.UTC(2026, 2, 15, 14, 5, 9, 750)

let stub: GoogleAdsStub
let clock = CONVERTED + HOUR
let seq = 0
const env: IntegrationEnv = { fetch: (url, init) => fetch(url, init), now: () => clock }

beforeAll(async () => {
  stub = await startGoogleAdsStub({ loginCustomerId: '9876543210', now: () => clock })
  stub.clicks.set('gclid-abc', CONVERTED - 3 * DAY)
  stub.clicks.set('gbraid-xyz', CONVERTED - 10 * DAY)
})
afterAll(async () => stub.close())

/** A destination of its own per test, so no test sees another's cached access token. */
function destination(over: Record<string, string> = {}): Destination<GoogleAdsOptions> {
  const o = stub.options
  const options = googleAdsAdapter.parseOptions({
    'client-id': o.clientId, 'client-secret': o.clientSecret, 'refresh-token': o.refreshToken, 'developer-token': o.developerToken,
    'customer-id': '123-456-7890', 'login-customer-id': '987-654-3210', action: 'Qualified lead=111\nClosed deal=222',
    'api-base': stub.url, 'token-url': stub.tokenUrl, ...over,
  })
  return { id: `dst_google_${++seq}`, siteId: 'site_1', kind: 'google-ads', options, send: { sql: { name: 'Qualified lead', value: 100 }, won: { name: 'Closed deal', value: null } } }
}

function row(over: Partial<ConversionRow> = {}): ConversionRow {
  return {
    key: `cv_${++seq}`, leadId: 'lead_1', stage: 'sql', conversionName: 'Qualified lead', value: 100, currency: 'EUR', occurredAt: CONVERTED,
    click: { type: 'gclid', value: 'gclid-abc', ts: CONVERTED - 3 * DAY }, email: null, phone: null, fbp: null, ...over,
  }
}

async function deliver(rows: ConversionRow[], d = destination()) {
  const batch = googleAdsAdapter.buildBatch(rows, d)
  const results = await googleAdsAdapter.send(batch, d, env)
  return { batch, results: Object.fromEntries(results.map((r) => [r.key, r.result])), list: results }
}

describe('Google Ads conversions', () => {
  it('uploads click and enhanced conversions in Google\'s shapes, with OAuth and the account headers', async () => {
    const before = stub.requests.length
    const click = row()
    const braid = row({ key: 'cv_braid', click: { type: 'gbraid', value: 'gbraid-xyz', ts: CONVERTED - 10 * DAY }, value: 2500.5, stage: 'won', conversionName: 'Closed deal' })
    const enhanced = row({ key: 'cv_enhanced', click: null, value: null, email: ' John.Smith+ads@GoogleMail.com ', phone: '+442079460958' })
    const { results } = await deliver([click, braid, enhanced])
    expect(results).toEqual({ [click.key]: { status: 'sent' }, cv_braid: { status: 'sent' }, cv_enhanced: { status: 'sent' } })

    const seen = stub.requests.slice(before)
    expect(seen.map((r) => r.path)).toEqual(['/token', '/v26/customers/1234567890:uploadClickConversions'])
    expect(seen[0].body).toEqual({ grant_type: 'refresh_token', client_id: stub.options.clientId, client_secret: stub.options.clientSecret, refresh_token: stub.options.refreshToken })
    const h = seen[1].headers
    expect(h['developer-token']).toBe(stub.options.developerToken)
    expect(h['login-customer-id']).toBe('9876543210')
    expect(h.authorization).toMatch(/^Bearer ya29\./)
    expect(h['content-type']).toBe('application/json')

    const upload = seen[1].body as { conversions: Array<Record<string, unknown>>; partialFailure: boolean }
    expect(upload.partialFailure).toBe(true)
    expect(upload.conversions[0]).toEqual({
      conversionAction: 'customers/1234567890/conversionActions/111',
      // Seconds, UTC with its offset: 14:05:09.750Z is 14:05:09+00:00.
      conversionDateTime: '2026-03-15 14:05:09+00:00',
      conversionValue: 100,
      currencyCode: 'EUR',
      orderId: click.key,
      gclid: 'gclid-abc',
    })
    expect(upload.conversions[1]).toEqual({
      conversionAction: 'customers/1234567890/conversionActions/222', conversionDateTime: '2026-03-15 14:05:09+00:00',
      conversionValue: 2500.5, currencyCode: 'EUR', orderId: 'cv_braid', gbraid: 'gbraid-xyz',
    })
    // No click ID: hashed identity instead; Google drops the dots of a Gmail local part (not the +tag)
    // and hashes the phone in E.164 with its "+". No value: the action's own default applies.
    expect(upload.conversions[2]).toEqual({
      conversionAction: 'customers/1234567890/conversionActions/111', conversionDateTime: '2026-03-15 14:05:09+00:00', orderId: 'cv_enhanced',
      userIdentifiers: [
        { hashedEmail: sha('johnsmith+ads@googlemail.com'), userIdentifierSource: 'FIRST_PARTY' },
        { hashedPhoneNumber: sha('+442079460958'), userIdentifierSource: 'FIRST_PARTY' },
      ],
    })
    expect(stub.conversions.get(`111|${click.key}`)?.gclid).toBe('gclid-abc')
  })

  it('fails only the row Google rejects in a partial failure, with Google\'s reason', async () => {
    const good1 = row()
    const bad = row({ click: { type: 'gclid', value: 'not-a-google-click', ts: CONVERTED - DAY } })
    const good2 = row({ click: null, email: 'ann@example.com' })
    const { results } = await deliver([good1, bad, good2])
    expect(results[good1.key]).toEqual({ status: 'sent' })
    expect(results[good2.key]).toEqual({ status: 'sent' })
    expect(results[bad.key]).toEqual({ status: 'failed', reason: 'Google Ads: The click identifier could not be decoded. (conversionUploadError: UNPARSEABLE_GCLID)' })
    expect(stub.conversions.has(`111|${bad.key}`)).toBe(false)
  })

  it('asks to retry a row whose click Google has not processed yet, after 6 hours', async () => {
    stub.clicks.set('gclid-fresh', clock - HOUR)
    const fresh = row({ occurredAt: clock - HOUR / 2, click: { type: 'gclid', value: 'gclid-fresh', ts: clock - HOUR } })
    const { results } = await deliver([fresh])
    expect(results[fresh.key]).toMatchObject({ status: 'retry', retryAfterMs: 6 * HOUR })
    expect((results[fresh.key] as { reason: string }).reason).toContain('TOO_RECENT_EVENT')
  })

  it('retries the whole request on 429, waiting as long as Retry-After or Google\'s retryDelay says', async () => {
    const d = destination()
    const rows = [row(), row()]
    stub.failNext(1, 7)
    const first = await deliver(rows, d)
    for (const r of rows) expect(first.results[r.key]).toMatchObject({ status: 'retry', retryAfterMs: 7000 })
    expect((first.results[rows[0].key] as { reason: string }).reason).toContain('429')
    stub.failNext(1, null)
    const second = await deliver(rows, d)
    expect(second.results[rows[0].key]).toMatchObject({ status: 'retry', retryAfterMs: 30_000 })
    const third = await deliver(rows, d)
    expect(third.list.map((r) => r.result.status)).toEqual(['sent', 'sent'])
  })

  it('caches the access token until it expires, and refreshes it once on 401', async () => {
    const d = destination()
    const grants = stub.grants
    await deliver([row()], d)
    await deliver([row()], d)
    expect(stub.grants).toBe(grants + 1)
    // Past Google's expires_in (3599 s): a new token before the call.
    clock += 2 * HOUR
    await deliver([row()], d)
    expect(stub.grants).toBe(grants + 2)
    // Revoked early (401 UNAUTHENTICATED): one refresh, then the upload goes through.
    stub.expireTokens()
    const before = stub.requests.length
    const { results } = await deliver([row({ key: 'cv_after_401' })], d)
    expect(results.cv_after_401).toEqual({ status: 'sent' })
    expect(stub.requests.slice(before).map((r) => r.path)).toEqual([
      '/v26/customers/1234567890:uploadClickConversions', '/token', '/v26/customers/1234567890:uploadClickConversions',
    ])
  })

  it('fails with the reason when a fresh token is refused too, after one refresh only', async () => {
    const d = destination({ 'developer-token': 'not-the-developer-token' })
    const before = stub.requests.length
    const { results } = await deliver([row({ key: 'cv_devtoken' })], d)
    expect(results.cv_devtoken).toEqual({ status: 'failed', reason: 'Google Ads answered 401: The developer token is not valid. (authenticationError: DEVELOPER_TOKEN_INVALID)' })
    expect(stub.requests.slice(before).map((r) => r.path.replace(/^\/v26.*/, 'upload'))).toEqual(['/token', 'upload', '/token', 'upload'])
  })

  it('fails with invalid_grant when the refresh token was revoked', async () => {
    const other = await startGoogleAdsStub({ now: () => clock })
    try {
      other.clicks.set('gclid-abc', CONVERTED - 3 * DAY)
      const o = other.options
      const options = googleAdsAdapter.parseOptions({
        'client-id': o.clientId, 'client-secret': o.clientSecret, 'refresh-token': o.refreshToken, 'developer-token': o.developerToken,
        'customer-id': o.customerId, action: 'Qualified lead=111', 'api-base': other.url, 'token-url': other.tokenUrl,
      })
      const d: Destination<GoogleAdsOptions> = { id: 'dst_revoked', siteId: 's', kind: 'google-ads', options, send: {} }
      expect((await googleAdsAdapter.send(googleAdsAdapter.buildBatch([row({ key: 'cv_ok' })], d), d, env))[0].result).toEqual({ status: 'sent' })
      // No login-customer-id was configured, so none is sent.
      expect(other.requests.at(-1)?.headers['login-customer-id']).toBeUndefined()
      other.revokeRefreshToken()
      const [r] = await googleAdsAdapter.send(googleAdsAdapter.buildBatch([row({ key: 'cv_revoked' })], d), d, env)
      expect(r).toEqual({ key: 'cv_revoked', result: { status: 'failed', reason: 'Google OAuth refused the refresh token (invalid_grant: Token has been expired or revoked.)' } })
    } finally {
      await other.close()
    }
  })

  it('fails on a refused account or OAuth client and retries on 5xx, for every row of the request', async () => {
    // The stub's account is reached through manager 9876543210; without login-customer-id Google refuses.
    const noManager = destination({ 'login-customer-id': '' })
    const refused = await deliver([row({ key: 'cv_nomanager' })], noManager)
    expect(refused.results.cv_nomanager).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^Google Ads answered 403: User doesn't have permission to access customer\. .*login-customer-id.* \(authorizationError: USER_PERMISSION_DENIED\)$/) })
    const badClient = await deliver([row({ key: 'cv_badclient' })], destination({ 'client-secret': 'wrong' }))
    expect(badClient.results.cv_badclient).toEqual({ status: 'failed', reason: 'Google OAuth refused the OAuth client (--client-id, --client-secret) (invalid_client: Unauthorized)' })
    stub.failNext(1, 2, 503)
    const down = await deliver([row({ key: 'cv_503a' }), row({ key: 'cv_503b' })])
    expect(down.list.map((r) => r.result)).toEqual([0, 1].map(() => expect.objectContaining({ status: 'retry', retryAfterMs: 2000 })))
  })

  it('resends a row with the same orderId, which Google counts once', async () => {
    const d = destination()
    const again = row({ key: 'cv_resend' })
    await deliver([again], d)
    const count = stub.conversions.size
    const second = await deliver([{ ...again }], d)
    const ids = stub.uploads().slice(-2).map((u) => u.conversions[0].orderId)
    expect(ids).toEqual(['cv_resend', 'cv_resend'])
    expect(stub.conversions.size).toBe(count)
    // Google answers ORDER_ID_ALREADY_IN_USE: it holds the conversion, so the row is sent, not failed.
    expect(second.list.map((r) => r.result)).toEqual([{ status: 'sent' }])
  })

  it('fails rows it cannot send without calling Google for them', async () => {
    const unmapped = row({ conversionName: 'Demo booked' })
    const nothing = row({ click: null })
    const fine = row()
    const { batch, results } = await deliver([unmapped, nothing, fine])
    expect(batch.requests.map((r) => r.rowKeys)).toEqual([[fine.key]])
    expect(results[unmapped.key]).toEqual({ status: 'failed', reason: 'No --action gives the conversion action ID of "Demo booked"' })
    expect(results[nothing.key]).toEqual({ status: 'failed', reason: 'Neither a Google click ID nor an e-mail/phone to match the conversion on' })
    expect(results[fine.key]).toEqual({ status: 'sent' })
  })
})
