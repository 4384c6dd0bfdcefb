// A CRM webhook survives the collector being killed between answering it and processing it. A real
// `closeloop serve` takes a signed HubSpot webhook and answers 200; its inbox worker starts reading
// the deal from the HubSpot API stub, which a gate in front of it holds, and the process gets
// SIGKILL. Restarted on the same data directory, the worker settles the stored row: the deal arrives
// once, and HubSpot's redelivery of the same event is recognised. A Pipedrive webhook, the same way.

import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseKeys, runCli, startServe, type ServeProcess } from './cli-process.js'
import { tempDir, waitFor } from '../http/helpers.js'
import { startHubSpotStub, type HubSpotStub } from '../http/stubs/hubspot-stub.js'
import { startPipedriveStub, type PipedriveStub } from '../http/stubs/pipedrive-stub.js'

const dir = tempDir('closeloop-crm-crash-')
const SECRET = 'hubspot-client-secret'
const PUBLIC_URL = 'https://cl.example.com'
const started: ServeProcess[] = []
let stub: HubSpotStub
let pipedrive: PipedriveStub

/** Forwards to the stub, or, while `held`, keeps each request waiting (the worker is mid-read). */
interface Gate { url: string; held: boolean; waiting: number; close(): Promise<void> }

async function startGate(target: string): Promise<Gate> {
  const parked: ServerResponse[] = []
  const gate: Gate = { url: '', held: true, waiting: 0, close: async () => undefined }
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      if (gate.held) { gate.waiting++; parked.push(res); return }
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined
      const r = await fetch(target + (req.url ?? '/'), { method: req.method, headers, body })
      res.writeHead(r.status, Object.fromEntries(r.headers))
      res.end(Buffer.from(await r.arrayBuffer()))
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  gate.url = `http://127.0.0.1:${address.port}`
  gate.close = () => new Promise<void>((resolve) => { for (const r of parked) r.destroy(); server.closeAllConnections(); server.close(() => resolve()) })
  return gate
}


type LeadDeals = { deals: Array<{ dealId: string; stage: string; amount: number; history: unknown[] }> }

/**
 * The worker of `first` has begun reading the deal through the gate: SIGKILL it mid-processing,
 * open the gate, restart on the same data and wait for the lead's deal.
 */
async function killMidProcessingAndRestart(first: ServeProcess, gate: Gate, data: string, sk: string, leadId: string): Promise<{ second: ServeProcess; lead: LeadDeals }> {
  await waitFor(() => gate.waiting > 0)
  first.child.kill('SIGKILL')
  await first.exited
  gate.held = false
  const second = await startServe(['--data', data, '--crm-sync-minutes', '0'])
  started.push(second)
  const lead = await waitFor(async () => {
    const r = await fetch(`${second.url}/v1/leads/${leadId}`, { headers: { authorization: `Bearer ${sk}` } })
    const j = (await r.json()) as LeadDeals
    return j.deals.length > 0 ? j : null
  })
  return { second, lead }
}

