// The loop with HubSpot, every part real but HubSpot itself (a local stub of its API, written from
// HubSpot's public documentation, listening on 127.0.0.1): Chromium lands on the example site from
// a LinkedIn ad with UTMs, the tracker fills the lead form's hidden fields, the example form backend
// identifies the visitor; HubSpot holds the contact and its deal, moves the deal to Closed Won and
// fires its signed v3 `deal.propertyChange` webhook at the collector; the report API shows the won
// revenue on the ad's channel and campaign, and HubSpot has received the write-back: the contact's
// first/last touch and lead ID, and the deal's credited channel and campaign.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHubSpotStub, type HubSpotStub } from '../../packages/collector/test/http/stubs/hubspot-stub.js'
import { startCrmLoop, submitFromAd, type CrmLoop } from '../support/crm-loop.js'
import { waitUntil } from '../support/wait.js'

const EMAIL = 'ada.hubspot@example.com'
const AD = { source: 'linkedin', medium: 'paid_social', campaign: 'q3-abm' }
const AMOUNT = 18_500
const CLIENT_SECRET = 'hubspot-app-client-secret'
const CONTACT_ID = '1201'
const DEAL_ID = '3301'

let loop: CrmLoop
let stub: HubSpotStub
let visitorId: string
let leadId: string

const patchesOf = (path: string) => stub.calls.filter((c) => c.method === 'PATCH' && c.path === path && c.status === 200)
const properties = (call: { body: unknown }) => (call.body as { properties: Record<string, string> }).properties

beforeAll(async () => {
  loop = await startCrmLoop('hubspot-loop')
  stub = await startHubSpotStub()
})

afterAll(async () => {
  await loop?.close()
  await stub?.close()
})

describe('the loop with HubSpot: ad → form → identify → Closed Won webhook → report → write-back', () => {
  it('connects HubSpot with write-back, and the visitor from the ad submits the lead form', async () => {
    const record = await loop.connect('hubspot', { token: stub.token, 'client-secret': CLIENT_SECRET, 'api-base': stub.url }, true)
    expect(record).toMatchObject({ kind: 'hubspot', writeBack: true, siteId: loop.site.id })
    // HubSpot's own form capture makes the contact as the form is submitted (its e-mail is what
    // Closeloop finds it by; the hidden visitor field is filled in below, once the visitor is known).
    stub.contacts.set(CONTACT_ID, { id: CONTACT_ID, properties: { email: EMAIL, firstname: 'Ada', cl_visitor_id: null, company: 'Example Co' } })

    // The tracker's hidden fields carry the ad's touch into the form; the lead has that touch.
    ;({ visitorId, leadId } = await submitFromAd(loop, AD, EMAIL, 'Ada HubSpot'))
  })

  it('writes the contact HubSpot created from the form submission: lead ID and first/last touch, found by e-mail', async () => {
    stub.contacts.get(CONTACT_ID)!.properties.cl_visitor_id = visitorId
    const lead = await loop.api(`/v1/leads/${leadId}`)
    const channel = lead.touches[0].channel as string
    const byEmail = `/crm/v3/objects/contacts/${encodeURIComponent(EMAIL)}?idProperty=email`
    const [patch] = await waitUntil(() => patchesOf(byEmail).length > 0 && patchesOf(byEmail), 'the contact PATCH', 15_000)
    expect(properties(patch)).toMatchObject({
      closeloop_lead_id: leadId,
      closeloop_first_source: AD.source, closeloop_first_medium: AD.medium, closeloop_first_campaign: AD.campaign, closeloop_first_channel: channel,
      closeloop_last_source: AD.source, closeloop_last_medium: AD.medium, closeloop_last_campaign: AD.campaign, closeloop_last_channel: channel,
    })
    expect(stub.contacts.get(CONTACT_ID)!.properties).toMatchObject({ closeloop_lead_id: leadId, closeloop_first_campaign: AD.campaign })
  })

  it('HubSpot closes the deal and fires the signed dealstage webhook; the report shows the won revenue on the ad', async () => {
    const record = (await loop.store.listCrmConnections())[0]
    const closed = Date.now()
    stub.setDeal({
      id: DEAL_ID, contacts: [CONTACT_ID],
      properties: { dealname: 'Example Co – annual', amount: String(AMOUNT), dealstage: 'closedwon', pipeline: 'default', closedate: new Date(closed).toISOString(), deal_currency_code: null, hs_lastmodifieddate: String(closed) },
    })
    const status = await stub.sendWebhook(loop.inboundUrl(record), [{
      eventId: 100_001, subscriptionId: 4242, portalId: 62515, appId: 1160452, occurredAt: closed, attemptNumber: 0,
      subscriptionType: 'deal.propertyChange', objectId: Number(DEAL_ID), propertyName: 'dealstage', propertyValue: 'closedwon', changeSource: 'CRM_UI',
    }], CLIENT_SECRET)
    expect(status).toBe(200)

    const campaigns = await waitUntil(async () => { const rows = await loop.report('campaign'); return rows.length > 0 && rows }, 'the won deal in the report', 15_000)
    expect(campaigns).toEqual([expect.objectContaining({ key: AD.campaign, revenue: AMOUNT, conversions: 1 })])
    const lead = await loop.api(`/v1/leads/${leadId}`)
    expect(lead.deals).toMatchObject([{ dealId: DEAL_ID, stage: 'won', amount: AMOUNT }])
    const channels = await loop.report('channel')
    expect(channels).toEqual([expect.objectContaining({ key: lead.touches[0].channel, revenue: AMOUNT })])
  })

  it('HubSpot has received the deal write-back with the credited channel and campaign, and the contact by its ID', async () => {
    const [campaign] = await loop.report('campaign')
    const [channel] = await loop.report('channel')
    const dealPath = `/crm/v3/objects/deals/${DEAL_ID}`
    const [patch] = await waitUntil(() => patchesOf(dealPath).length > 0 && patchesOf(dealPath), 'the deal PATCH', 15_000)
    expect(properties(patch)).toEqual({ closeloop_channel: channel.key, closeloop_campaign: campaign.key })
    expect(stub.deals.get(DEAL_ID)!.properties).toMatchObject({ closeloop_channel: channel.key, closeloop_campaign: AD.campaign })
    // The deal named its contact: written by its HubSpot ID from now on.
    const [contact] = await waitUntil(() => patchesOf(`/crm/v3/objects/contacts/${CONTACT_ID}`).length > 0 && patchesOf(`/crm/v3/objects/contacts/${CONTACT_ID}`), 'the contact PATCH by ID', 15_000)
    expect(properties(contact)).toMatchObject({ closeloop_lead_id: leadId, closeloop_first_campaign: AD.campaign, closeloop_first_channel: channel.key })
    // The custom properties were created once, in the closeloop group.
    expect(stub.calls.filter((c) => c.method === 'POST' && c.path === '/crm/v3/properties/deals/groups')).toHaveLength(1)
    expect([...stub.properties.deals.keys()].sort()).toEqual(['closeloop_campaign', 'closeloop_channel'])
    // The write-back request as HubSpot received it.
    console.info(`HubSpot received: PATCH ${patch.path}\n${JSON.stringify(patch.body, null, 2)}`)
  })
})
