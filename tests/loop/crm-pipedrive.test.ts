// The loop with Pipedrive, every part real but Pipedrive itself (a local stub of its API, written
// from Pipedrive's public documentation, listening on 127.0.0.1): Chromium lands on the example
// site from a Facebook ad with UTMs, the tracker fills the lead form's hidden fields, the example
// form backend identifies the visitor; Pipedrive holds the person (its e-mail and the form's
// cl_visitor_id in the custom field of that name) and their deal, marks the deal won and fires its
// v2 `change` webhook with HTTP Basic credentials at the collector; the report API shows the won
// revenue on the ad's channel and campaign, and Pipedrive has received the write-back into custom
// fields it was asked to create: the person's lead ID and first/last touch, the deal's credited
// channel and campaign.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPipedriveStub, type PdStubDeal, type PipedriveStub } from '../../packages/collector/test/http/stubs/pipedrive-stub.js'
import { startCrmLoop, submitFromAd, type CrmLoop } from '../support/crm-loop.js'
import { waitUntil } from '../support/wait.js'

const EMAIL = 'linus.pipedrive@example.com'
const AD = { source: 'facebook', medium: 'paid_social', campaign: 'pd-webinar-retarget' }
const AMOUNT = 9_750
const PERSON_ID = 501
const DEAL_ID = 1001
const AUTH = { user: 'closeloop-hook', password: 'Webhook pa55word, not the API token' }
const LEAD_FIELDS = ['closeloop_lead_id', 'closeloop_first_source', 'closeloop_first_medium', 'closeloop_first_campaign', 'closeloop_first_channel', 'closeloop_last_source', 'closeloop_last_medium', 'closeloop_last_campaign', 'closeloop_last_channel']

let loop: CrmLoop
let stub: PipedriveStub
let visitorKey: string
let visitorId: string
let leadId: string

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
const patchesOf = (path: string) => stub.calls.filter((c) => c.method === 'PATCH' && c.path === path)
const customFields = (call: { body: unknown }) => (call.body as { custom_fields: Record<string, string | null> }).custom_fields
/** Custom field values by field name (Pipedrive keys them by a 40-character hash). */
const byName = (entity: 'person' | 'deal', names: string[], values: Record<string, unknown>) =>
  Object.fromEntries(names.map((n) => [n, values[stub.keyOf(entity, n) ?? `(no ${entity} field ${n})`]]))

/** A webhooks v2 body for a change of the deal as Pipedrive sends it: the deal now, what changed, meta. */
function dealChange(deal: PdStubDeal, previous: Partial<PdStubDeal>): Record<string, unknown> {
  const { participants: _p, custom_fields, ...data } = deal
  return {
    data: { ...data, custom_fields: Object.keys(custom_fields).length > 0 ? custom_fields : null, is_archived: false, label_ids: [], origin: 'ManuallyCreated', owner_id: 23001, visible_to: '3' },
    previous,
    meta: {
      action: 'change', entity: 'deal', entity_id: String(deal.id), id: randomUUID(), timestamp: new Date().toISOString(), version: '2.0',
      company_id: '7001', correlation_id: randomUUID(), is_bulk_edit: false, type: 'general', user_id: '23001', webhook_id: '88001', webhook_owner_id: '23001',
      change_source: 'app', permitted_user_ids: ['23001'], attempt: 1, host: 'example.pipedrive.com',
    },
  }
}

beforeAll(async () => {
  loop = await startCrmLoop('pipedrive-loop')
  stub = await startPipedriveStub()
  // The person field the web form's hidden cl_visitor_id is mapped to (docs/crm/pipedrive.md).
  visitorKey = stub.addField('person', 'cl_visitor_id')
})

afterAll(async () => {
  await loop?.close()
  await stub?.close()
})

