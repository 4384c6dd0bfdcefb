// The loop with Salesforce, every part real but Salesforce itself (a local stub of its OAuth and REST
// APIs, written from Salesforce's public documentation, listening on 127.0.0.1): Chromium lands on
// the example site from a Google Ads click with UTMs, the tracker fills the lead form's hidden
// fields, the example form backend identifies the visitor; Salesforce holds the Contact (its e-mail
// and the form's cl_visitor_id in cl_visitor_id__c) and an Opportunity with it as contact role,
// closes it won and sends its Outbound Message (SOAP, to the secret inbound URL with the path
// token); the report API shows the won revenue on the click's channel and campaign, and Salesforce
// has received the write-back: the Contact's lead ID and first/last touch, the Opportunity's
// credited channel and campaign.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSalesforceStub, type SalesforceStub } from '../../packages/collector/test/http/stubs/salesforce-stub.js'
import { startCrmLoop, submitFromAd, type CrmLoop } from '../support/crm-loop.js'
import { waitUntil } from '../support/wait.js'

const EMAIL = 'grace.salesforce@example.com'
const AD = { source: 'google', medium: 'cpc', campaign: 'sf-enterprise-trial' }
const AMOUNT = 42_000
const CONTACT_ID = '003xx000004TmiQAAS'
const OPPORTUNITY_ID = '006xx000001Sv6tAAC'
/** The custom fields an admin creates for write-back, as docs/crm/salesforce.md lists them. */
const CONTACT_FIELDS = ['Lead_Id', 'First_Source', 'First_Medium', 'First_Campaign', 'First_Channel', 'Last_Source', 'Last_Medium', 'Last_Campaign', 'Last_Channel'].map((f) => `Closeloop_${f}__c`)
const OPPORTUNITY_FIELDS = ['Closeloop_Channel__c', 'Closeloop_Campaign__c']

let loop: CrmLoop
let stub: SalesforceStub
let visitorId: string
let leadId: string

const writesTo = (object: 'Contact' | 'Opportunity', id: string) => stub.writes.filter((w) => w.object === object && w.id === id)

beforeAll(async () => {
  loop = await startCrmLoop('salesforce-loop')
  stub = await startSalesforceStub()
  stub.customFields.Contact = new Set(CONTACT_FIELDS)
  stub.customFields.Opportunity = new Set(OPPORTUNITY_FIELDS)
})

afterAll(async () => {
  await loop?.close()
  await stub?.close()
})

