// Pipedrive end to end through a real listening collector (server.ts, so its inbox worker runs) on
// SQLite and on PostgreSQL, against a local Pipedrive API stub: webhook with HTTP Basic auth →
// durable inbox → worker reads deal, stage, person and organization → deal on the lead identified
// with the person's e-mail; redelivery, wrong or missing auth, malformed bodies, 429 with
// Retry-After, a person's change, deletions, and pulls with cursor paging. Then the connector on
// its own: the cl_visitor_id custom field found by name, write-back into custom fields created on
// first use, and Pipedrive's error answers.

import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { Pii } from '../../src/identity/pii.js'
import type { CrmConnection } from '../../src/integrations/crm/adapter.js'
import { inboundPath, loadConnection } from '../../src/integrations/crm/connections.js'
import { syncConnection } from '../../src/integrations/crm/inbox.js'
import { pipedriveAdapter, type PipedriveOptions } from '../../src/integrations/crm/pipedrive.js'
import type { FetchLike } from '../../src/integrations/types.js'
import type { RunningServer } from '../../src/http/server.js'
import type { CrmConnectionRecord, Site, Store } from '../../src/store/types.js'
import { secret, send, type TestServer, waitFor } from './helpers.js'
import { startCrmCollector } from './crm-collector.js'
import { identify } from './outcome-helpers.js'
import { startPipedriveStub, type PipedriveStub } from './stubs/pipedrive-stub.js'

const PG_URL = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const USER = 'closeloop-hook'
const PASSWORD = 'Webhook pa55word: not the API token'
const AUTH = { user: USER, password: PASSWORD }
const env = { fetch: globalThis.fetch as FetchLike, now: Date.now }
const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/pipedrive', name), 'utf8'))
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
const CLOSE = Date.UTC(2026, 2, 15, 10)


/** A webhook body as Pipedrive sends it, with a fresh event ID (meta.id) unless given. */
function webhook(name: string, meta: Record<string, unknown> = {}): Record<string, any> {
  const body = fixture(name)
  return { ...body, meta: { ...body.meta, id: randomBytes(16).toString('hex'), timestamp: new Date().toISOString(), ...meta } }
}