describe('the loop with Pipedrive: ad → form → identify → won deal webhook → report → write-back', () => {
  it('connects Pipedrive with write-back, and the visitor from the ad submits the lead form', async () => {
    const record = await loop.connect('pipedrive', { 'api-token': stub.token, 'api-base': stub.url, 'webhook-user': AUTH.user, 'webhook-password': AUTH.password }, true)
    expect(record).toMatchObject({ kind: 'pipedrive', writeBack: true, siteId: loop.site.id })
    // No path token: Pipedrive authenticates its webhooks with HTTP Basic.
    expect(loop.inboundUrl(record)).toBe(`${loop.collectorUrl}/v1/crm/pipedrive/${record.id}`)
    // The form's submission made the person in Pipedrive (its e-mail is what Closeloop finds it by).
    stub.setPerson({ id: PERSON_ID, name: 'Linus Pipedrive', email: EMAIL })

    // The tracker's hidden fields carry the ad's touch into the form; the lead has that touch.
    ;({ visitorId, leadId } = await submitFromAd(loop, AD, EMAIL, 'Linus Pipedrive'))
  })

  it('writes the person found by e-mail after identify, into custom fields created on first use', async () => {
    stub.persons.get(PERSON_ID)!.custom_fields[visitorKey] = visitorId
    const lead = await loop.api(`/v1/leads/${leadId}`)
    const channel = lead.touches[0].channel as string
    const person = `/api/v2/persons/${PERSON_ID}`
    const [patch] = await waitUntil(() => patchesOf(person).length > 0 && patchesOf(person), 'the person PATCH', 15_000)
    expect(byName('person', LEAD_FIELDS, customFields(patch))).toEqual({
      closeloop_lead_id: leadId,
      closeloop_first_source: AD.source, closeloop_first_medium: AD.medium, closeloop_first_campaign: AD.campaign, closeloop_first_channel: channel,
      closeloop_last_source: AD.source, closeloop_last_medium: AD.medium, closeloop_last_campaign: AD.campaign, closeloop_last_channel: channel,
    })
    // Nothing but those fields, each created once (POST personFields) and sent by its hash key.
    expect(Object.keys(customFields(patch))).toHaveLength(LEAD_FIELDS.length)
    expect(stub.calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/personFields').map((c) => (c.body as { name: string }).name)).toEqual(LEAD_FIELDS)
    expect(stub.calls.some((c) => c.path === `/api/v2/persons/search?term=${encodeURIComponent(EMAIL)}&fields=email&exact_match=true&limit=1`)).toBe(true)
    expect(stub.persons.get(PERSON_ID)!.custom_fields[stub.keyOf('person', 'closeloop_lead_id')!]).toBe(leadId)
  })

  it('Pipedrive marks the deal won and fires the v2 change webhook with Basic auth; the report shows the won revenue on the ad', async () => {
    const record = (await loop.store.listCrmConnections())[0]
    // Pipedrive's times have whole seconds: round up, so the close is never before the touch of
    // this same second: truncating could put the close before the touch.
    const won = Math.ceil((Date.now() + 1) / 1000) * 1000
    const deal = stub.setDeal({ id: DEAL_ID, title: 'Example AB – team plan', stage_id: 4, status: 'won', value: AMOUNT, currency: 'USD', person_id: PERSON_ID, won_time: iso(won), close_time: iso(won), update_time: iso(won) })
    // Without the webhook's credentials the collector refuses it.
    const refused = await stub.sendWebhook(loop.inboundUrl(record), dealChange(deal, { status: 'open' }), { user: AUTH.user, password: 'wrong' })
    expect(refused.status).toBe(401)
    const r = await stub.sendWebhook(loop.inboundUrl(record), dealChange(deal, { status: 'open', won_time: null, close_time: null }), AUTH)
    expect(r.status).toBe(200)

    const campaigns = await waitUntil(async () => { const rows = await loop.report('campaign'); return rows.length > 0 && rows }, 'the won deal in the report', 15_000)
    expect(campaigns).toEqual([expect.objectContaining({ key: AD.campaign, revenue: AMOUNT, conversions: 1 })])
    const lead = await loop.api(`/v1/leads/${leadId}`)
    expect(lead.deals).toMatchObject([{ dealId: String(DEAL_ID), stage: 'won', amount: AMOUNT }])
    const channels = await loop.report('channel')
    expect(channels).toEqual([expect.objectContaining({ key: lead.touches[0].channel, revenue: AMOUNT })])
  })

  it('Pipedrive has received the deal write-back with the credited channel and campaign, and the person by ID', async () => {
    const [campaign] = await loop.report('campaign')
    const [channel] = await loop.report('channel')
    const dealPath = `/api/v2/deals/${DEAL_ID}`
    const [patch] = await waitUntil(() => patchesOf(dealPath).length > 0 && patchesOf(dealPath), 'the deal PATCH', 15_000)
    expect(byName('deal', ['closeloop_channel', 'closeloop_campaign'], customFields(patch))).toEqual({ closeloop_channel: channel.key, closeloop_campaign: campaign.key })
    expect(Object.keys(customFields(patch))).toHaveLength(2)
    expect(byName('deal', ['closeloop_channel', 'closeloop_campaign'], stub.deals.get(DEAL_ID)!.custom_fields)).toEqual({ closeloop_channel: channel.key, closeloop_campaign: AD.campaign })
    // The deal named its person: written again by its ID, with the same touches.
    const person = `/api/v2/persons/${PERSON_ID}`
    const patches = await waitUntil(() => patchesOf(person).length >= 2 && patchesOf(person), 'the person PATCH after the deal', 15_000)
    expect(byName('person', LEAD_FIELDS, customFields(patches[1]))).toMatchObject({ closeloop_lead_id: leadId, closeloop_first_campaign: campaign.key, closeloop_first_channel: channel.key })
    // The fields exist once each, whatever was written twice.
    for (const name of LEAD_FIELDS) expect(stub.personFields.filter((f) => f.name === name)).toHaveLength(1)
    console.info(`Pipedrive received: PATCH ${patch.path}\n${JSON.stringify(patch.body, null, 2)}`)
  })
})
