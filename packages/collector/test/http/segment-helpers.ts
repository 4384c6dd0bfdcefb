// What the Segment tests read back: a client's events by anonymousId, a lead by e-mail, and the
// campaign touch in the lead's journey and in the attribution report.

import { expect } from 'vitest'
import { segmentVisitorId } from '../../src/ingest/segment.js'
import { secret, type TestServer } from './helpers.js'

export async function eventsOf(server: TestServer, anonymousId: string) {
  return (await server.store.exportPerson(server.site.id, { visitorId: segmentVisitorId(anonymousId) })).events as Array<Record<string, any>>
}

/** The lead of an e-mail, waited for up to 5 s: a message's event is stored before its lead is
 * linked (ingest/batch.ts), so a client that does not wait for its answers can be read between. */
export async function leadByEmail(server: TestServer, email: string) {
  const find = () => secret(server, `/v1/leads?email=${encodeURIComponent(email)}`)
  let found = await find()
  for (let i = 0; i < 50 && found.status === 200 && found.body.leads.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 100))
    found = await find()
  }
  expect(found.status).toBe(200)
  expect(found.body.leads).toHaveLength(1)
  const id = found.body.leads[0].id
  const lead = await secret(server, `/v1/leads/${id}`)
  expect(lead.status).toBe(200)
  return lead.body
}

export const LANDING = 'https://shop.example/landing?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q4-launch'

/** The lead's journey and the attribution report both show the campaign touch as Paid Social. */
export async function expectAttributed(server: TestServer, email: string, anonymousId: string, landing = LANDING) {
  const lead = await leadByEmail(server, email)
  const touches = lead.touches as Array<Record<string, unknown>>
  expect(touches).toHaveLength(1)
  expect(touches[0]).toMatchObject({ source: 'linkedin', medium: 'paid_social', campaign: 'q4-launch', channel: 'Paid Social', landing })
  const events = await eventsOf(server, anonymousId)
  expect([...new Set(events.map((e) => e.type))].sort()).toEqual(['identify', 'page', 'track'])
  const leadId = lead.lead.id
  expect((await secret(server, '/v1/deals', { dealId: `deal-${anonymousId}`, leadId, stage: 'won', amount: 5000 })).status).toBe(200)
  const report = await secret(server, '/v1/reports/attribution?model=first_touch&by=channel&conversion=won')
  expect(report.status).toBe(200)
  const row = report.body.rows.find((r: { key: string }) => r.key === 'Paid Social')
  expect(row?.revenue).toBe(5000)
}

