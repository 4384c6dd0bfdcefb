// The Google Ads and Microsoft Advertising feeds as the platforms download them (GET
// /v1/feeds/{id}.csv through a listening collector), checked against the platforms' templates
// column by column: the `Parameters:TimeZone=` row, the header, and every row's values against
// what this test stored (clicks, deals, stage mapping), computed here without the product's
// formatting code: which leads belong in which feed, the click ID, the conversion name, the time in
// the feed's time zone, the value (fixed or the deal amount) and the site currency.

import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULTS, type Config } from '../../src/config.js'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { addDestination, feedPath } from '../../src/integrations/destinations/destinations.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createSite } from '../../src/sites/admin.js'
import { openStore } from '../../src/store/index.js'
import type { DestinationRecord } from '../../src/store/types.js'
import { send, tempDir, type TestServer } from './helpers.js'
import { DAY, identify, importEvents } from './outcome-helpers.js'

// The templates as Google Ads (Goals → Conversions → Uploads → "Conversions from clicks" template)
// and Microsoft Advertising (Conversions → Offline conversions → template) publish them: a time
// zone parameter row, then these columns in this order.
const GOOGLE_COLUMNS = ['Google Click ID', 'Conversion Name', 'Conversion Time', 'Conversion Value', 'Conversion Currency']
const MICROSOFT_COLUMNS = ['Microsoft Click ID', 'Conversion Name', 'Conversion Time', 'Conversion Value', 'Conversion Currency']
/** Both accept an offset (+hhmm / -hhmm) or a time zone name after `Parameters:TimeZone=`. */
const TIME_ZONE_ROW = /^Parameters:TimeZone=([+-])(\d\d)(\d\d)$/

const CURRENCY = 'EUR'
const NOW = Date.now()

let dir: string
let server: RunningServer
let sk: string
let google: { record: DestinationRecord; password: string }
let microsoft: { record: DestinationRecord; password: string }
const testServer = (): TestServer => ({ url: server.url, sk } as TestServer)

/** One lead: its click, the stages its deal reached (time and amount) in order. */
interface Case { name: string; click: { type: string; id: string; ago: number } | null; stages: Array<{ stage: string; ago: number; amount: number | null }> }

// Times carry milliseconds on purpose: the templates take whole seconds.
const CASES: Case[] = [
  { name: 'gclid, qualified then won', click: { type: 'gclid', id: 'Cj0KCQiA-feed_gclid1', ago: 10 * DAY }, stages: [{ stage: 'sql', ago: 8 * DAY + 123, amount: null }, { stage: 'won', ago: 2 * DAY + 456, amount: 12000.5 }] },
  { name: 'gbraid (iOS), won', click: { type: 'gbraid', id: '0AAAAAfeedGbraid', ago: 3 * DAY }, stages: [{ stage: 'won', ago: DAY + 789, amount: 99.99 }] },
  { name: 'wbraid clicked 89 days before winning', click: { type: 'wbraid', id: 'wbraidFeed-89', ago: 89 * DAY + 5 * 60_000 }, stages: [{ stage: 'won', ago: 10 * 60_000, amount: 500 }] },
  { name: 'gclid clicked 95 days before winning: outside the window', click: { type: 'gclid', id: 'Cj0-too-old', ago: 96 * DAY }, stages: [{ stage: 'won', ago: DAY, amount: 800 }] },
  { name: 'gclid won 100 days ago: older than the feed', click: { type: 'gclid', id: 'Cj0-long-ago', ago: 110 * DAY }, stages: [{ stage: 'won', ago: 100 * DAY, amount: 900 }] },
  { name: 'msclkid, demo held then won', click: { type: 'msclkid', id: 'f894f652ea334e739002f7167ab8f8e3', ago: 5 * DAY }, stages: [{ stage: 'opportunity', ago: 4 * DAY + 1, amount: null }, { stage: 'won', ago: 3 * 3_600_000 + 999, amount: 7300 }] },
  { name: 'msclkid clicked 91 days before winning', click: { type: 'msclkid', id: 'ms-too-old-0001', ago: 92 * DAY }, stages: [{ stage: 'won', ago: DAY, amount: 50 }] },
  { name: 'fbclid: neither platform', click: { type: 'fbclid', id: 'IwAR-feed-fb', ago: 2 * DAY }, stages: [{ stage: 'won', ago: DAY, amount: 1000 }] },
  { name: 'direct visit, won', click: null, stages: [{ stage: 'won', ago: DAY, amount: 2000 }] },
]

