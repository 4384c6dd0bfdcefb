// /segment/v1: the Segment HTTP API on a listening collector, spoken by hand (every protocol edge)
// and by the real server clients, unchanged: @segment/analytics-node and @rudderstack/rudder-sdk-node.

import { gzipSync } from 'node:zlib'
import { Analytics } from '@segment/analytics-node'
import RudderAnalytics from '@rudderstack/rudder-sdk-node'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { segmentVisitorId } from '../../src/ingest/segment.js'
import { eventsOf, expectAttributed, LANDING, leadByEmail } from './segment-helpers.js'
import { BROWSER_UA, ORIGIN, secret, send, startTestServer, type TestServer } from './helpers.js'
import { lossyProxy, type LossyProxy } from './lossy-proxy.js'

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`

async function post(server: TestServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  return send(`${server.url}${path}`, { body, headers: { 'content-type': 'application/json', ...headers } })
}

describe('/segment/v1 by hand', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(async () => {
    await server.close()
  })

  const track = (anonymousId: string, extra: Record<string, unknown> = {}) => ({ type: 'track', event: 'Clicked', anonymousId, messageId: `m-${Math.random()}`, timestamp: new Date().toISOString(), ...extra })

  it('takes the write key as the Basic user name or as writeKey, and answers {"success":true}', async () => {
    const a = await post(server, '/segment/v1/batch', { batch: [track('key-basic')] }, { authorization: basic(server.sk) })
    expect(a.status).toBe(200)
    expect(a.body).toMatchObject({ success: true, rejected: [] })
    const b = await post(server, '/segment/v1/batch', { writeKey: server.sk, batch: [track('key-field')] })
    expect(b.body.success).toBe(true)
    expect(await eventsOf(server, 'key-basic')).toHaveLength(1)
    expect(await eventsOf(server, 'key-field')).toHaveLength(1)
  })

  it('refuses a missing or wrong key with coded 401s', async () => {
    expect((await post(server, '/segment/v1/batch', { batch: [track('x')] })).body.error.code).toBe('CL_ERR_MISSING_WRITE_KEY')
    expect((await post(server, '/segment/v1/batch', { batch: [track('x')] }, { authorization: basic('pk_nope') })).body.error.code).toBe('CL_ERR_UNKNOWN_SITE')
    const wrong = await post(server, '/segment/v1/batch', { batch: [track('x')] }, { authorization: basic(server.sk.slice(0, -2) + 'xx') })
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'CL_ERR_BAD_SECRET_KEY'])
  })

  it('serves every single-call route by name and by analytics.js\'s letter', async () => {
    const routes = { track: 't', page: 'p', screen: 's', identify: 'i', group: 'g', alias: 'a' } as const
    for (const [name, letter] of Object.entries(routes)) {
      for (const path of [name, letter]) {
        const body = { anonymousId: `single-${path}`, userId: 'single-user', event: 'E', previousId: 'prev', groupId: 'g', traits: { name: 'Acme' }, messageId: `single-${path}` }
        const r = await post(server, `/segment/v1/${path}`, body, { authorization: basic(server.sk) })
        expect([path, r.status, r.body]).toEqual([path, 200, { success: true, rejected: [] }])
      }
    }
    expect((await eventsOf(server, 'single-t'))[0]).toMatchObject({ type: 'track', name: 'E' })
    expect((await eventsOf(server, 'single-s'))[0]).toMatchObject({ type: 'page' })
    const short = await post(server, '/segment/v1/b', { batch: [track('short-batch')] }, { authorization: basic(server.sk) })
    expect(short.body.success).toBe(true)
  })

  it('text/plain bodies (analytics.js) and gzip bodies (RudderStack) are read', async () => {
    const plain = await send(`${server.url}/segment/v1/t`, { raw: JSON.stringify(track('plain')), headers: { 'content-type': 'text/plain', authorization: basic(server.sk) } })
    expect(plain.status).toBe(200)
    const zipped = gzipSync(JSON.stringify({ batch: [track('zipped')] }))
    const res = await fetch(`${server.url}/segment/v1/batch`, { method: 'POST', body: zipped, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: basic(server.sk) } })
    expect(res.status).toBe(200)
    expect(await eventsOf(server, 'plain')).toHaveLength(1)
    expect(await eventsOf(server, 'zipped')).toHaveLength(1)
  })

  it('bounds the decompressed size, and codes broken or unknown encodings', async () => {
    // 5 MB of spaces gzip to about 5 KB: refused by what it expands to.
    const bomb = gzipSync(`{"batch":[${' '.repeat(5 * 1024 * 1024)}]}`)
    expect(bomb.length).toBeLessThan(10_000)
    const big = await fetch(`${server.url}/segment/v1/batch`, { method: 'POST', body: bomb, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: basic(server.sk) } })
    expect(big.status).toBe(413)
    expect((await big.json()).error.code).toBe('CL_ERR_BODY_TOO_LARGE')
    const broken = await fetch(`${server.url}/segment/v1/batch`, { method: 'POST', body: 'not gzip at all', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: basic(server.sk) } })
    expect([broken.status, (await broken.json()).error.code]).toEqual([400, 'CL_ERR_BAD_ENCODING'])
    const br = await fetch(`${server.url}/segment/v1/batch`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'br', authorization: basic(server.sk) } })
    expect([br.status, (await br.json()).error.code]).toEqual([415, 'CL_ERR_UNSUPPORTED_ENCODING'])
  })

  it('refuses a message over 32 KB and keeps the rest of its batch; 413 for a batch over 500 KB', async () => {
    const big = track('oversized', { properties: { blob: 'x'.repeat(33 * 1024) } })
    const res = await post(server, '/segment/v1/batch', { batch: [track('kept-1'), big, { type: 'track', event: 'no id' }, track('kept-2')] }, { authorization: basic(server.sk) })
    expect(res.status).toBe(200)
    expect(res.body.rejected).toEqual([{ index: 1, code: 'CL_ERR_EVENT_TOO_LARGE' }, { index: 2, code: 'CL_ERR_SEGMENT_NO_IDENTITY' }])
    expect(await eventsOf(server, 'kept-1')).toHaveLength(1)
    expect(await eventsOf(server, 'kept-2')).toHaveLength(1)
    expect(await eventsOf(server, 'oversized')).toHaveLength(0)
    // The refusals are in the data-quality record, identifiers removed.
    const rejected = await server.store.listRejected(server.site.id)
    expect(rejected.map((r) => r.code)).toEqual(expect.arrayContaining(['CL_ERR_EVENT_TOO_LARGE', 'CL_ERR_SEGMENT_NO_IDENTITY']))

    const single = await post(server, '/segment/v1/track', big, { authorization: basic(server.sk) })
    expect([single.status, single.body.error.code]).toEqual([413, 'CL_ERR_BODY_TOO_LARGE'])
    const huge = await post(server, '/segment/v1/batch', { batch: Array.from({ length: 20 }, (_, i) => track(`huge-${i}`, { properties: { blob: 'x'.repeat(30 * 1024) } })) }, { authorization: basic(server.sk) })
    expect([huge.status, huge.body.error.code]).toEqual([413, 'CL_ERR_BODY_TOO_LARGE'])
    expect(await eventsOf(server, 'huge-0')).toHaveLength(0)
  })

  it('a single call answers its message\'s own error', async () => {
    const r = await post(server, '/segment/v1/track', { event: 'x' }, { authorization: basic(server.sk) })
    expect([r.status, r.body.error.code]).toEqual([400, 'CL_ERR_SEGMENT_NO_IDENTITY'])
    const bad = await post(server, '/segment/v1/identify', { userId: 'u', traits: { email: 'not an address' } }, { authorization: basic(server.sk) })
    expect([bad.status, bad.body.error.code]).toEqual([400, 'CL_ERR_BAD_EMAIL'])
    const notObject = await post(server, '/segment/v1/batch', [1, 2], { authorization: basic(server.sk) })
    expect([notObject.status, notObject.body.error.code]).toEqual([400, 'CL_ERR_VALIDATION'])
  })

  it('counts a messageId once, however often it is sent', async () => {
    const m = track('dedup', { messageId: 'fixed-message-id' })
    for (let i = 0; i < 3; i++) expect((await post(server, '/segment/v1/batch', { batch: [m] }, { authorization: basic(server.sk) })).status).toBe(200)
    expect(await eventsOf(server, 'dedup')).toHaveLength(1)
  })

  it('corrects the client\'s clock with sentAt', async () => {
    const fast = Date.now() + 3_600_000 // a client clock one hour ahead
    await post(server, '/segment/v1/batch', { sentAt: new Date(fast).toISOString(), batch: [track('skew', { timestamp: new Date(fast - 60_000).toISOString() })] }, { authorization: basic(server.sk) })
    const [e] = await eventsOf(server, 'skew')
    expect(Math.abs(e.ts - (Date.now() - 60_000))).toBeLessThan(5_000)
  })

  it('publishable key: origin checked, bots dropped; secret key: never bot-filtered', async () => {
    const pkHeaders = { authorization: basic(server.pk), origin: ORIGIN, 'user-agent': BROWSER_UA }
    expect((await post(server, '/segment/v1/t', track('pk-browser'), pkHeaders)).status).toBe(200)
    expect(await eventsOf(server, 'pk-browser')).toHaveLength(1)
    const foreign = await post(server, '/segment/v1/t', track('pk-foreign'), { ...pkHeaders, origin: 'https://evil.example' })
    expect([foreign.status, foreign.body.error.code]).toEqual([403, 'CL_ERR_ORIGIN_NOT_ALLOWED'])
    const bot = await post(server, '/segment/v1/t', track('pk-bot'), { ...pkHeaders, 'user-agent': 'analytics-node-next/latest' })
    expect(bot.status).toBe(200)
    expect(await eventsOf(server, 'pk-bot')).toHaveLength(0)
    await post(server, '/segment/v1/t', track('sk-bot'), { authorization: basic(server.sk), 'user-agent': 'analytics-node-next/latest' })
    expect(await eventsOf(server, 'sk-bot')).toHaveLength(1)
  })

  it('CORS preflights allow the headers the browser clients send', async () => {
    const res = await fetch(`${server.url}/segment/v1/b`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,anonymousid,sentat,x-retry-count' },
    })
    expect(res.status).toBeLessThan(300)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase()
    for (const h of ['authorization', 'content-type', 'anonymousid', 'sentat', 'x-retry-count']) expect(allowed).toContain(h)
  })

  it('identify: secret key creates the lead; publishable links a visitor to it without changing it', async () => {
    const email = 'segment-identify@acme-corp.example'
    await post(server, '/segment/v1/identify', { anonymousId: 'srv-anon', userId: 'crm-77', traits: { email, plan: 'pro' } }, { authorization: basic(server.sk) })
    const lead = await leadByEmail(server, email)
    expect(lead.lead.externalId).toBe('crm-77')
    const pk = { authorization: basic(server.pk), origin: ORIGIN, 'user-agent': BROWSER_UA }
    await post(server, '/segment/v1/i', { anonymousId: 'browser-anon', traits: { email, plan: 'hacked' } }, pk)
    const after = await leadByEmail(server, email)
    expect(JSON.stringify(after)).toContain(segmentVisitorId('browser-anon'))
    expect(JSON.stringify(after)).not.toContain('hacked')
    // A userId-only server call joins the same lead (its visitor was linked by the identify).
    expect(JSON.stringify(after)).toContain(segmentVisitorId('crm-77'))
  })

  it('alias links the previous ID to the user; group sets the company (secret key)', async () => {
    const email = 'alias-user@initech.example'
    await post(server, '/segment/v1/identify', { userId: 'alias-user', traits: { email } }, { authorization: basic(server.sk) })
    await post(server, '/segment/v1/alias', { previousId: 'old-anon', userId: 'alias-user' }, { authorization: basic(server.sk) })
    await post(server, '/segment/v1/group', { userId: 'alias-user', groupId: 'g-9', traits: { name: 'Initech Holdings' } }, { authorization: basic(server.sk) })
    const lead = await leadByEmail(server, email)
    expect(JSON.stringify(lead)).toContain(segmentVisitorId('old-anon'))
    const accountId = lead.lead.accountId
    const account = await secret(server, `/v1/accounts/${accountId}`)
    expect(account.status).toBe(200)
    expect(JSON.stringify(account.body)).toContain('Initech Holdings')

    // A browser (publishable key) cannot move the lead to another company.
    const pk = { authorization: basic(server.pk), origin: ORIGIN, 'user-agent': BROWSER_UA }
    expect((await post(server, '/segment/v1/g', { userId: 'alias-user', groupId: 'g-x', traits: { name: 'Evil Corp' } }, pk)).status).toBe(200)
    expect((await leadByEmail(server, email)).lead.accountId).toBe(accountId)
    // A server identify naming the company moves it (as company in /v1/identify does).
    await post(server, '/segment/v1/identify', { userId: 'alias-user', traits: { email, company: { name: 'Globex' } } }, { authorization: basic(server.sk) })
    const moved = (await leadByEmail(server, email)).lead.accountId
    expect(moved).not.toBe(accountId)
    expect(JSON.stringify((await secret(server, `/v1/accounts/${moved}`)).body)).toContain('Globex')
  })
})

describe('@segment/analytics-node, unchanged', () => {
  let server: TestServer
  let proxy: LossyProxy
  beforeEach(async () => {
    server = await startTestServer()
    proxy = await lossyProxy(server.url, 1)
  })
  afterEach(async () => {
    await proxy.close()
    await server.close()
  })

  it('a campaign visit, a page, a track and an identify reach the lead and the report; the retried batch counts once; an oversized message is refused, the rest kept', async () => {
    const analytics = new Analytics({ writeKey: server.sk, host: proxy.url, path: '/segment/v1/batch', flushInterval: 50, maxRetries: 3 })
    const anonymousId = 'node-anon-1'
    const email = 'node-buyer@acme-corp.example'
    analytics.page({ anonymousId, name: 'Landing', context: { page: { url: LANDING, referrer: 'https://www.linkedin.com/feed/' } } })
    analytics.page({ anonymousId, name: 'Pricing', context: { page: { url: 'https://shop.example/pricing', referrer: LANDING } } })
    analytics.track({ anonymousId, event: 'Demo Requested', properties: { plan: 'team' } })
    analytics.track({ anonymousId, event: 'Too Big', properties: { blob: 'x'.repeat(40 * 1024) } })
    analytics.identify({ anonymousId, userId: 'node-user-1', traits: { email, name: 'Node Buyer' } })
    await analytics.closeAndFlush({ timeout: 20_000 })

    // The client sends the 40 KB message in its batch (its own size check misses it): the
    // collector refuses that one message and keeps the rest.
    expect(proxy.bodies[0].length).toBeGreaterThan(40 * 1024)
    // (Recorded once per delivery: the retry was refused again.)
    expect(new Set((await server.store.listRejected(server.site.id)).map((r) => r.code))).toEqual(new Set(['CL_ERR_EVENT_TOO_LARGE']))
    // The first delivery was stored but its answer lost: the client sent the same batch again.
    expect(proxy.bodies.length).toBeGreaterThanOrEqual(2)
    const firstIds = JSON.parse(proxy.bodies[0].toString()).batch.map((m: { messageId: string }) => m.messageId)
    expect(JSON.parse(proxy.bodies[1].toString()).batch.map((m: { messageId: string }) => m.messageId)).toEqual(firstIds)
    const events = await eventsOf(server, anonymousId)
    expect(events.filter((e) => e.type === 'page')).toHaveLength(2)
    expect(events.filter((e) => e.type === 'track').map((e) => e.name)).toEqual(['Demo Requested'])
    await expectAttributed(server, email, anonymousId)
  })
})

describe('@rudderstack/rudder-sdk-node, unchanged (gzip bodies)', () => {
  let server: TestServer
  let proxy: LossyProxy
  beforeEach(async () => {
    server = await startTestServer()
    proxy = await lossyProxy(server.url, 1)
  })
  afterEach(async () => {
    await proxy.close()
    await server.close()
  })

  it('a campaign visit, a page, a track and an identify reach the lead and the report; the retried batch counts once; an oversized message is refused, the rest kept', async () => {
    const client = new RudderAnalytics(server.sk, { dataPlaneUrl: `${proxy.url}/segment`, flushAt: 20, flushInterval: 50, logLevel: 'error' })
    const anonymousId = 'rudder-anon-1'
    const email = 'rudder-buyer@acme-corp.example'
    client.page({ anonymousId, name: 'Landing', context: { page: { url: LANDING, referrer: 'https://www.linkedin.com/' } } })
    client.page({ anonymousId, name: 'Pricing', context: { page: { url: 'https://shop.example/pricing', referrer: LANDING } } })
    client.track({ anonymousId, event: 'Demo Requested', properties: { plan: 'team' } })
    client.track({ anonymousId, event: 'Too Big', properties: { blob: 'x'.repeat(40 * 1024) } })
    client.identify({ anonymousId, userId: 'rudder-user-1', traits: { email } })
    await new Promise((resolve) => setTimeout(resolve, 300))
    await client.flush()
    // Until every batch has landed (the first one was retried after its answer was lost).
    for (let i = 0; i < 100 && (await eventsOf(server, anonymousId)).length < 4; i++) await new Promise((r) => setTimeout(r, 100))

    expect(proxy.bodies.length).toBeGreaterThanOrEqual(2)
    expect(proxy.bodies[0][0]).toBe(0x1f) // gzip magic: the body really was compressed
    const events = await eventsOf(server, anonymousId)
    expect(events.filter((e) => e.type === 'page')).toHaveLength(2)
    expect(events.filter((e) => e.type === 'track').map((e) => e.name)).toEqual(['Demo Requested'])
    const rejected = await server.store.listRejected(server.site.id)
    expect(rejected.map((r) => r.code)).toContain('CL_ERR_EVENT_TOO_LARGE')
    await expectAttributed(server, email, anonymousId)
  })
})
