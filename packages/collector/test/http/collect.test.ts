import { normalizePhone } from '../../src/identity/match-keys.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, ORIGIN, pageEvent, secret, send, startTestServer, visitorId, type TestServer } from './helpers.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.close()
})

async function storedEvents(vid: string): Promise<Array<Record<string, unknown>>> {
  const held = await server.store.exportPerson(server.site.id, { visitorId: vid })
  return held.events
}

describe('POST /v1/collect', () => {
  it('stores a batch and sets the visitor cookie', async () => {
    const vid = visitorId()
    const res = await collect(server, [pageEvent(vid), pageEvent(vid, { type: 'track', name: 'signup', props: { plan: 'pro' } })])
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ accepted: 2, duplicates: 0, rejected: [] })
    const cookie = res.headers.get('set-cookie') ?? ''
    expect(cookie).toContain(`_cl_vid=${vid}`)
    expect(cookie).toContain('Max-Age=34560000')
    expect(cookie).toContain('Path=/')
    expect(cookie).toContain('SameSite=Lax')
    expect(cookie).toContain('Domain=.shop.example')
    expect(cookie).not.toContain('Secure') // plain http here
    expect(await storedEvents(vid)).toHaveLength(2)
  })

  it('takes track names up to the tracker\'s 500-character cap, no longer', async () => {
    const vid = visitorId()
    const names = await collect(server, [pageEvent(vid, { type: 'track', name: 'n'.repeat(500) }), pageEvent(vid, { type: 'track', name: 'n'.repeat(501) })])
    expect(names.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, code: 'CL_ERR_INVALID_EVENT' }] })
  })

  it('accepts application/json too', async () => {
    const vid = visitorId()
    const res = await send(`${server.url}/v1/collect`, {
      body: { site: server.pk, sentAt: Date.now(), events: [pageEvent(vid)] },
      headers: { 'content-type': 'application/json' },
    })
    expect(res.body.accepted).toBe(1)
  })

  it('counts replayed batches as duplicates, never twice', async () => {
    const vid = visitorId()
    const batch = [pageEvent(vid), pageEvent(vid)]
    expect((await collect(server, batch)).body).toMatchObject({ accepted: 2, duplicates: 0 })
    expect((await collect(server, batch)).body).toMatchObject({ accepted: 0, duplicates: 2 })
    expect(await storedEvents(vid)).toHaveLength(2)
  })

  it('corrects client clock skew from sentAt', async () => {
    const vid = visitorId()
    const clientNow = Date.now() + 3_600_000 // client clock one hour fast
    const before = Date.now()
    await collect(server, [pageEvent(vid, { ts: clientNow - 5_000 })], { sentAt: clientNow })
    const [event] = await storedEvents(vid)
    const ts = Number(event.ts)
    expect(ts).toBeGreaterThanOrEqual(before - 5_000 - 50)
    expect(ts).toBeLessThanOrEqual(Date.now() - 5_000 + 50)
  })

  it('corrects a client clock stuck in 1970', async () => {
    const vid = visitorId()
    const before = Date.now()
    const res = await collect(server, [pageEvent(vid, { ts: 4_000, touch: { source: 'bing', medium: 'organic', ts: 4_000 } })], { sentAt: 5_000 })
    expect(res.body.accepted).toBe(1)
    const [event] = await storedEvents(vid)
    expect(Number(event.ts)).toBeGreaterThanOrEqual(before - 1_000 - 50)
    expect(Number(event.ts)).toBeLessThanOrEqual(Date.now() - 1_000 + 50)
    // Without sentAt there is nothing to correct with: the time is impossible and rejected.
    const bad = await collect(server, [pageEvent(vid, { ts: 4_000 })], { sentAt: undefined })
    expect(bad.body.rejected).toEqual([{ index: 0, code: 'CL_ERR_INVALID_EVENT' }])
  })

  it('cleans touches and recomputes the channel on the server', async () => {
    const vid = visitorId()
    const touch = { source: '  Google ', medium: 'CPC', campaign: ` spring ${'x'.repeat(600)}`, click_id: 'abc', click_id_type: 'gclid', channel: 'Referral', landing: 'https://shop.example/?gclid=abc' }
    await collect(server, [pageEvent(vid, { touch })])
    const res = await send(`${server.url}/v1/identify`, {
      body: { visitorId: vid, email: 'skew@example.com' },
      headers: { authorization: `Bearer ${server.sk}`, 'content-type': 'application/json' },
    })
    expect(res.status).toBe(200)
    expect(res.body.firstTouch).toMatchObject({ source: 'google', medium: 'cpc', channel: 'Paid Search', click_id: 'abc' })
    expect(res.body.firstTouch.campaign).toHaveLength(500)
    expect(res.body.firstTouch.campaign.startsWith('spring')).toBe(true)
    expect(res.body.channel).toBe('Paid Search')
  })

  it('keeps valid events beside invalid ones and reports each rejection with a code', async () => {
    const vid = visitorId()
    const events = [
      pageEvent(vid),
      pageEvent('not-a-visitor-id'),
      { nonsense: true },
      pageEvent(vid, { props: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } }),
      pageEvent(vid, { title: 'x'.repeat(40_000) }),
      pageEvent(vid, { type: 'track' }), // track without a name
      'a string',
      pageEvent(vid, { url: 'x'.repeat(3000) }),
      pageEvent(vid),
    ]
    const res = await collect(server, events)
    expect(res.status).toBe(200)
    expect(res.body.accepted).toBe(2)
    expect(res.body.rejected).toEqual([
      { index: 1, code: 'CL_ERR_BAD_VISITOR_ID' },
      { index: 2, code: 'CL_ERR_INVALID_EVENT' },
      { index: 3, code: 'CL_ERR_PROPS_TOO_COMPLEX' },
      { index: 4, code: 'CL_ERR_EVENT_TOO_LARGE' },
      { index: 5, code: 'CL_ERR_INVALID_EVENT' },
      { index: 6, code: 'CL_ERR_INVALID_EVENT' },
      { index: 7, code: 'CL_ERR_INVALID_EVENT' },
    ])
    expect(await storedEvents(vid)).toHaveLength(2)
  })

  it('stores SQL metacharacters, NUL and unicode verbatim (NUL removed), in every field', async () => {
    const vid = visitorId()
    const evil = `'); DROP TABLE events; -- " \\ %_ \u0000 ☃ 🎉 \uD800 <script>alert(1)</script>`
    const ev = pageEvent(vid, {
      url: evil, ref: evil, title: evil, props: { [evil.slice(0, 50)]: evil },
      touch: { source: evil, medium: evil, campaign: evil, term: evil, content: evil, referrer: evil, landing: evil, click_id: evil },
    })
    const res = await collect(server, [ev, pageEvent(vid, { type: 'track', name: evil })])
    expect(res.body).toMatchObject({ accepted: 2, rejected: [] })
    const stored = await storedEvents(vid)
    expect(stored).toHaveLength(2)
    const page = stored.find((e) => e.type === 'page') as Record<string, unknown>
    expect(page.title).toBe(evil.replace('\u0000', '').replace('\uD800', '\uFFFD'))
    // The store is still intact after the "DROP TABLE".
    expect((await collect(server, [pageEvent(vid)])).body.accepted).toBe(1)
  })

  it('rejects a whole batch that is not JSON, too large, too long or of the wrong type, and keeps later batches', async () => {
    const url = `${server.url}/v1/collect`
    const bad = await send(url, { raw: '{"site": "pk_', headers: { 'content-type': 'text/plain' } })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('CL_ERR_BAD_JSON')
    expect(bad.text).not.toMatch(/at .*\.js|stack/i)

    const empty = await send(url, { raw: '', headers: { 'content-type': 'text/plain' } })
    expect(empty.status).toBe(400)
    expect(empty.body.error.code).toBe('CL_ERR_EMPTY_BODY')

    const form = await send(url, { raw: 'site=pk', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(form.status).toBe(415)
    expect(form.body.error.code).toBe('CL_ERR_UNSUPPORTED_MEDIA_TYPE')

    const vid = visitorId()
    const huge = await collect(server, [pageEvent(vid, { title: 'x'.repeat(70_000) })])
    expect(huge.status).toBe(413)
    expect(huge.body.error.code).toBe('CL_ERR_BODY_TOO_LARGE')

    const many = await collect(server, Array.from({ length: 101 }, () => pageEvent(vid)))
    expect(many.status).toBe(413)
    expect(many.body.error.code).toBe('CL_ERR_TOO_MANY_EVENTS')

    const envelope = await send(url, { body: { site: server.pk, events: 'nope' } })
    expect(envelope.status).toBe(400)
    expect(envelope.body.error.code).toBe('CL_ERR_VALIDATION')

    const deep = await send(url, { raw: '['.repeat(30_000) + ']'.repeat(30_000), headers: { 'content-type': 'text/plain' } })
    expect(deep.status).toBe(400)
    expect(deep.body.error.code).toBe('CL_ERR_VALIDATION')

    expect((await collect(server, [pageEvent(vid)])).body.accepted).toBe(1)
  })

  it('answers 401 for unknown or malformed site keys, 403 for unlisted origins', async () => {
    const vid = visitorId()
    const unknown = await collect(server, [pageEvent(vid)], { site: 'pk_' + 'a'.repeat(21) })
    expect(unknown.status).toBe(401)
    expect(unknown.body.error.code).toBe('CL_ERR_UNKNOWN_SITE')
    const secretAsSite = await collect(server, [pageEvent(vid)], { site: server.sk })
    expect(secretAsSite.body.error.code).toBe('CL_ERR_UNKNOWN_SITE')
    const sqlSite = await collect(server, [pageEvent(vid)], { site: "pk_' OR 1=1 --" })
    expect(sqlSite.body.error.code).toBe('CL_ERR_UNKNOWN_SITE')

    const evil = await collect(server, [pageEvent(vid)], { headers: { origin: 'https://evil.example' } })
    expect(evil.status).toBe(403)
    expect(evil.body.error.code).toBe('CL_ERR_ORIGIN_NOT_ALLOWED')
    const nullOrigin = await collect(server, [pageEvent(vid)], { headers: { origin: 'null' } })
    expect(nullOrigin.status).toBe(403)

    const ok = await collect(server, [pageEvent(vid)], { headers: { origin: ORIGIN } })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(await storedEvents(vid)).toHaveLength(1)
  })

  it('answers CORS preflights for allowed origins only', async () => {
    const pre = await fetch(`${server.url}/v1/collect`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    const evil = await fetch(`${server.url}/v1/collect`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(evil.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('counts bots without storing them', async () => {
    const vid = visitorId()
    const res = await collect(server, [pageEvent(vid), pageEvent(vid)], { headers: { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' } })
    expect(res.status).toBe(200)
    expect(res.body.accepted).toBe(0)
    expect(await storedEvents(vid)).toHaveLength(0)
    const metrics = await send(`${server.url}/metrics`)
    expect(metrics.text).toMatch(/closeloop_events_bot_total [1-9]/)
  })

  it('links an identify event to a lead and stores no raw email or phone in the event', async () => {
    const vid = visitorId()
    const res = await collect(server, [
      pageEvent(vid, { touch: { source: 'newsletter', medium: 'email' } }),
      pageEvent(vid, { type: 'identify', traits: { email: ' Ada@Example.COM ', phone: '+1 415 555 0132', plan: 'pro' } }),
      pageEvent(vid, { type: 'identify', traits: { email: 'not an email' } }),
    ])
    expect(res.body.accepted).toBe(2)
    expect(res.body.rejected).toEqual([{ index: 2, code: 'CL_ERR_BAD_EMAIL' }])
    const stored = JSON.stringify(await storedEvents(vid))
    expect(stored).not.toMatch(/ada@example\.com/i)
    expect(stored).not.toMatch(/5550132|555 0132/)
    expect(stored).toContain('"plan":"pro"')
    const lead = await send(`${server.url}/v1/identify`, {
      body: { visitorId: visitorId(), email: 'ada@example.com' },
      headers: { authorization: `Bearer ${server.sk}`, 'content-type': 'application/json' },
    })
    expect(lead.body.created).toBe(false)
    expect(lead.body.visitorIds).toContain(vid)
    expect(lead.body.channel).toBe('Email')
  })

  it('redacts e-mails and phone fields in URLs, titles, referrers, touches and properties before storage', async () => {
    const vid = visitorId()
    const url = 'https://shop.example/thanks?email=ann%40example.com&phone=%2B14155550132&utm_source=news'
    const res = await collect(server, [
      pageEvent(vid, { url, ref: 'https://mail.example/read?to=ann@example.com', title: 'Welcome ann@example.com', touch: { source: 'news', medium: 'email', campaign: 'for-ann@example.com', landing: url } }),
      pageEvent(vid, { type: 'track', name: 'lead', props: { mobile: '07700 900123', note: 'reach me: ann%40example.com', plan: 'pro' } }),
    ])
    expect(res.body.accepted).toBe(2)
    const held = await server.store.exportPerson(server.site.id, { visitorId: vid })
    const text = JSON.stringify(held)
    for (const secretText of ['ann@example.com', 'ann%40example.com', '14155550132', '07700 900123']) expect(text, secretText).not.toContain(secretText)
    type Stored = { type: string; url: string; ref: string; title: string; props: Record<string, unknown> }
    const page = (held.events as Stored[]).find((e) => e.type === 'page') as Stored
    const track = (held.events as Stored[]).find((e) => e.type === 'track') as Stored
    expect(page.url).toBe('https://shop.example/thanks?email=%5Bredacted%5D&phone=%5Bredacted%5D&utm_source=news')
    expect([page.ref, page.title]).toEqual(['https://mail.example/read?to=[email]', 'Welcome [email]'])
    expect(track.props).toEqual({ mobile: '[redacted]', note: 'reach me: [email]', plan: 'pro' })
    expect(held.touches[0]).toMatchObject({ source: 'news', campaign: '[email]', landing: page.url })
  })

  it("a browser identify of an existing lead links its visitor and changes nothing else of the lead", async () => {
    const victim = visitorId()
    await collect(server, [pageEvent(victim, { touch: { source: 'google', medium: 'cpc', campaign: 'real' } })])
    const first = await secret(server, '/v1/identify', { visitorId: victim, email: 'victim@corp.example', traits: { name: 'Alice' }, company: 'Corp' })
    expect(first.status).toBe(200)
    const leadId = first.body.leadId as string
    const attacker = visitorId()
    const res = await collect(server, [
      pageEvent(attacker, { touch: { source: 'evil', medium: 'referral' } }),
      pageEvent(attacker, { type: 'identify', traits: { email: 'victim@corp.example', name: 'Mallory', phone: '+1 415 555 0199', externalId: 'mallory-1' } }),
    ])
    expect(res.body.accepted).toBe(2)
    const lead = (await secret(server, `/v1/leads/${leadId}`)).body
    expect(lead.lead).toMatchObject({ email: 'victim@corp.example', phone: null, externalId: null, traits: { name: 'Alice' } })
    expect(lead.visitorIds).toEqual(expect.arrayContaining([victim, attacker]))
    // The attacker's phone and external ID were not added as keys of the victim's lead.
    const byPhone = await server.store.findLeadByKey(server.site.id, { kind: 'phone', hash: server.app.closeloop.pii.matchHash(normalizePhone('+1 415 555 0199') as string) })
    expect(byPhone).toBeNull()
    // The original source is the victim's own first touch.
    expect(lead.firstTouch).toMatchObject({ source: 'google', campaign: 'real' })
    // A browser identify of a new person still creates a lead.
    const fresh = visitorId()
    await collect(server, [pageEvent(fresh, { type: 'identify', traits: { email: 'new.person@corp.example', name: 'Nina' } })])
    const found = await secret(server, `/v1/leads?email=${encodeURIComponent('new.person@corp.example')}`)
    expect(found.body.leads).toHaveLength(1)
  })

  it('keeps a "__proto__" key as plain data without polluting prototypes', async () => {
    const vid = visitorId()
    const event = JSON.stringify(pageEvent(vid, { type: 'track', name: 'x' })).replace(/}$/, ',"props":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}')
    const raw = `{"site":"${server.pk}","sentAt":${Date.now()},"__proto__":{"polluted":true},"events":[${event}]}`
    const res = await send(`${server.url}/v1/collect`, { raw, headers: { 'content-type': 'text/plain' } })
    expect(res.body.accepted).toBe(1)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    const [stored] = await storedEvents(vid)
    expect(JSON.stringify(stored.props)).toContain('"__proto__":{"polluted":true}')
  })

  it('answers unknown paths with a coded 404', async () => {
    const res = await send(`${server.url}/v1/nope`)
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ error: { code: 'CL_ERR_NOT_FOUND', message: 'Not found' } })
  })
})