const SENDS = {
  google: { sql: { name: 'Qualified lead', value: 100 }, won: { name: 'Closed deal', value: null } },
  microsoft: { opportunity: { name: 'Demo held, EU', value: 25.5 }, won: { name: 'Closed deal', value: null } },
} as const

/** RFC 4180 rows: quoted cells may hold commas and doubled quotes. Independent of the product's CSV code. */
function parseRows(text: string): string[][] {
  const rows: string[][] = []
  for (const line of text.split('\r\n')) {
    if (line === '') continue
    const cells: string[] = []
    let i = 0
    while (i <= line.length) {
      if (line[i] === '"') {
        let v = ''
        i++
        while (i < line.length && !(line[i] === '"' && line[i + 1] !== '"')) { v += line[i]; i += line[i] === '"' ? 2 : 1 }
        cells.push(v)
        i += 2
      } else {
        const end = line.indexOf(',', i)
        cells.push(line.slice(i, end === -1 ? line.length : end))
        i = end === -1 ? line.length + 1 : end + 1
      }
    }
    rows.push(cells)
  }
  return rows
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')
/** The conversion time as the template wants it, in the zone of the TimeZone row (offset in minutes). */
function templateTime(ms: number, offsetMin: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000 + offsetMin * 60_000)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/** The rows a platform should download, from the stored cases alone. */
function expected(platform: 'google' | 'microsoft', offsetMin: number): string[][] {
  const types = platform === 'google' ? ['gclid', 'gbraid', 'wbraid'] : ['msclkid']
  const rows: Array<{ at: number; cells: string[] }> = []
  for (const c of CASES) {
    if (c.click === null || !types.includes(c.click.type)) continue
    for (const s of c.stages) {
      const send = (SENDS[platform] as Record<string, { name: string; value: number | null }>)[s.stage]
      if (send === undefined) continue
      const at = NOW - s.ago
      // The click must come within 90 days before the stage; the feed holds the last 90 days.
      if (at - (NOW - c.click.ago) > 90 * DAY || NOW - at > 90 * DAY) continue
      const value = send.value ?? s.amount
      rows.push({ at, cells: [c.click.id, send.name, templateTime(at, offsetMin), value === null ? '' : String(value), value === null ? '' : CURRENCY] })
    }
  }
  return rows.sort((a, b) => a.at - b.at).map((r) => r.cells)
}

async function download(d: { record: DestinationRecord; password: string }): Promise<string> {
  const r = await send(`${server.url}${feedPath(d.record.id)}`, { headers: { authorization: `Basic ${Buffer.from(`${d.record.id}:${d.password}`).toString('base64')}` } })
  expect(r.status, r.text).toBe(200)
  expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8')
  return r.text
}

/** The feed against its template: the time zone row, the columns, then each row's cells. */
function checkAgainstTemplate(csv: string, columns: string[], platform: 'google' | 'microsoft'): string[][] {
  expect(csv.endsWith('\r\n')).toBe(true)
  const [zone, header, ...rows] = parseRows(csv)
  expect(zone).toHaveLength(1)
  const m = TIME_ZONE_ROW.exec(zone[0])
  expect(m, zone[0]).not.toBeNull()
  const offset = (m![1] === '-' ? -1 : 1) * (Number(m![2]) * 60 + Number(m![3]))
  expect(header).toEqual(columns)
  for (const r of rows) expect(r).toHaveLength(columns.length)
  expect(rows).toEqual(expected(platform, offset))
  return rows
}

beforeAll(async () => {
  dir = tempDir('closeloop-destination-feeds-')
  const setup = await openStore({ dataDir: dir })
  const created = await createSite(setup, { name: 'feeds', origins: ['https://shop.example'], cookieDomain: null, currency: CURRENCY })
  sk = created.secretKey
  const key = loadInstallKeys({ dataDir: dir, env: {} }).integrationKey
  const sends = (p: 'google' | 'microsoft') => Object.entries(SENDS[p]).map(([stage, s]) => `${stage}=${s.name}${s.value === null ? '' : `:${s.value}`}`)
  const g = await addDestination(setup, key, { site: created.site, kind: 'google-ads-feed', options: {}, send: sends('google') })
  const ms = await addDestination(setup, key, { site: created.site, kind: 'microsoft-ads-feed', options: {}, send: sends('microsoft') })
  google = { record: g.record, password: g.feed!.password }
  microsoft = { record: ms.record, password: ms.feed!.password }
  await setup.close()
  const config: Config = { ...DEFAULTS, dataDir: dir, port: 0, crmSyncMinutes: 0 }
  server = await startServer(config, { logger: false })

  for (const [i, c] of CASES.entries()) {
    const vid = `feedvisitor${String(i).padStart(10, '0')}`
    const ts = NOW - (c.click?.ago ?? 20 * DAY)
    await importEvents(testServer(), [{
      id: `feedevent${String(i).padStart(12, '0')}`, type: 'page', ts, vid, sid: `feedsession${i}`.padEnd(12, 's'), url: 'https://shop.example/',
      touch: c.click === null ? { ts } : { ts, source: c.click.type === 'msclkid' ? 'bing' : 'google', medium: 'cpc', click_id: c.click.id, click_id_type: c.click.type },
    }])
    const leadId = await identify(testServer(), { email: `feed${i}@corp.example`, visitorId: vid })
    for (const s of c.stages) {
      const r = await send(`${server.url}/v1/deals`, { method: 'POST', body: { deals: [{ dealId: `feed-deal-${i}`, leadId, stage: s.stage, amount: s.amount, ts: NOW - s.ago }] }, headers: { authorization: `Bearer ${sk}` } })
      expect(r.status, r.text).toBe(200)
    }
  }
})

afterAll(async () => {
  await server?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the feeds as the platforms download them', () => {
  it("Google's offline click-conversion template: time zone row, columns, and every stored conversion row by row", async () => {
    const rows = checkAgainstTemplate(await download(google), GOOGLE_COLUMNS, 'google')
    // Oldest first: gclid qualified and won, gbraid, wbraid; not the click outside the window, nor the deal of 100 days ago.
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ['Cj0KCQiA-feed_gclid1', 'Qualified lead'], ['Cj0KCQiA-feed_gclid1', 'Closed deal'], ['0AAAAAfeedGbraid', 'Closed deal'], ['wbraidFeed-89', 'Closed deal'],
    ])
    // Downloaded again: the same rows (the platform ignores what it already imported).
    expect(parseRows(await download(google)).slice(2)).toEqual(rows)
  })

  it("Microsoft Advertising's offline conversions template: time zone row, columns, and every stored conversion row by row", async () => {
    const csv = await download(microsoft)
    const rows = checkAgainstTemplate(csv, MICROSOFT_COLUMNS, 'microsoft')
    expect(rows.map((r) => [r[0], r[1]])).toEqual([['f894f652ea334e739002f7167ab8f8e3', 'Demo held, EU'], ['f894f652ea334e739002f7167ab8f8e3', 'Closed deal']])
    // A conversion name with a comma is one quoted cell.
    expect(csv).toContain(',"Demo held, EU",')
  })

  it('counts the rows it served as sent, and the rest as pending or not sendable', async () => {
    const status = (await send(`${server.url}/v1/reports/destinations`, { headers: { authorization: `Bearer ${sk}` } })).body as {
      destinations: Array<{ id: string; stages: Array<{ stage: string; sent: number; pending: number; unmatched: number; reasons: Array<{ reason: string; rows: number }> }> }>
    }
    const of = (id: string) => status.destinations.find((d) => d.id === id)!.stages.map((s) => [s.stage, s.sent, s.pending, s.unmatched])
    // Google: the served rows are sent; the deal of 100 days ago matched its click but is past the
    // feed's 90 days, so it stays pending; the won deals of the other five leads have no Google click in the window.
    expect(of(google.record.id).sort()).toEqual([['sql', 1, 0, 0], ['won', 3, 1, 5]].sort())
    expect(of(microsoft.record.id).sort()).toEqual([['opportunity', 1, 0, 0], ['won', 1, 0, 8]].sort())
  })
})
