// The attribution engine throws its own AttributionError; a client still gets the coded error
// (status, CL_ERR_ code and the engine's message) through the real report route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_BLOCK } from '../../src/attribution/models/absorbing.js'
import { secret, startTestServer, visitorId, type TestServer } from './helpers.js'
import { DAY, identify, importEvents, T0, touchEvent } from './outcome-helpers.js'

let server: TestServer

beforeAll(async () => {
  server = await startTestServer()
  // One journey through MAX_BLOCK + 1 campaigns and back to the first: a cycle of MAX_BLOCK + 1
  // Markov states, one more than the exact solve takes.
  const vid = visitorId()
  const n = MAX_BLOCK + 1
  const events = Array.from({ length: n + 1 }, (_, i) => touchEvent(vid, T0 + i * 1000, { source: 'google', medium: 'cpc', campaign: `c${i % n}` }))
  await importEvents(server, events)
  await identify(server, { visitorId: vid, email: 'loop@example.com', ts: T0 + DAY })
  const deal = await secret(server, '/v1/deals', { dealId: 'L1', email: 'loop@example.com', stage: 'won', amount: 100, ts: T0 + 2 * DAY })
  expect(deal.status).toBe(200)
}, 60_000)

afterAll(async () => {
  await server?.close()
})

describe('attribution engine errors over HTTP', () => {
  it('answers a Markov cycle too large to solve with a coded 422 carrying the engine message', async () => {
    const t = Date.now()
    const r = await secret(server, '/v1/reports/attribution?model=markov&by=campaign')
    expect(r.status).toBe(422)
    expect(r.body.error.code).toBe('CL_ERR_REPORT_TOO_COMPLEX')
    // Refused from the size of the cycle, before any solving.
    expect(Date.now() - t).toBeLessThan(5_000)
    expect(r.body.error.message).toBe(`markov: ${MAX_BLOCK + 1} states form one cycle; more than ${MAX_BLOCK} cannot be solved exactly — use a coarser "by"`)
    // The same journeys by channel are one state: the report works.
    expect((await secret(server, '/v1/reports/attribution?model=markov&by=channel')).status).toBe(200)
  })
})