describe('the loop with Salesforce: ad → form → identify → Closed Won outbound message → report → write-back', () => {
  it('connects Salesforce with write-back, and the visitor from the ad submits the lead form', async () => {
    const record = await loop.connect('salesforce', { 'instance-url': stub.url, 'client-id': stub.clientId, 'client-secret': stub.clientSecret, 'org-id': stub.orgId }, true)
    expect(record).toMatchObject({ kind: 'salesforce', writeBack: true, siteId: loop.site.id })
    // The inbound URL ends in the connection's secret path token (outbound messages are not signed).
    expect(loop.inboundUrl(record)).toMatch(new RegExp(`/v1/crm/salesforce/${record.id}/[\\w-]{32}$`))
    // The form's lead became a Contact in Salesforce (its e-mail is what Closeloop finds it by).
    stub.contacts.set(CONTACT_ID, { Id: CONTACT_ID, Email: EMAIL, AccountName: 'Example Corp', FirstName: 'Grace', cl_visitor_id__c: null })

    // The tracker's hidden fields carry the ad's touch into the form; the lead has that touch.
    ;({ visitorId, leadId } = await submitFromAd(loop, AD, EMAIL, 'Grace Salesforce'))
  })

  it('writes the Contact found by e-mail after identify: lead ID and first/last touch in the Closeloop fields', async () => {
    // The form's hidden cl_visitor_id, mapped into the Contact's field.
    stub.contacts.get(CONTACT_ID)!.cl_visitor_id__c = visitorId
    const lead = await loop.api(`/v1/leads/${leadId}`)
    const channel = lead.touches[0].channel as string
    const [write] = await waitUntil(() => writesTo('Contact', CONTACT_ID).length > 0 && writesTo('Contact', CONTACT_ID), 'the Contact PATCH', 15_000)
    expect(write.body).toEqual({
      Closeloop_Lead_Id__c: leadId,
      Closeloop_First_Source__c: AD.source, Closeloop_First_Medium__c: AD.medium, Closeloop_First_Campaign__c: AD.campaign, Closeloop_First_Channel__c: channel,
      Closeloop_Last_Source__c: AD.source, Closeloop_Last_Medium__c: AD.medium, Closeloop_Last_Campaign__c: AD.campaign, Closeloop_Last_Channel__c: channel,
    })
    // Found by its e-mail with SOQL, through a token from the client-credentials flow.
    expect(stub.calls.some((c) => c.method === 'GET' && decodeURIComponent(c.path).includes(`WHERE Email = '${EMAIL}'`))).toBe(true)
    expect(stub.tokensIssued).toBeGreaterThan(0)
    expect(stub.contacts.get(CONTACT_ID)).toMatchObject({ Closeloop_Lead_Id__c: leadId, Closeloop_First_Campaign__c: AD.campaign })
  })

  it('Salesforce closes the Opportunity won and sends its outbound message; the report shows the revenue on the ad', async () => {
    const record = (await loop.store.listCrmConnections())[0]
    const now = new Date()
    stub.opportunities.set(OPPORTUNITY_ID, {
      Id: OPPORTUNITY_ID, Name: 'Example Corp – platform', StageName: 'Closed Won', IsClosed: true, IsWon: true,
      Amount: AMOUNT, CloseDate: now.toISOString().slice(0, 10), SystemModstamp: now.toISOString(),
    })
    stub.roles.push({ OpportunityId: OPPORTUNITY_ID, ContactId: CONTACT_ID, IsPrimary: true })
    // The message names no contact: the collector reads the Opportunity's contact roles (e-mail and cl_visitor_id__c).
    const ack = await stub.sendOutboundMessage(loop.inboundUrl(record), [OPPORTUNITY_ID], ['StageName', 'IsClosed', 'IsWon', 'Amount', 'CloseDate', 'SystemModstamp'])
    expect(ack.status).toBe(200)
    expect(ack.body).toContain('<Ack>true</Ack>')

    const campaigns = await waitUntil(async () => { const rows = await loop.report('campaign'); return rows.length > 0 && rows }, 'the won deal in the report', 15_000)
    expect(campaigns).toEqual([expect.objectContaining({ key: AD.campaign, revenue: AMOUNT, conversions: 1 })])
    const lead = await loop.api(`/v1/leads/${leadId}`)
    expect(lead.deals).toMatchObject([{ dealId: OPPORTUNITY_ID, stage: 'won', amount: AMOUNT }])
    const channels = await loop.report('channel')
    expect(channels).toEqual([expect.objectContaining({ key: lead.touches[0].channel, revenue: AMOUNT })])
    expect(stub.calls.some((c) => c.method === 'GET' && decodeURIComponent(c.path).includes(`FROM OpportunityContactRole WHERE OpportunityId = '${OPPORTUNITY_ID}'`))).toBe(true)
  })

  it('Salesforce has received the Opportunity write-back with the credited channel and campaign, and the Contact by its ID', async () => {
    const [campaign] = await loop.report('campaign')
    const [channel] = await loop.report('channel')
    const [write] = await waitUntil(() => writesTo('Opportunity', OPPORTUNITY_ID).length > 0 && writesTo('Opportunity', OPPORTUNITY_ID), 'the Opportunity PATCH', 15_000)
    expect(write.body).toEqual({ Closeloop_Channel__c: channel.key, Closeloop_Campaign__c: campaign.key })
    expect(stub.opportunities.get(OPPORTUNITY_ID)).toMatchObject({ Closeloop_Channel__c: channel.key, Closeloop_Campaign__c: AD.campaign })
    // The deal named its Contact: written again by its ID, with the same touches (two writes in all).
    const contact = await waitUntil(() => writesTo('Contact', CONTACT_ID).length >= 2 && writesTo('Contact', CONTACT_ID), 'the Contact PATCH after the deal', 15_000)
    expect(contact[1].body).toMatchObject({ Closeloop_Lead_Id__c: leadId, Closeloop_First_Campaign__c: campaign.key, Closeloop_First_Channel__c: channel.key })
    // Every write went to a field the org has (none answered INVALID_FIELD).
    expect(stub.calls.filter((c) => c.method === 'PATCH').length).toBe(stub.writes.length)
    console.info(`Salesforce received: PATCH ${stub.calls.find((c) => c.method === 'PATCH' && c.path.endsWith(`/Opportunity/${OPPORTUNITY_ID}`))!.path}\n${JSON.stringify(write.body, null, 2)}`)
  })
})
