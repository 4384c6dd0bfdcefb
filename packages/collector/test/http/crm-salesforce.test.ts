// Salesforce end to end through a real listening collector (server.ts, so its inbox worker runs),
// on SQLite and on PostgreSQL, against a local stub of Salesforce's OAuth and REST APIs: outbound
// messages (the documented SOAP shape) → SOAP Ack after the inbox commit → deals on the leads;
// redelivery, wrong path token or org, malformed XML, reads of contact roles when the message has
// no e-mail, token refresh on INVALID_SESSION_ID, 429/REQUEST_LIMIT_EXCEEDED retries, pulls with
// nextRecordsUrl paging and a stored cursor, and write-back requests as the stub received them.

import pg from 'pg'
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { Pii } from '../../src/identity/pii.js'
import type { CrmConnection } from '../../src/integrations/crm/adapter.js'
import { inboundPathOf, loadConnection } from '../../src/integrations/crm/connections.js'
import { syncConnection } from '../../src/integrations/crm/inbox.js'
import { salesforceAdapter, type SalesforceOptions } from '../../src/integrations/crm/salesforce.js'
import type { FetchLike } from '../../src/integrations/types.js'
import { parseXml } from '../../src/integrations/xml.js'
import type { RunningServer } from '../../src/http/server.js'
import type { CrmConnectionRecord, Site, Store } from '../../src/store/types.js'
import { send, startTestServer, type TestServer, waitFor } from './helpers.js'
import { startCrmCollector } from './crm-collector.js'
import { identify } from './outcome-helpers.js'
import { startSalesforceStub, type SalesforceStub } from './stubs/salesforce-stub.js'

const FIXTURE = readFileSync(join(import.meta.dirname, '../fixtures/salesforce/outbound-opportunity.xml'), 'utf8')
const ORG_18 = '00Dxx0000001gEREAY'
const PG_URL = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schemas: string[] = []

async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 })
  await c.connect()
  try { await c.query(sql) } finally { await c.end() }
}

afterAll(async () => {
  for (const s of schemas) await pgAdmin(`DROP SCHEMA IF EXISTS ${s} CASCADE`)
})


/** A one-notification outbound message in the fixture's shape, with these sObject fields. */
function message(notificationId: string, fields: Record<string, string | null>, org = ORG_18): string {
  const head = FIXTURE.slice(0, FIXTURE.indexOf('<Notification>')).replace(ORG_18, org)
  const tail = FIXTURE.slice(FIXTURE.lastIndexOf('</Notification>') + '</Notification>'.length)
  const body = Object.entries(fields).map(([k, v]) => (v === null ? `<sf:${k} xsi:nil="true"/>` : `<sf:${k}>${v}</sf:${k}>`)).join('\n     ')
  return `${head}<Notification>
    <Id>${notificationId}</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     ${body}
    </sObject>
   </Notification>${tail}`
}

const BACKENDS = [
  { name: 'SQLite', databaseUrl: async (): Promise<string | null> => null },
  {
    name: 'PostgreSQL',
    databaseUrl: async (): Promise<string | null> => {
      const schema = `cl_test_${randomBytes(6).toString('hex')}`
      await pgAdmin(`CREATE SCHEMA ${schema}`)
      schemas.push(schema)
      return `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`
    },
  },
]

