// Raw email and phone are stored only encrypted. Search the data files' bytes.

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