beforeAll(async () => {
  stub = await startHubSpotStub()
  pipedrive = await startPipedriveStub()
})
afterAll(async () => {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL')
  await stub?.close()
  await pipedrive?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('CRM inbox and SIGKILL', () => {
  it('a webhook answered before the kill is processed after the restart, once', async () => {
    const added = await runCli(['sites', 'add', '--data', dir, '--name', 'Crash', '--origin', 'https://crash.example'])
    expect(added.code, added.stderr).toBe(0)
    const { sk } = parseKeys(added.stdout)
    const gate = await startGate(stub.url)
    try {
      const crm = await runCli(['crm', 'add', '--data', dir, '--site', 'Crash', '--kind', 'hubspot', '--token', stub.token, '--client-secret', SECRET, '--api-base', gate.url, '--public-url', PUBLIC_URL])
      expect(crm.code, crm.stderr).toBe(0)
      const path = /inbound: (\S+)/.exec(crm.stdout)![1]

      const first = await startServe(['--data', dir, '--crm-sync-minutes', '0'])
      started.push(first)
      const auth = { authorization: `Bearer ${sk}`, 'content-type': 'application/json' }
      const identified = await fetch(`${first.url}/v1/identify`, { method: 'POST', headers: auth, body: JSON.stringify({ email: 'buyer@crash.example' }) })
      expect(identified.status).toBe(200)
      const { leadId } = (await identified.json()) as { leadId: string }
      stub.contacts.set('11', { id: '11', properties: { email: 'buyer@crash.example', cl_visitor_id: null, company: null } })
      stub.setDeal({ id: '8080', contacts: ['11'], properties: { dealname: 'Crash', amount: '4200', dealstage: 'closedwon', pipeline: 'default', closedate: '2026-03-01T00:00:00.000Z', deal_currency_code: null, hs_lastmodifieddate: String(Date.UTC(2026, 2, 1)) } })

      const body = JSON.stringify([{ eventId: 99001, subscriptionId: 1, portalId: 62515, attemptNumber: 0, occurredAt: Date.now(), subscriptionType: 'deal.propertyChange', propertyName: 'dealstage', propertyValue: 'closedwon', objectId: 8080 }])
      const webhook = () => {
        const ts = String(Date.now())
        const signature = createHmac('sha256', SECRET).update(`POST${PUBLIC_URL}${path}${body}${ts}`).digest('base64')
        return { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': ts }, body }
      }
      const answered = await fetch(first.url + path, webhook())
      expect([answered.status, await answered.json()]).toEqual([200, { ok: true, stored: 1, duplicates: 0 }])
      const { second, lead } = await killMidProcessingAndRestart(first, gate, dir, sk, leadId)
      // Nothing reached HubSpot before the kill: the one read below is the restarted worker's.
      expect(lead.deals).toMatchObject([{ dealId: '8080', stage: 'won', amount: 4200 }])
      expect(lead.deals[0].history).toHaveLength(1)
      // HubSpot redelivers an event it saw no 2xx for: here it did get one, but a resend is harmless.
      const again = await fetch(second.url + path, webhook())
      expect(await again.json()).toEqual({ ok: true, stored: 0, duplicates: 1 })
      await new Promise((r) => setTimeout(r, 300))
      expect(stub.calls.filter((c) => c.method === 'GET' && c.path.startsWith('/crm/v3/objects/deals/8080'))).toHaveLength(1)
      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)
    } finally {
      await gate.close()
    }
  })

  it('the same for a Pipedrive webhook (HTTP Basic auth, event ID meta.id)', async () => {
    const data = `${dir}-pipedrive`
    const added = await runCli(['sites', 'add', '--data', data, '--name', 'Crash', '--origin', 'https://crash.example'])
    expect(added.code, added.stderr).toBe(0)
    const { sk } = parseKeys(added.stdout)
    const gate = await startGate(pipedrive.url)
    try {
      const crm = await runCli(['crm', 'add', '--data', data, '--site', 'Crash', '--kind', 'pipedrive', '--api-token', pipedrive.token, '--api-base', gate.url, '--webhook-user', 'hook', '--webhook-password', 'hook-secret'])
      expect(crm.code, crm.stderr).toBe(0)
      const path = /inbound: (\S+)/.exec(crm.stdout)![1]

      const first = await startServe(['--data', data, '--crm-sync-minutes', '0'])
      started.push(first)
      const auth = { authorization: `Bearer ${sk}`, 'content-type': 'application/json' }
      const identified = await fetch(`${first.url}/v1/identify`, { method: 'POST', headers: auth, body: JSON.stringify({ email: 'buyer@crash.example' }) })
      const { leadId } = (await identified.json()) as { leadId: string }
      pipedrive.setPerson({ id: 11, email: 'buyer@crash.example' })
      pipedrive.setDeal({ id: 8080, status: 'won', value: 4200, currency: 'USD', person_id: 11, won_time: '2026-03-01T00:00:00Z', update_time: '2026-03-01T00:00:00Z' })

      const body = { data: { id: 8080, status: 'won' }, previous: { status: 'open' }, meta: { action: 'change', entity: 'deal', entity_id: '8080', id: 'a9d0c4e2-7b1f-4e35-9c68-1f2e3d4c5b6a', timestamp: new Date().toISOString(), version: '2.0', attempt: 1 } }
      const hook = { user: 'hook', password: 'hook-secret' }
      expect(await pipedrive.sendWebhook(first.url + path, body, hook)).toEqual({ status: 200, body: { ok: true, stored: 1, duplicates: 0 } })
      const { second, lead } = await killMidProcessingAndRestart(first, gate, data, sk, leadId)
      expect(lead.deals).toMatchObject([{ dealId: '8080', stage: 'won', amount: 4200 }])
      expect(lead.deals[0].history).toHaveLength(1)
      // Pipedrive resends the same event (attempt 2, same meta.id): recognised, not read again.
      expect((await pipedrive.sendWebhook(second.url + path, { ...body, meta: { ...body.meta, attempt: 2 } }, hook)).body).toEqual({ ok: true, stored: 0, duplicates: 1 })
      await new Promise((r) => setTimeout(r, 300))
      expect(pipedrive.calls.filter((c) => c.path === '/api/v2/deals/8080')).toHaveLength(1)
      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)
    } finally {
      await gate.close()
      rmSync(`${dir}-pipedrive`, { recursive: true, force: true })
    }
  })
})
