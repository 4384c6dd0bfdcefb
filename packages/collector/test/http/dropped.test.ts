// Events that are not stored, counted by reason over a real listening collector: a headless
// Chrome (bot), an unlisted origin, an unknown key, an invalid event and an erased visitor show in
// the data-quality report and /metrics, each reason logged once per site with a hint; a site that
// keeps bots stores them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { updateSite } from '../../src/sites/admin.js'
import { collect, ORIGIN, pageEvent, secret, send, startTestServer, visitorId, type TestServer } from './helpers.js'

const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36'
const UNKNOWN_PK = 'pk_AAAAAAAAAAAAAAAAAAAAA'

let server: TestServer
const logs: Array<Record<string, unknown>> = []

beforeAll(async () => {
  server = await startTestServer({}, { logger: { level: 'warn', stream: { write: (line: string) => { logs.push(JSON.parse(line)) } } } })
})
afterAll(() => server?.close())

const dropLogs = () => logs.filter((l) => typeof l.reason === 'string' && typeof l.hint === 'string')

async function metric(labels: string): Promise<number> {
  const text = (await send(`${server.url}/metrics`)).text
  const line = text.split('\n').find((l) => l.startsWith(`closeloop_events_dropped_total{${labels}} `))
  return line ? Number(line.split(' ').pop()) : 0
}

describe('events not stored', () => {
  it('are counted by reason in the quality report and /metrics, and logged once per site and reason', async () => {
    const headers = { 'user-agent': HEADLESS, origin: ORIGIN }
    const bot1 = await collect(server, [pageEvent(visitorId()), pageEvent(visitorId())], { headers })
    const bot2 = await collect(server, [pageEvent(visitorId())], { headers })
    expect([bot1.status, bot1.body.accepted, bot2.status]).toEqual([200, 0, 200])

    const origin = await collect(server, [pageEvent(visitorId())], { headers: { origin: 'https://elsewhere.example' } })
    expect(origin.status).toBe(403)
    const unknown = await collect(server, [pageEvent(visitorId()), pageEvent(visitorId())], { site: UNKNOWN_PK })
    expect(unknown.status).toBe(401)
    const wrongSecret = await send(`${server.url}/v1/import`, { body: { events: [pageEvent(visitorId())] }, headers: { authorization: 'Bearer sk_nope_nope' } })
    expect(wrongSecret.status).toBe(401)
    const invalid = await collect(server, [{ id: 'x', type: 'nope' }])
    expect(invalid.body.rejected).toHaveLength(1)
    const gone = visitorId()
    expect((await secret(server, '/v1/privacy/erase', { visitorId: gone })).status).toBe(200)
    const suppressed = await collect(server, [pageEvent(gone)])
    expect(suppressed.body.rejected.map((r: { code: string }) => r.code)).toEqual(['CL_ERR_SUPPRESSED'])

    const q = await secret(server, '/v1/reports/quality')
    expect(q.status).toBe(200)
    expect(q.body.dropped).toEqual({ bot: 3, origin: 1, suppressed: 1, invalid: 1 })
    // A window that ends before today has none of them.
    expect((await secret(server, '/v1/reports/quality?to=2020-01-01')).body.dropped).toEqual({ bot: 0, origin: 0, suppressed: 0, invalid: 0 })

    const site = 'site="Test shop"'
    expect(await metric(`reason="bot",${site}`)).toBe(3)
    expect(await metric(`reason="origin",${site}`)).toBe(1)
    expect(await metric(`reason="suppressed",${site}`)).toBe(1)
    expect(await metric(`reason="invalid",${site}`)).toBe(1)
    // No site to attribute an unknown key to: /metrics only, without a site label.
    expect(await metric('reason="unknown_key"')).toBe(3)

    const lines = dropLogs()
    expect(lines.map((l) => [l.site, l.reason]).sort()).toEqual([
      [null, 'unknown_key'], ['Test shop', 'bot'], ['Test shop', 'invalid'], ['Test shop', 'origin'], ['Test shop', 'suppressed'],
    ].sort())
    expect(lines.find((l) => l.reason === 'bot')?.hint).toContain('--keep-bots')
  })

  it('a site that keeps bots stores a headless browser\'s events', async () => {
    const before = (await secret(server, '/v1/reports/quality')).body.dropped.bot
    await updateSite(server.store, 'Test shop', { keepBots: true })
    server.app.closeloop.sites.clear()
    try {
      const vid = visitorId()
      const kept = await collect(server, [pageEvent(vid)], { headers: { 'user-agent': HEADLESS, origin: ORIGIN } })
      expect(kept.body.accepted).toBe(1)
      expect((await secret(server, '/v1/reports/quality')).body.dropped.bot).toBe(before)
    } finally {
      const site = await updateSite(server.store, 'Test shop', { keepBots: false })
      server.app.closeloop.sites.clear()
      expect(site.settings.keepBots).toBeUndefined()
    }
    const dropped = await collect(server, [pageEvent(visitorId())], { headers: { 'user-agent': HEADLESS, origin: ORIGIN } })
    expect(dropped.body.accepted).toBe(0)
    expect((await secret(server, '/v1/reports/quality')).body.dropped.bot).toBe(before + 1)
  })
})