describe.each(BACKENDS)('Salesforce on $name', (backend) => {
  let stub: SalesforceStub
  let dir: string
  let server: RunningServer
  let site: Site
  let sk: string
  let record: CrmConnectionRecord
  let store: Store
  let inbound: string

  const testServer = (): TestServer => ({ url: server.url, sk } as TestServer)
  const post = (path: string, body: string) => send(`${server.url}${path}`, { raw: body, headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""', 'user-agent': 'Jakarta Commons-HttpClient/3.1' } })
  const leadDeals = async (leadId: string) => {
    const r = await send(`${server.url}/v1/leads/${leadId}`, { headers: { authorization: `Bearer ${sk}` } })
    return r.body.deals as Array<{ dealId: string; stage: string; amount: number | null; currency?: string | null; history: Array<{ stage: string; crmStage: string }> }>
  }
  const storedCount = async (): Promise<number> =>
    Number(/closeloop_crm_events_total\{kind="salesforce",outcome="stored"\} (\d+)/.exec((await send(`${server.url}/metrics`)).text)?.[1] ?? 0)
  const ctx = () => {
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    return { store, pii: new Pii(keys), integrationKey: keys.integrationKey, env: { fetch: globalThis.fetch as FetchLike, now: Date.now } }
  }
  const connection = (): CrmConnection<SalesforceOptions> =>
    loadConnection(record, loadInstallKeys({ dataDir: dir, env: {} }).integrationKey).connection as CrmConnection<SalesforceOptions>

  beforeAll(async () => {
    stub = await startSalesforceStub()
    stub.customFields.Contact = new Set(['Closeloop_Lead_Id__c', 'Closeloop_First_Source__c', 'Closeloop_First_Medium__c', 'Closeloop_First_Campaign__c', 'Closeloop_First_Channel__c', 'Closeloop_Last_Source__c', 'Closeloop_Last_Medium__c', 'Closeloop_Last_Campaign__c', 'Closeloop_Last_Channel__c'])
    stub.customFields.Opportunity = new Set(['Closeloop_Channel__c', 'Closeloop_Campaign__c'])
    const started = await startCrmCollector({
      prefix: 'closeloop-crm-sf-', kind: 'salesforce', databaseUrl: await backend.databaseUrl(),
      // The 15-character form of the org ID: messages carry the 18-character one.
      options: { 'instance-url': stub.url, 'client-id': stub.clientId, 'client-secret': stub.clientSecret, 'org-id': ORG_18.slice(0, 15), 'email-field': 'Contact_Email__c' },
    })
    ;({ dir, server, store, site, sk, record } = started)
    inbound = inboundPathOf(record, started.integrationKey)
  })

  afterAll(async () => {
    await server?.close()
    await stub?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('keeps the secrets encrypted; the inbound path ends in the generated token', () => {
    const token = /^\/v1\/crm\/salesforce\/(crm_[\w-]+)\/([\w-]{32})$/.exec(inbound)
    expect(token?.[1]).toBe(record.id)
    const stored = JSON.stringify(record.options)
    expect(stored).not.toContain(token![2])
    expect(stored).not.toContain(stub.clientSecret)
    expect(record.options['instance-url']).toBe(stub.url)
  })

  it('answers the SOAP Ack after the inbox commit; the deals of the message are written once, also when it comes again', async () => {
    const ada = await identify(testServer(), { email: 'ada@acme.example' })
    const grace = await identify(testServer(), { email: 'grace@navy.example' })
    const r = await post(inbound, FIXTURE)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toMatch(/^text\/xml/)
    const ack = parseXml(r.text)
    expect([ack.name, ack.ns]).toEqual(['Envelope', 'http://schemas.xmlsoap.org/soap/envelope/'])
    const response = ack.children[0].children[0]
    expect([response.name, response.ns]).toEqual(['notificationsResponse', 'http://soap.sforce.com/2005/09/outbound'])
    expect(response.children.map((c) => [c.name, c.ns, c.text])).toEqual([['Ack', 'http://soap.sforce.com/2005/09/outbound', 'true']])

    const won = await waitFor(async () => { const d = await leadDeals(ada); return d.length > 0 ? d : null })
    // IsWon decides, whatever the stage is called.
    expect(won).toMatchObject([{ dealId: '006xx000001Sv6tAAC', stage: 'won', amount: 12000.5 }])
    expect(won[0].history.map((s) => [s.stage, s.crmStage])).toEqual([['won', 'Signed & Countersigned']])
    const open = await waitFor(async () => { const d = await leadDeals(grace); return d.length > 0 ? d : null })
    expect(open).toMatchObject([{ dealId: '006xx000001Sv6uAAC', stage: 'opportunity', amount: null }])
    // The message carried the records: no API call at all.
    expect(stub.calls).toEqual([])
    // The won opportunity counts in the report.
    const report = await send(`${server.url}/v1/reports/attribution?conversion=won`, { headers: { authorization: `Bearer ${sk}` } })
    expect(report.status).toBe(200)
    expect(JSON.stringify(report.body)).toContain('12000.5')

    const again = await post(inbound, FIXTURE)
    expect(again.status).toBe(200)
    expect(again.text).toContain('<Ack>true</Ack>')
    await new Promise((res) => setTimeout(res, 200))
    expect((await leadDeals(ada))[0].history).toHaveLength(1)
    const metrics = await send(`${server.url}/metrics`)
    expect(metrics.text).toMatch(/closeloop_crm_events_total\{kind="salesforce",outcome="stored"\} 2\n/)
    expect(metrics.text).toMatch(/closeloop_crm_events_total\{kind="salesforce",outcome="duplicate"\} 2\n/)
    expect((await store.getCrmConnection(record.id))?.lastEventAt).toBeGreaterThan(0)
  })

  it("links by the contact's cl_visitor_id__c before its e-mail: the lead the form was sent from", async () => {
    const visitorId = 'Vis1tor_SfForm-000001'
    const fromForm = await identify(testServer(), { email: 'mia@work.example', visitorId })
    const byEmail = await identify(testServer(), { email: 'mia@private.example' })
    stub.opportunities.set('006xx000003MIAAAA1', { Id: '006xx000003MIAAAA1', StageName: 'Closed Won', Amount: 70, CloseDate: '2026-03-20', IsWon: true, IsClosed: true, SystemModstamp: '2026-03-20T09:00:00.000+0000' })
    stub.contacts.set('003xx000003MIAAAA1', { Id: '003xx000003MIAAAA1', Email: 'mia@private.example', AccountName: null, cl_visitor_id__c: visitorId })
    stub.roles.push({ OpportunityId: '006xx000003MIAAAA1', ContactId: '003xx000003MIAAAA1', IsPrimary: true })
    // No e-mail field in this message: the contact roles are read over REST.
    expect((await post(inbound, message('04lxx0000000050AAA', { Id: '006xx000003MIAAAA1', StageName: 'Closed Won', IsWon: 'true', IsClosed: 'true' }))).status).toBe(200)
    const deals = await waitFor(async () => { const d = await leadDeals(fromForm); return d.length > 0 ? d : null })
    expect(deals).toMatchObject([{ dealId: '006xx000003MIAAAA1', stage: 'won', amount: 70 }])
    expect(await leadDeals(byEmail)).toEqual([])
  })

  it('refuses a wrong or missing path token and a wrong org with 401, keeping nothing', async () => {
    const body = message('04lxx0000000100AAA', { Id: '006xx000001Sv7aAAC', StageName: 'Closed Won', IsWon: 'true', IsClosed: 'true', Contact_Email__c: 'nobody@x.example' })
    const stored0 = await storedCount()
    const otherOrg = message('04lxx0000000100AAA', { Id: '006xx000001Sv7aAAC', StageName: 'Closed Won' }, '00Dxx0000009zZZEAY')
    const cases: Array<[string, string]> = [
      [inbound.replace(/[\w-]{32}$/, 'x'.repeat(32)), body],
      [inbound.replace(/\/[\w-]{32}$/, ''), body],
      [inbound, otherOrg],
    ]
    for (const [path, b] of cases) {
      const r = await post(path, b)
      expect([r.status, r.body.error.code]).toEqual([401, 'CL_ERR_BAD_SIGNATURE'])
    }
    expect(await storedCount()).toBe(stored0)
    // Never stored: the same notification ID is new on the right URL.
    const ok = await post(inbound, body)
    expect(ok.status).toBe(200)
    expect(await storedCount()).toBe(stored0 + 1)
  })

  it('answers 400 with the reason for malformed XML, a DOCTYPE, and a message of another object', async () => {
    const truncated = await post(inbound, FIXTURE.slice(0, FIXTURE.indexOf('<Notification>')))
    expect([truncated.status, truncated.body.error.code]).toEqual([400, 'CL_ERR_VALIDATION'])
    expect(truncated.body.error.message).toMatch(/not well-formed XML: <notifications> is not closed at line \d+/)
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>${FIXTURE.replace(/^<\?xml[^>]*>/, '').replace('Signed &amp;', '&lol2;')}`
    const dtd = await post(inbound, laughs)
    expect([dtd.status, dtd.body.error.message]).toEqual([400, expect.stringMatching(/DOCTYPE is not allowed/)])
    const contact = await post(inbound, FIXTURE.replace(/sf:Opportunity/g, 'sf:Contact'))
    expect([contact.status, contact.body.error.message]).toEqual([400, expect.stringMatching(/sObject is "sf:Contact"; send outbound messages of Opportunity/)])
  })

  it('reads the contact roles over REST when the message has no e-mail, with a fresh token after INVALID_SESSION_ID and a 429 waited out', async () => {
    const lead = await identify(testServer(), { email: 'linus@kernel.example' })
    stub.opportunities.set('006xx000002AAAAAA2', { Id: '006xx000002AAAAAA2', StageName: 'Negotiation/Review', Amount: 800, CloseDate: '2026-05-01', IsWon: false, IsClosed: false, CurrencyIsoCode: 'USD', SystemModstamp: '2026-03-16T09:00:00.000+0000' })
    stub.contacts.set('003xx000004TmiQAAS', { Id: '003xx000004TmiQAAS', Email: 'Linus@Kernel.example', AccountName: 'Kernel Org', cl_visitor_id__c: 'v_kernel_1' })
    stub.roles.push({ OpportunityId: '006xx000002AAAAAA2', ContactId: '003xx000004TmiQAAS', IsPrimary: true })
    // A token is cached, then the session expires: the next call meets INVALID_SESSION_ID.
    expect((await salesforceAdapter.readDeal(connection(), '006xx000002AAAAAA2', { fetch: globalThis.fetch as FetchLike, now: Date.now }))?.contacts).toHaveLength(1)
    const issued = stub.tokensIssued
    stub.expireTokens()
    stub.failNext(1, 1, 429)
    const mark = stub.calls.length
    const errorsBefore = (await store.getCrmConnection(record.id))!.errors
    const t0 = Date.now()
    const r = await post(inbound, message('04lxx0000000200AAA', { Id: '006xx000002AAAAAA2', StageName: 'Negotiation/Review', IsWon: 'false', IsClosed: 'false' }))
    expect(r.status).toBe(200)
    const deals = await waitFor(async () => { const d = await leadDeals(lead); return d.length > 0 ? d : null })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
    expect(deals).toMatchObject([{ dealId: '006xx000002AAAAAA2', stage: 'opportunity', amount: 800 }])
    // Exactly one new token, fetched after the old one was refused.
    expect(stub.tokensIssued).toBe(issued + 1)
    const reads = stub.calls.slice(mark).filter((c) => c.path.startsWith('/services/data/'))
    expect(reads[0].authorization).toBe(`Bearer 00Dstub!issued.${issued}`)
    expect(reads.slice(1).every((c) => c.authorization === `Bearer 00Dstub!issued.${issued + 1}`)).toBe(true)
    expect(reads.some((c) => c.path === '/services/data/v60.0/sobjects/Opportunity/006xx000002AAAAAA2')).toBe(true)
    const q = reads.map((c) => new URL(c.path, 'http://x').searchParams.get('q')).find((x) => x?.includes('OpportunityContactRole'))
    expect(q).toBe("SELECT ContactId, Contact.Email, Contact.Account.Name, Contact.cl_visitor_id__c FROM OpportunityContactRole WHERE OpportunityId = '006xx000002AAAAAA2' ORDER BY IsPrimary DESC LIMIT 50")
    const c = await store.getCrmConnection(record.id)
    expect(c!.errors).toBe(errorsBefore + 1)
    expect(c!.lastError).toMatch(/429 .*REQUEST_LIMIT_EXCEEDED/)
  })

  it('pulls opportunities changed since the cursor, following nextRecordsUrl, and resumes from the stored cursor', async () => {
    const lead = await identify(testServer(), { email: 'pull@many.example' })
    stub.contacts.set('003xx000009PULLAAA', { Id: '003xx000009PULLAAA', Email: 'pull@many.example', AccountName: null })
    // An org without the visitor field: the contact roles are read without it.
    stub.visitorField = false
    stub.pageSize = 2
    const base = Date.UTC(2026, 5, 1)
    for (let i = 0; i < 5; i++) {
      const id = `006xx00000PULL${i}AAA`
      stub.opportunities.set(id, { Id: id, StageName: 'Qualification', Amount: 100 + i, CloseDate: null, IsWon: false, IsClosed: false, SystemModstamp: new Date(base + i * 60_000).toISOString().replace('Z', '+0000') })
      stub.roles.push({ OpportunityId: id, ContactId: '003xx000009PULLAAA', IsPrimary: false })
    }
    const calls = stub.calls.length
    const first = await syncConnection(ctx(), (await store.getCrmConnection(record.id))!)
    expect(first.errors).toEqual([])
    expect(first.deals).toBeGreaterThanOrEqual(5)
    const pages = stub.calls.slice(calls).filter((c) => c.path.startsWith('/services/data/v60.0/query/01gSTUB'))
    expect(pages.length).toBeGreaterThanOrEqual(2)
    const after = (await store.getCrmConnection(record.id))!
    expect(after.cursor).toBe(String(base + 4 * 60_000))
    expect(after.lastSyncAt).toBeGreaterThan(0)
    expect((await leadDeals(lead)).filter((d) => d.dealId.includes('PULL'))).toHaveLength(5)

    // Next pull: from the cursor's second on: the newest again, and the one changed since.
    stub.opportunities.get('006xx00000PULL1AAA')!.IsWon = true
    stub.opportunities.get('006xx00000PULL1AAA')!.IsClosed = true
    stub.opportunities.get('006xx00000PULL1AAA')!.SystemModstamp = new Date(base + 10 * 60_000).toISOString().replace('Z', '+0000')
    const mark = stub.calls.length
    const second = await syncConnection(ctx(), after)
    expect(second.deals).toBe(2)
    const soql = stub.calls.slice(mark).map((c) => new URL(c.path, 'http://x').searchParams.get('q')).find((x) => x?.includes('FROM Opportunity'))
    expect(soql).toBe(`SELECT Id, SystemModstamp FROM Opportunity WHERE SystemModstamp >= ${new Date(base + 4 * 60_000).toISOString().replace('.000Z', 'Z')} ORDER BY SystemModstamp, Id`)
    expect((await leadDeals(lead)).find((d) => d.dealId === '006xx00000PULL1AAA')?.stage).toBe('won')
    // A query locator that expired between pages: the pull starts again from its cursor.
    const stale = await salesforceAdapter.fetch(connection(), `${base + 4 * 60_000}|/services/data/v60.0/query/01gGONE-2`, { fetch: globalThis.fetch as FetchLike, now: Date.now })
    expect(stale.deals.map((d) => d.id).sort()).toEqual(['006xx00000PULL1AAA', '006xx00000PULL4AAA'])
    stub.visitorField = true
    stub.pageSize = 2000
  })

  it('waits for Retry-After on a 403 REQUEST_LIMIT_EXCEEDED during a pull', async () => {
    stub.failNext(1, 1, 403, 'REQUEST_LIMIT_EXCEEDED')
    const t0 = Date.now()
    const r = await syncConnection(ctx(), (await store.getCrmConnection(record.id))!, { random: () => 0 })
    expect(r.errors).toEqual([])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
  })

  it('writes attribution back to the custom fields of the Contact and the Opportunity', async () => {
    stub.contacts.set('003xx000004WBAAAA1', { Id: '003xx000004WBAAAA1', Email: 'wb@corp.example', AccountName: 'Corp' })
    stub.opportunities.set('006xx000004WBAAAA1', { Id: '006xx000004WBAAAA1', StageName: 'Prospecting', SystemModstamp: '2026-03-01T00:00:00.000+0000' })
    const c = connection()
    const env = { fetch: globalThis.fetch as FetchLike, now: Date.now }
    const fields = {
      closeloop_lead_id: 'lead_abc', closeloop_first_source: 'google', closeloop_first_medium: 'cpc', closeloop_first_campaign: 'spring', closeloop_first_channel: 'Paid Search',
      closeloop_last_source: 'newsletter', closeloop_last_medium: 'email', closeloop_last_campaign: null, closeloop_last_channel: 'Email',
    }
    expect(await salesforceAdapter.writeBack(c, { object: 'contact', contactId: '003xx000004WBAAAA1', email: null, fields }, env)).toEqual({ status: 'sent' })
    expect(await salesforceAdapter.writeBack(c, { object: 'contact', contactId: null, email: "WB@corp.example", fields }, env)).toEqual({ status: 'sent' })
    expect(await salesforceAdapter.writeBack(c, { object: 'deal', dealId: '006xx000004WBAAAA1', fields: { closeloop_channel: 'Paid Search', closeloop_campaign: 'spring' } }, env)).toEqual({ status: 'sent' })
    const contactBody = {
      Closeloop_Lead_Id__c: 'lead_abc', Closeloop_First_Source__c: 'google', Closeloop_First_Medium__c: 'cpc', Closeloop_First_Campaign__c: 'spring', Closeloop_First_Channel__c: 'Paid Search',
      Closeloop_Last_Source__c: 'newsletter', Closeloop_Last_Medium__c: 'email', Closeloop_Last_Campaign__c: null, Closeloop_Last_Channel__c: 'Email',
    }
    expect(stub.writes.slice(-3)).toEqual([
      { object: 'Contact', id: '003xx000004WBAAAA1', body: contactBody },
      { object: 'Contact', id: '003xx000004WBAAAA1', body: contactBody },
      { object: 'Opportunity', id: '006xx000004WBAAAA1', body: { Closeloop_Channel__c: 'Paid Search', Closeloop_Campaign__c: 'spring' } },
    ])
    const lookup = stub.calls.map((x) => new URL(x.path, 'http://x').searchParams.get('q')).find((x) => x?.startsWith('SELECT Id FROM Contact'))
    expect(lookup).toBe("SELECT Id FROM Contact WHERE Email = 'WB@corp.example' ORDER BY LastModifiedDate DESC LIMIT 10")

    // Passing failures are retried (with Retry-After), refusals are final.
    stub.failNext(1, 2, 429)
    expect(await salesforceAdapter.writeBack(c, { object: 'deal', dealId: '006xx000004WBAAAA1', fields: { closeloop_channel: 'x', closeloop_campaign: null } }, env)).toMatchObject({ status: 'retry', retryAfterMs: 2000 })
    stub.failNext(1, null, 503, 'SERVER_UNAVAILABLE')
    expect(await salesforceAdapter.writeBack(c, { object: 'deal', dealId: '006xx000004WBAAAA1', fields: { closeloop_channel: 'x', closeloop_campaign: null } }, env)).toMatchObject({ status: 'retry', retryAfterMs: null })
    stub.customFields.Opportunity.delete('Closeloop_Campaign__c')
    expect(await salesforceAdapter.writeBack(c, { object: 'deal', dealId: '006xx000004WBAAAA1', fields: { closeloop_channel: 'x', closeloop_campaign: null } }, env))
      .toEqual({ status: 'failed', reason: expect.stringMatching(/400 .*INVALID_FIELD: No such column 'Closeloop_Campaign__c'/) })
    stub.customFields.Opportunity.add('Closeloop_Campaign__c')
    expect(await salesforceAdapter.writeBack(c, { object: 'contact', contactId: null, email: 'nobody@corp.example', fields }, env)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/no Salesforce Contact/) })
    // A connected app whose secret is wrong: the token endpoint's refusal is final.
    const wrong = { ...c, id: 'crm_wrong_secret', options: { ...c.options, auth: { kind: 'client' as const, clientId: stub.clientId, clientSecret: 'not-it' } } }
    expect(await salesforceAdapter.writeBack(wrong, { object: 'deal', dealId: '006xx000004WBAAAA1', fields: { closeloop_channel: 'x', closeloop_campaign: null } }, env))
      .toEqual({ status: 'failed', reason: 'Salesforce answered 400 to the OAuth token request: invalid_client: invalid client credentials' })
  })
})

describe('Salesforce inbound URL in logs', () => {
  it('keeps the path token out of request logs', async () => {
    const lines: string[] = []
    const server = await startTestServer({ logLevel: 'debug' }, { logger: { level: 'debug', stream: { write: (line: string) => { lines.push(line) } } } })
    try {
      const r = await send(`${server.url}/v1/crm/salesforce/crm_unknown/s3cretPathToken0123456789`, { raw: '<x/>', headers: { 'content-type': 'text/xml' } })
      expect(r.status).toBe(404)
      expect(lines.some((l) => l.includes('/v1/crm/salesforce/crm_unknown/…'))).toBe(true)
      expect(lines.join('\n')).not.toContain('s3cretPathToken')
    } finally {
      await server.close()
    }
  })
})
