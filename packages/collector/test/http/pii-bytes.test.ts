// Raw email and phone are stored only encrypted, their match keys only keyed. Search the data files' bytes.

import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, pageEvent, secret, startTestServer, visitorId, type TestServer } from './helpers.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.close()
})

const NEEDLES = ['hedy.lamarr@example.org', 'Hedy.Lamarr@Example.org', 'grace.h@example.net', '4155550199', '415-555-0199', '2079460111']

function dataBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).filter((f) => f.includes('.sqlite')).map((f) => readFileSync(join(dir, f))))
}

function leaks(bytes: Buffer): string[] {
  return NEEDLES.filter((n) => bytes.includes(Buffer.from(n, 'utf8')) || bytes.includes(Buffer.from(n, 'utf16le')) || bytes.includes(Buffer.from(n.toLowerCase(), 'utf8')))
}

describe('personal identifiers at rest', () => {
  it('never writes raw email or phone to the database or its WAL', async () => {
    const vid = visitorId()
    const id = await secret(server, '/v1/identify', { visitorId: vid, email: ' Hedy.Lamarr@Example.org', phone: '+1 (415) 555-0199', traits: { email: 'hedy.lamarr@example.org', company: 'MGM' } })
    expect(id.status).toBe(200)
    const res = await collect(server, [
      pageEvent(vid, { type: 'identify', traits: { email: 'grace.h@example.net', phone: '+44 20 7946 0111' } }),
      // Rejected (bad phone): its excerpt is recorded, without the identifiers.
      pageEvent(vid, { type: 'identify', traits: { email: 'grace.h@example.net', phone: '4155550199' + '9'.repeat(15) } }),
    ])
    expect(res.body.accepted).toBe(1)
    expect(res.body.rejected).toHaveLength(1)
    // The identifiers round-trip for the site owner (so they really were stored, encrypted).
    const lead = await secret(server, `/v1/leads/${id.body.leadId}`)
    expect(lead.body.lead.email).toBe('hedy.lamarr@example.org')
    expect(lead.body.lead.phone).toBe('+14155550199')

    expect(leaks(dataBytes(server.dir))).toEqual([])
    await server.app.close() // checkpoint the WAL into the main file, then look again
    expect(leaks(dataBytes(server.dir))).toEqual([])
    expect(dataBytes(server.dir).length).toBeGreaterThan(4096)
  })
})

describe('match keys at rest', () => {
  it('are keyed: the plain SHA-256 of the phone or e-mail is nowhere in the database or its WAL', async () => {
    const own = await startTestServer()
    try {
      const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')
      const id = await secret(own, '/v1/identify', { visitorId: visitorId(), email: 'Ada@Example.org', phone: '+1 (415) 555-0142' })
      expect(id.status).toBe(200)
      expect((await secret(own, '/v1/deals', { dealId: 'keyed-1', email: 'later@example.org', stage: 'won', amount: 5 })).status).toBe(200)
      const { pii } = own.app.closeloop
      const plain = [sha256('ada@example.org'), sha256('+14155550142'), sha256('later@example.org')]
      const keyed = [pii.matchHash('ada@example.org'), pii.matchHash('+14155550142'), pii.matchHash('later@example.org')]
      const hex = (bytes: Buffer, needles: string[]) => needles.filter((n) => bytes.includes(Buffer.from(n, 'utf8')))
      // The keyed keys are what is stored (so the search sees the rows), the plain ones never.
      expect(hex(dataBytes(own.dir), keyed)).toEqual(keyed)
      expect(hex(dataBytes(own.dir), plain)).toEqual([])
      await own.app.close()
      expect(hex(dataBytes(own.dir), keyed)).toEqual(keyed)
      expect(hex(dataBytes(own.dir), plain)).toEqual([])
    } finally {
      await own.close()
    }
  })
})