const schemas: string[] = []
async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 })
  await c.connect().catch((err: Error) => { throw new Error(`PostgreSQL is unreachable at ${PG_URL} (set CLOSELOOP_TEST_DATABASE_URL): ${err.message}`) })
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}
afterAll(async () => {
  if (schemas.length > 0) await admin(async (c) => { for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`) })
})

/** The store the collector runs on: a SQLite file in the data folder, or a fresh PostgreSQL schema. */
async function databaseUrl(kind: 'SQLite' | 'PostgreSQL'): Promise<string | undefined> {
  if (kind === 'SQLite') return undefined
  const schema = `cl_test_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`CREATE SCHEMA ${schema}`))
  schemas.push(schema)
  return `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`
}

for (const kind of ['SQLite', 'PostgreSQL'] as const) {
  describe(`Pipedrive through the collector (${kind})`, () => {
    let stub: PipedriveStub
    let dir: string
    let server: RunningServer
    let site: Site
    let sk: string
    let record: CrmConnectionRecord
    let store: Store
    let visitorKey: string

    const testServer = (): TestServer => ({ url: server.url, sk } as TestServer)
    const hook = (body: unknown, auth: typeof AUTH | null = AUTH, id = record.id) => stub.sendWebhook(`${server.url}${inboundPath('pipedrive', id)}`, body, auth ?? undefined)
    const leadDeals = async (leadId: string) => {
      const r = await send(`${server.url}/v1/leads/${leadId}`, { headers: { authorization: `Bearer ${sk}` } })
      return r.body.deals as Array<{ dealId: string; stage: string; amount: number | null; originalAmount: number | null; originalCurrency: string | null; history: Array<{ stage: string; crmStage: string; amount: number | null }> }>
    }
    const someDeals = (leadId: string) => waitFor(async () => { const d = await leadDeals(leadId); return d.length > 0 ? d : null })

    beforeAll(async () => {
      stub = await startPipedriveStub()
      visitorKey = stub.addField('person', 'cl_visitor_id')
      ;({ dir, server, store, site, sk, record } = await startCrmCollector({
        prefix: 'closeloop-pipedrive-', kind: 'pipedrive', databaseUrl: await databaseUrl(kind), currency: 'EUR',
        options: { 'api-token': stub.token, 'api-base': stub.url, 'webhook-user': USER, 'webhook-password': PASSWORD },
      }))
    })

    afterAll(async () => {
      await server?.close()
      await stub?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    afterEach(() => stub.failNext(0, 0))

    it('stores the API token and webhook password encrypted', async () => {
      expect(store.constructor.name).toBe(kind === 'SQLite' ? 'SqliteStore' : 'PostgresStore')
      if (kind === 'PostgreSQL') {
        // In the fresh schema, not anywhere else.
        const r = await admin((c) => c.query<{ schema: string }>("SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'crm_connections'"))
        expect(r.rows.map((x) => x.schema)).toContain(schemas.at(-1))
      }
      expect(JSON.stringify(record.options)).not.toContain(stub.token)
      expect(JSON.stringify(record.options)).not.toContain(PASSWORD)
      expect(record.options).toMatchObject({ 'api-base': stub.url, 'webhook-user': USER })
    })

    it('stores a deal change once: stage, amount, currency and won from the API, a redelivery changes nothing', async () => {
      const leadId = await identify(testServer(), { email: 'ada@acme.example' })
      stub.organizations.set(301, { id: 301, name: 'Acme GmbH' })
      stub.setPerson({ id: 501, name: 'Ada L', org_id: 301, emails: [{ value: 'ada.private@mail.example', primary: false, label: 'home' }, { value: 'Ada@Acme.example', primary: true, label: 'work' }], custom_fields: { [visitorKey]: 'v_ada' } })
      stub.setDeal({ id: 1001, title: 'Acme rollout', stage_id: 4, status: 'won', value: 12000.5, currency: 'EUR', person_id: 501, org_id: 301, won_time: iso(CLOSE), close_time: iso(CLOSE), update_time: iso(CLOSE + 1000) })
      const body = webhook('webhook-v2-deal-change.json')
      const r = await hook(body)
      expect(r).toEqual({ status: 200, body: { ok: true, stored: 1, duplicates: 0 } })

      const deals = await someDeals(leadId)
      // Won from the deal's status; the history keeps the stage it was won in.
      expect(deals).toMatchObject([{ dealId: '1001', stage: 'won', amount: 12000.5, originalAmount: 12000.5 }])
      expect(deals[0].history.map((s) => [s.stage, s.crmStage])).toEqual([['won', 'Negotiations Started']])
      const paths = stub.calls.map((c) => `${c.method} ${c.path}`)
      expect(paths).toEqual(expect.arrayContaining(['GET /api/v2/deals/1001', 'GET /api/v2/stages/4', `GET /api/v2/persons/501?custom_fields=${visitorKey}`, 'GET /api/v2/organizations/301']))
      expect(paths.some((p) => p.startsWith('GET /api/v1/personFields'))).toBe(true)

      const report = await send(`${server.url}/v1/reports/attribution?conversion=won`, { headers: { authorization: `Bearer ${sk}` } })
      expect(report.status).toBe(200)
      expect(JSON.stringify(report.body)).toContain('12000.5')

      // Pipedrive resends the same event (same meta.id): acknowledged, not stored, no API call.
      const calls = stub.calls.length
      expect(await hook(body)).toEqual({ status: 200, body: { ok: true, stored: 0, duplicates: 1 } })
      await new Promise((r) => setTimeout(r, 200))
      expect(stub.calls.length).toBe(calls)
      expect((await leadDeals(leadId))[0].history).toHaveLength(1)
      expect((await store.getCrmConnection(record.id))?.lastEventAt).toBeGreaterThan(0)
    })

    it("links by the person's cl_visitor_id field before the e-mail: the lead the form was sent from", async () => {
      // The form was sent from this browser with a work address; the Pipedrive person holds another one.
      const visitorId = 'Vis1tor_FormSent-0002'
      const fromForm = await identify(testServer(), { email: 'mia@work.example', visitorId })
      const byEmail = await identify(testServer(), { email: 'mia@private.example' })
      stub.setPerson({ id: 505, email: 'mia@private.example', custom_fields: { [visitorKey]: visitorId } })
      stub.setDeal({ id: 1005, stage_id: 2, status: 'won', value: 70, currency: 'EUR', person_id: 505, won_time: iso(CLOSE), update_time: iso(CLOSE) })
      expect((await hook(webhook('webhook-v2-deal-create.json', { entity_id: '1005' }))).status).toBe(200)
      expect(await someDeals(fromForm)).toMatchObject([{ dealId: '1005', stage: 'won', amount: 70 }])
      expect(await leadDeals(byEmail)).toEqual([])
    })

    it('refuses a wrong or missing Basic auth with 401 and keeps nothing', async () => {
      const body = webhook('webhook-v2-deal-create.json')
      // Earlier rows settled first, so the count below changes only by what these requests store.
      await waitFor(async () => (await store.pendingCrmInbox()) === 0)
      const pending = await store.pendingCrmInbox()
      const calls = stub.calls.length
      for (const auth of [{ user: USER, password: 'wrong' }, { user: 'someone', password: PASSWORD }, null]) {
        const r = await hook(body, auth)
        expect(r.status).toBe(401)
        expect((r.body as { error: { code: string } }).error.code).toBe('CL_ERR_BAD_SIGNATURE')
      }
      expect(await store.pendingCrmInbox()).toBe(pending)
      expect(stub.calls.length).toBe(calls)
      // Never stored: the same event, with the right pair now, is new.
      stub.setPerson({ id: 502, email: 'grace@navy.example' })
      stub.setDeal({ id: 1002, stage_id: 1, value: 800, currency: 'EUR', person_id: 502, update_time: iso(CLOSE) })
      expect((await hook(body)).body).toMatchObject({ stored: 1 })
    })

    it('answers 404 for an unknown connection and 400 with the reason for a malformed body, storing nothing', async () => {
      const bogus = await hook(webhook('webhook-v2-deal-create.json'), AUTH, 'crm_doesnotexist')
      expect([bogus.status, (bogus.body as any).error.code]).toEqual([404, 'CL_ERR_CRM_CONNECTION_NOT_FOUND'])
      await waitFor(async () => (await store.pendingCrmInbox()) === 0)
      const pending = await store.pendingCrmInbox()
      const noMeta = await hook({ data: {}, previous: null })
      expect(noMeta.status).toBe(400)
      expect((noMeta.body as any).error).toMatchObject({ code: 'CL_ERR_VALIDATION', message: expect.stringMatching(/meta is required/) })
      const badId = await hook(webhook('webhook-v2-deal-change.json', { entity_id: 'x1' }))
      expect((badId.body as any).error).toMatchObject({ code: 'CL_ERR_VALIDATION', message: expect.stringMatching(/entity_id/) })
      const notJson = await hook('{"meta":')
      expect([notJson.status, (notJson.body as any).error.message]).toEqual([400, 'Pipedrive webhook body is not JSON'])
      expect(await store.pendingCrmInbox()).toBe(pending)
    })

    it('retries a deal read that got 429, not before Retry-After, and records the error', async () => {
      const leadId = await identify(testServer(), { email: 'hopper@navy.example' })
      stub.setPerson({ id: 504, email: 'hopper@navy.example' })
      // In USD on a EUR site: converted with the site's rate, the original kept.
      stub.setDeal({ id: 1004, stage_id: 3, value: 640, currency: 'usd', person_id: 504, update_time: iso(CLOSE) })
      expect((await secret(testServer(), '/v1/rates', { rates: [{ currency: 'USD', rate: 1.25 }] })).status).toBe(200)
      await store.updateSite(site.id, { settings: { ...site.settings, stageMapping: { 'proposal made': 'sql' } } })
      const errorsBefore = (await store.getCrmConnection(record.id))!.errors
      stub.failNext(1, 1)
      const t0 = Date.now()
      expect((await hook(webhook('webhook-v2-deal-create.json', { entity_id: '1004' }))).status).toBe(200)
      const deals = await someDeals(leadId)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
      // An open deal's stage name goes through the site's mapping (over the built-in name).
      expect(deals).toMatchObject([{ dealId: '1004', stage: 'sql', amount: 800, originalAmount: 640, originalCurrency: 'USD' }])
      const c = await store.getCrmConnection(record.id)
      expect(c!.errors).toBe(errorsBefore + 1)
      expect(c!.lastError).toMatch(/Pipedrive answered 429 to GET \/api\/v2\/deals\/1004: Request over limit/)
      const metrics = await send(`${server.url}/metrics`)
      expect(metrics.text).toMatch(/closeloop_crm_errors_total\{kind="pipedrive",retried="true"\} [1-9]/)
      expect(metrics.text).toMatch(/closeloop_crm_deals_total\{kind="pipedrive"\} [1-9]/)
    })

    it("reads again the deals of a person whose e-mail changed, and keeps a deal deleted in Pipedrive", async () => {
      const leadId = await identify(testServer(), { email: 'linus@kernel.example' })
      stub.setPerson({ id: 503, email: 'old@kernel.example' })
      stub.setDeal({ id: 1003, stage_id: 2, status: 'lost', value: 50, currency: 'EUR', person_id: 503, lost_time: iso(CLOSE), close_time: iso(CLOSE) })
      stub.setPerson({ id: 503, email: 'linus@kernel.example' })
      expect((await hook(webhook('webhook-v2-person-change.json'))).status).toBe(200)
      const deals = await someDeals(leadId)
      expect(deals).toMatchObject([{ dealId: '1003', stage: 'lost', amount: 50 }])
      expect(stub.calls.some((c) => c.path === '/api/v2/deals?person_id=503&limit=500')).toBe(true)

      stub.deals.get(1003)!.status = 'deleted'
      const calls = stub.calls.length
      expect((await hook(webhook('webhook-v2-deal-delete.json'))).body).toMatchObject({ stored: 1 })
      await waitFor(async () => (await store.pendingCrmInbox()) === 0)
      expect(stub.calls.length).toBe(calls)
      expect(await leadDeals(leadId)).toMatchObject([{ dealId: '1003', stage: 'lost' }])
    })

    it('pulls deals updated since the cursor, page by page, and resumes from the stored cursor', async () => {
      const ctx = (() => { const keys = loadInstallKeys({ dataDir: dir, env: {} }); return { store, pii: new Pii(keys), integrationKey: keys.integrationKey, env } })()
      const leadId = await identify(testServer(), { email: 'pull@many.example' })
      stub.setPerson({ id: 550, email: 'pull@many.example' })
      const base = Date.UTC(2026, 3, 1)
      for (let i = 0; i < 130; i++) stub.setDeal({ id: 2000 + i, stage_id: 1, value: i, currency: 'EUR', person_id: 550, update_time: iso(base + i * 1000) })
      await store.updateCrmStatus(record.id, { cursor: String(base - 1) })
      const first = await syncConnection(ctx, (await store.getCrmConnection(record.id))!)
      expect(first.errors).toEqual([])
      expect(first.deals).toBe(130)
      const lists = stub.calls.filter((c) => c.path.startsWith('/api/v2/deals?'))
      const q = lists.slice(-2).map((c) => new URL(c.path, 'http://x').searchParams)
      expect(Object.fromEntries(q[0])).toEqual({ sort_by: 'update_time', sort_direction: 'asc', limit: '100', updated_since: '2026-03-31T23:59:59Z' })
      expect(q[1].get('cursor')).toBeTruthy()
      expect(q[1].get('updated_since')).toBe('2026-03-31T23:59:59Z')
      const after = await store.getCrmConnection(record.id)
      expect(after!.cursor).toBe(String(base + 129_000))
      expect(after!.lastSyncAt).toBeGreaterThan(0)
      expect((await leadDeals(leadId)).length).toBe(130)

      // Next pull: only what changed since (the cursor's second is inclusive: the newest again).
      Object.assign(stub.deals.get(2005)!, { status: 'won', won_time: iso(base + 200_000), update_time: iso(base + 200_000) })
      const second = await syncConnection(ctx, after!)
      expect(second.deals).toBe(2)
      expect((await leadDeals(leadId)).find((d) => d.dealId === '2005')?.stage).toBe('won')
      expect((await store.getCrmConnection(record.id))!.cursor).toBe(String(base + 200_000))
    })

    it('waits for Retry-After on a 429 during a pull', async () => {
      const keys = loadInstallKeys({ dataDir: dir, env: {} })
      const ctx = { store, pii: new Pii(keys), integrationKey: keys.integrationKey, env }
      stub.failNext(1, 1)
      const t0 = Date.now()
      const r = await syncConnection(ctx, (await store.getCrmConnection(record.id))!, { random: () => 0 })
      expect(r.errors).toEqual([])
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
    })
  })
}

describe('Pipedrive connector', () => {
  let stub: PipedriveStub
  let n = 0
  /** A connection of its own (field keys are cached per connection). */
  const connect = (over: Partial<PipedriveOptions> = {}): CrmConnection<PipedriveOptions> => ({
    id: `crm_unit_${++n}`, siteId: 's', kind: 'pipedrive', writeBack: true,
    options: { ...pipedriveAdapter.parseOptions({ 'api-token': stub.token, 'api-base': stub.url, 'webhook-user': 'u', 'webhook-password': 'p' }), ...over },
  })
  beforeAll(async () => { stub = await startPipedriveStub() })
  afterAll(async () => { await stub?.close() })
  afterEach(() => stub.failNext(0, 0))

  it('finds cl_visitor_id by its name among the person fields (read once), and reads every participant', async () => {
    const key = stub.addField('person', 'cl_visitor_id')
    expect(key).toMatch(/^[0-9a-f]{40}$/)
    stub.organizations.set(7, { id: 7, name: 'Initech' })
    stub.setPerson({ id: 10, email: 'peter@initech.example', custom_fields: { [key]: 'v_peter' } })
    stub.setPerson({ id: 11, email: 'bill@initech.example', org_id: 7, custom_fields: { [key]: { type: 'varchar', value: 'v_bill' } } })
    stub.setPerson({ id: 12, emails: [], custom_fields: {} })
    stub.setDeal({ id: 70, stage_id: 2, value: 99, currency: 'usd', person_id: 10, org_id: 7, participants: [11, 12], expected_close_date: '2026-05-01', update_time: '2026-04-02T10:00:00Z' })
    const c = connect()
    const deal = await pipedriveAdapter.readDeal(c, '70', env)
    expect(deal).toEqual({
      id: '70', stage: { id: '2', label: 'Contact Made', closed: null }, amount: 99, currency: 'USD',
      closeDate: Date.UTC(2026, 4, 1), modifiedAt: Date.UTC(2026, 3, 2, 10),
      contacts: [
        { id: '10', email: 'peter@initech.example', visitorId: 'v_peter', company: 'Initech' },
        { id: '11', email: 'bill@initech.example', visitorId: 'v_bill', company: 'Initech' },
        { id: '12', email: null, visitorId: null, company: 'Initech' },
      ],
    })
    expect(stub.calls.filter((x) => x.path.startsWith('/api/v1/deals/70/participants'))).toHaveLength(1)
    const fieldReads = stub.calls.filter((x) => x.path.startsWith('/api/v1/personFields')).length
    await pipedriveAdapter.readDeal(c, '70', env)
    expect(stub.calls.filter((x) => x.path.startsWith('/api/v1/personFields')).length).toBe(fieldReads)
    expect(await pipedriveAdapter.readDeal(c, '999', env)).toBeNull()
  })

  it('writes back into custom fields created once, PATCHed through their keys; a resend sets the same values', async () => {
    stub.setPerson({ id: 20, email: 'cto@r.example' })
    stub.setDeal({ id: 80, person_id: 20 })
    const c = connect()
    const fields = { closeloop_lead_id: 'L1', closeloop_first_source: 'google', closeloop_first_medium: 'cpc', closeloop_first_campaign: null, closeloop_first_channel: 'Paid Search', closeloop_last_source: 'linkedin', closeloop_last_medium: 'paid_social', closeloop_last_campaign: 'abm-q2', closeloop_last_channel: 'Paid Social' }
    const before = stub.calls.length
    expect(await pipedriveAdapter.writeBack(c, { object: 'contact', contactId: null, email: 'cto@r.example', fields }, env)).toEqual({ status: 'sent' })
    expect(await pipedriveAdapter.writeBack(c, { object: 'deal', dealId: '80', fields: { closeloop_channel: 'Paid Search', closeloop_campaign: null } }, env)).toEqual({ status: 'sent' })
    const made = stub.calls.slice(before).filter((x) => x.method === 'POST')
    expect(made.filter((x) => x.path === '/api/v1/personFields').map((x) => x.body)).toEqual(Object.keys(fields).map((name) => ({ name, field_type: 'varchar' })))
    expect(made.filter((x) => x.path === '/api/v1/dealFields').map((x) => (x.body as { name: string }).name)).toEqual(['closeloop_channel', 'closeloop_campaign'])
    expect(stub.calls.slice(before).some((x) => x.path === '/api/v2/persons/search?term=cto%40r.example&fields=email&exact_match=true&limit=1')).toBe(true)

    const key = (name: string) => stub.keyOf('person', name)!
    const patch = stub.calls.slice(before).find((x) => x.method === 'PATCH' && x.path === '/api/v2/persons/20')
    expect(patch?.body).toEqual({ custom_fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [key(k), v])) })
    expect(stub.persons.get(20)!.custom_fields[key('closeloop_lead_id')]).toBe('L1')
    expect(stub.deals.get(80)!.custom_fields).toEqual({ [stub.keyOf('deal', 'closeloop_channel')!]: 'Paid Search', [stub.keyOf('deal', 'closeloop_campaign')!]: null })

    // Again (a resend from the outbox, or another connection on the same account): no new field.
    const again = stub.calls.length
    expect(await pipedriveAdapter.writeBack(c, { object: 'contact', contactId: '20', email: null, fields }, env)).toEqual({ status: 'sent' })
    expect(await pipedriveAdapter.writeBack(connect(), { object: 'contact', contactId: '20', email: null, fields }, env)).toEqual({ status: 'sent' })
    const later = stub.calls.slice(again)
    expect(later.filter((x) => x.method === 'POST')).toEqual([])
    expect(later.filter((x) => x.method === 'PATCH').map((x) => x.body)).toEqual([patch!.body, patch!.body])
    expect(stub.personFields.filter((f) => f.name === 'closeloop_lead_id')).toHaveLength(1)
  })

  it('retries a 429 with its Retry-After, fails a missing record or e-mail and a refused token with the reason', async () => {
    const c = connect()
    stub.setDeal({ id: 81 })
    const dealFields = { closeloop_channel: 'x', closeloop_campaign: null }
    expect(await pipedriveAdapter.writeBack(c, { object: 'deal', dealId: '81', fields: dealFields }, env)).toEqual({ status: 'sent' })
    stub.failNext(1, 7)
    expect(await pipedriveAdapter.writeBack(c, { object: 'deal', dealId: '81', fields: dealFields }, env)).toMatchObject({ status: 'retry', retryAfterMs: 7000, reason: expect.stringMatching(/429/) })
    expect(await pipedriveAdapter.writeBack(c, { object: 'deal', dealId: '999', fields: dealFields }, env)).toEqual({ status: 'failed', reason: expect.stringMatching(/404 to PATCH \/api\/v2\/deals\/999: Deal not found/) })
    const fields = { closeloop_lead_id: 'L9', closeloop_first_source: null, closeloop_first_medium: null, closeloop_first_campaign: null, closeloop_first_channel: null, closeloop_last_source: null, closeloop_last_medium: null, closeloop_last_campaign: null, closeloop_last_channel: null }
    expect(await pipedriveAdapter.writeBack(c, { object: 'contact', contactId: null, email: 'nobody@x.example', fields }, env)).toEqual({ status: 'failed', reason: 'No Pipedrive person has the e-mail nobody@x.example' })
    const wrong = connect({ apiToken: 'not-the-token' })
    const r = await pipedriveAdapter.writeBack(wrong, { object: 'deal', dealId: '81', fields: dealFields }, env)
    expect(r).toEqual({ status: 'failed', reason: expect.stringMatching(/^Pipedrive answered 401 to GET \/api\/v1\/dealFields: unauthorized access — Please check developers\.pipedrive\.com/) })
    expect(JSON.stringify(r)).not.toContain('not-the-token')
    // Reads: a 5xx is passing (retry), a 401 final.
    stub.failNext(1, 0, 503)
    await expect(pipedriveAdapter.readDeal(c, '81', env)).rejects.toMatchObject({ name: 'CrmCallError', retry: true })
    await expect(pipedriveAdapter.readDeal(wrong, '81', env)).rejects.toMatchObject({ name: 'CrmCallError', retry: false, message: expect.stringMatching(/401/) })
  })

  it('goes by x-ratelimit-reset when a 429 has no Retry-After', async () => {
    const fetch: FetchLike = async () => new Response(JSON.stringify({ success: false, error: 'Too many requests' }), { status: 429, headers: { 'x-ratelimit-reset': '3', 'content-type': 'application/json' } })
    await expect(pipedriveAdapter.fetch(connect(), null, { fetch, now: Date.now })).rejects.toMatchObject({ retry: true, retryAfterMs: 3000, message: 'Pipedrive answered 429 to GET /api/v2/deals: Too many requests' })
  })
})
