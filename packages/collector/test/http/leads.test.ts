// GET /v1/leads: the newest leads with their original source, and the lead of an email, found by
// the email's match-key hash. A real collector over a SQLite file; the raw address is never stored.

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pageEvent, secret, send, startTestServer, visitorId, type TestServer } from './helpers.js'

let server: TestServer
const HOUR = 3_600_000
const ids: Record<string, string> = {}

beforeAll(async () => {
  server = await startTestServer()
  const t0 = Date.now() - 10 * HOUR
  const people: Array<[string, number, Record<string, string> | null]> = [
    ['ann@example.com', 1, { source: 'google', medium: 'cpc', campaign: 'spring' }],
    ['bo@example.com', 3, null],
    ['cy@example.com', 2, { source: 'newsletter', medium: 'email', campaign: 'may' }],
  ]
  for (const [email, h, touch] of people) {
    const vid = visitorId()
    if (touch) {
      const r = await send(`${server.url}/v1/import`, {
        body: { events: [pageEvent(vid, { ts: t0, touch: { ts: t0, ...touch } })] },
        headers: { authorization: `Bearer ${server.sk}`, 'content-type': 'application/json' },
      })
      expect(r.status).toBe(200)
    }
    const res = await secret(server, '/v1/identify', { visitorId: vid, email, ts: t0 + h * HOUR })
    expect(res.status).toBe(200)
    ids[email] = res.body.leadId
  }
})
afterAll(async () => {
  await server.close()
})

describe('GET /v1/leads', () => {
  it('lists the newest leads first with e-mail and original source, up to limit', async () => {
    const all = await secret(server, '/v1/leads')
    expect(all.status).toBe(200)
    expect(all.body.leads.map((l: { id: string }) => l.id)).toEqual([ids['bo@example.com'], ids['cy@example.com'], ids['ann@example.com']])
    expect(all.body.leads[1]).toMatchObject({ email: 'cy@example.com', touchCount: 1, firstTouch: { source: 'newsletter', medium: 'email', campaign: 'may', channel: 'Email' } })
    expect(all.body.leads[0]).toMatchObject({ email: 'bo@example.com', touchCount: 0, firstTouch: null })
    const two = await secret(server, '/v1/leads?limit=2')
    expect(two.body.leads.map((l: { id: string }) => l.id)).toEqual([ids['bo@example.com'], ids['cy@example.com']])
  })

  it('finds the lead of an e-mail however it is written, and nobody for an unknown one', async () => {
    const found = await secret(server, `/v1/leads?email=${encodeURIComponent(' ANN@Example.com ')}`)
    expect(found.status).toBe(200)
    expect(found.body.leads).toHaveLength(1)
    expect(found.body.leads[0]).toMatchObject({ id: ids['ann@example.com'], email: 'ann@example.com', firstTouch: { source: 'google', channel: 'Paid Search' } })
    expect((await secret(server, '/v1/leads?email=nobody@example.com')).body).toEqual({ leads: [] })
  })

  it('refuses bad queries with coded 400s and callers without the secret key', async () => {
    const cases: Array<[string, string]> = [
      ['email=not-an-address', 'CL_ERR_BAD_EMAIL'], ['limit=0', 'CL_ERR_VALIDATION'], ['limit=101', 'CL_ERR_VALIDATION'], ['name=ann', 'CL_ERR_VALIDATION'],
    ]
    for (const [qs, code] of cases) {
      const r = await secret(server, `/v1/leads?${qs}`)
      expect([r.status, r.body.error.code], qs).toEqual([400, code])
    }
    const anon = await fetch(`${server.url}/v1/leads?email=ann@example.com`)
    expect(anon.status).toBe(401)
    const pub = await secret(server, '/v1/leads', undefined, { authorization: `Bearer ${server.pk}` })
    expect(pub.body.error.code).toBe('CL_ERR_BAD_SECRET_KEY')
  })

  it('keeps no raw e-mail in the database after a search', async () => {
    await secret(server, `/v1/leads?email=${encodeURIComponent('ann@example.com')}`)
    const files = readdirSync(server.dir).filter((f) => /\.(db|sqlite)(-wal)?$/.test(f))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) {
      expect(readFileSync(join(server.dir, f)).includes('ann@example.com'), f).toBe(false)
    }
  })
})
