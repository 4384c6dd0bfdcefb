// A small business for the dashboard's browser tests, seeded over HTTP into a real collector: its
// own site (named with a payload, created as `closeloop sites add` does), touches from six
// channels, leads with traits, deals and spend, a duplicate lead and a rejected event, and a CRM
// company (named with a payload) whose three contacts share an open deal. Every tracked text field
// carries a payload from xss.ts, and one lead's e-mail is markup too. Days count from D0, 50 days ago, so all of it falls in the dashboard's default range
// (the last 90 days), and journeys of several touches make the models disagree.

import { createSite } from '../../../src/sites/admin.js'
import type { Site } from '../../../src/store/types.js'
import { collect, ORIGIN, secret, visitorId, type TestServer } from '../../http/helpers.js'
import { DAY, identify, importEvents, touchEvent, type TouchSpec } from '../../http/outcome-helpers.js'
import { XSS } from './xss.js'

const D0 = Math.floor(Date.now() / DAY) * DAY - 50 * DAY
/** The time of day `d` (fractions allowed). */
export const at = (d: number): number => D0 + d * DAY
/** Day `d` as the dashboard's date inputs and the API's from/to take it. */
export const day = (d: number): string => new Date(at(d)).toISOString().slice(0, 10)

export interface Touch extends TouchSpec { term?: string; content?: string; referrer?: string }

// Source, medium and click-ID type are lowercased by the collector, so they get lowercase payloads.
const ADS_IMG: Touch = { source: XSS[0], medium: 'cpc', campaign: XSS[5], term: XSS[3], content: XSS[4], click_id_type: 'gclid', referrer: `https://evil.example/?q=${XSS[1]}` }
const ADS_SVG: Touch = { source: XSS[3], medium: 'cpc', campaign: XSS[2], term: XSS[0] }
const UNTAGGED: Touch = { source: XSS[3], medium: 'cpc' }
const SEARCH: Touch = { source: 'google', medium: 'cpc', campaign: 'brand', term: XSS[2], click_id_type: 'gclid' }
const SOCIAL: Touch = { source: 'linkedin', medium: 'paid_social', campaign: XSS[4], content: XSS[1], click_id_type: XSS[2] }
const REFERRAL: Touch = { source: XSS[1], medium: 'referral', referrer: `https://evil.example/${XSS[1]}` }
const NEWSLETTER: Touch = { source: 'newsletter', medium: XSS[1], campaign: XSS[3] }
const ORGANIC: Touch = { source: 'google', medium: 'organic', term: XSS[2], referrer: `https://www.google.com/search?q=${XSS[0]}` }

const LANDING = `https://shop.example/?utm_content=${XSS[3]}`

/** The CRM company of the Globex contacts (identify's `company`): its account's name. */
export const COMPANY = `Globex ${XSS[0]}`

/** An address the collector accepts that is markup too (no spaces: `/` separates the attributes). */
export const PAYLOAD_EMAIL = '<img/src=x/onerror=window.__xss=1>@evil.example'

/** The touches of Business.leadId, oldest first, as sent. */
export const LEAD_TOUCHES: readonly Touch[] = [ADS_IMG, SOCIAL, SEARCH]
/** What the journey view shows of a touch: source, medium, campaign, term, content, click-ID type, referrer, landing page. */
export const shown = (t: Touch): string[] => [t.source, t.medium, t.campaign ?? '', t.term ?? '', t.content ?? '', t.click_id_type ?? '', t.referrer ?? '', LANDING]

function event(vid: string, d: number, t: Touch): Record<string, unknown> {
  const e = touchEvent(vid, at(d), t)
  const touch = { ...(e.touch as Record<string, unknown>), term: t.term ?? null, content: t.content ?? null, referrer: t.referrer ?? null, landing: LANDING }
  return { ...e, url: LANDING, ref: t.referrer ?? null, touch }
}

export interface Business {
  /** The server as seen with this site's keys (for helpers.ts and outcome-helpers.ts). */
  server: TestServer
  site: Site
  key: string
  /** The lead with payload traits, a payload external ID and a won deal with a payload ID. */
  leadId: string
  /** Its e-mail, as identified. */
  leadEmail: string
  /** The lead whose e-mail is PAYLOAD_EMAIL (one referral touch, no deals). */
  payloadLeadId: string
  /** A lead who came back after identify (an organic visit, identify, then a newsletter click; no deals). */
  nurturedLeadId: string
  /** The CRM account COMPANY: its ID and its three contacts (gil, ivy, hal), gil and hal named on one open deal. */
  account: { id: string; leadIds: string[] }
  /** Won revenue over all days, and over days 0–20 only. */
  won: { all: number; firstDays: number }
}

export async function seedBusiness(base: TestServer): Promise<Business> {
  const created = await createSite(base.store, { name: `Shop ${XSS[0]}`, origins: [ORIGIN], currency: 'EUR' })
  const server: TestServer = { ...base, site: created.site, pk: created.site.publicKey, sk: created.secretKey }
  const ok = async (path: string, body: unknown) => {
    const r = await secret(server, path, body)
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`)
    return r.body
  }
  const person = async (touches: Array<[Touch, number]>, who: { email: string; identifyDay: number; traits?: Record<string, unknown>; externalId?: string; company?: string } | null, deals: Array<{ id: string; amount: number; stages: Array<[string, number]> }> = []) => {
    const vid = visitorId()
    await importEvents(server, touches.map(([t, d]) => event(vid, d, t)))
    if (who === null) return ''
    const leadId = await identify(server, { visitorId: vid, email: who.email, externalId: who.externalId, traits: who.traits, company: who.company, ts: at(who.identifyDay) })
    for (const deal of deals)
      for (const [stage, d] of deal.stages) await ok('/v1/deals', { dealId: deal.id, email: who.email, stage, amount: deal.amount, ts: at(d) })
    return leadId
  }

  const leadId = await person(LEAD_TOUCHES.map((t, i) => [t, [0, 3, 6][i]]),
    { email: 'ann@example.com', identifyDay: 6.5, externalId: XSS[2], traits: { name: XSS[0], company: XSS[1], note: { nested: XSS[3] } } },
    [{ id: XSS[4], amount: 12_000, stages: [['opportunity', 8], ['won', 12]] }])
  await person([[REFERRAL, 1], [ADS_SVG, 4]], { email: 'bo@example.com', identifyDay: 4.5, traits: { name: XSS[1] } },
    [{ id: 'B-1', amount: 5_000, stages: [['sql', 5], ['won', 25]] }])
  await person([[NEWSLETTER, 2], [ORGANIC, 9], [ADS_IMG, 10]], { email: 'cy@example.com', identifyDay: 10.2 },
    [{ id: XSS[1], amount: 8_000, stages: [['opportunity', 14]] }])
  await person([[SEARCH, 15], [SOCIAL, 18], [REFERRAL, 19]], { email: 'di@example.com', identifyDay: 19.5 },
    [{ id: XSS[5], amount: 3_000, stages: [['opportunity', 20], ['won', 30]] }])
  const payloadLeadId = await person([[REFERRAL, 22]], { email: PAYLOAD_EMAIL, identifyDay: 22.5 })
  const nurturedLeadId = await person([[ORGANIC, 24], [NEWSLETTER, 26]], { email: 'fay@example.com', identifyDay: 24.5 })
  // A company of three whose journeys interleave; its deal is open (not won), so won revenue stays as above.
  const globex = [
    await person([[SEARCH, 3], [ADS_IMG, 16]], { email: 'gil@globex.example', identifyDay: 16.5, company: COMPANY }),
    // Ivy came back after identify: a lead-phase touch in the account's interleaved journeys.
    await person([[REFERRAL, 12], [NEWSLETTER, 14]], { email: 'ivy@globex.example', identifyDay: 12.5, company: COMPANY }),
    await person([[SOCIAL, 7], [NEWSLETTER, 17]], { email: 'hal@globex.example', identifyDay: 17.5, company: COMPANY }),
  ]
  await ok('/v1/deals', { dealId: `GX-${XSS[5]}`, emails: ['hal@globex.example', 'gil@globex.example'], company: COMPANY, stage: 'opportunity', amount: 40_000, ts: at(21) })
  const accountId = (await ok(`/v1/leads/${globex[0]}`, undefined)).lead.accountId as string
  // Anonymous visitors: non-converting paths for Markov, and untagged paid traffic.
  await person([[SOCIAL, 5], [ADS_SVG, 7]], null)
  await person([[UNTAGGED, 11], [UNTAGGED, 13]], null)
  // One identify that finds two different leads: a possible duplicate on the quality view.
  await identify(server, { visitorId: visitorId(), email: 'eve@example.com', traits: { name: XSS[3] } })
  await identify(server, { visitorId: visitorId(), phone: '+14155550100' })
  await identify(server, { visitorId: visitorId(), email: 'eve@example.com', phone: '+14155550100' })
  const refused = await collect(server, [{ id: 'not-an-event', type: 'nope' }], { headers: { origin: ORIGIN } })
  if (refused.status !== 200 || refused.body.rejected.length !== 1) throw new Error(`collect: ${refused.text}`)

  const rows = []
  for (let d = 0; d < 30; d++) {
    rows.push({ date: day(d), source: 'google', medium: 'cpc', campaign: 'brand', amount: 90 })
    rows.push({ date: day(d), source: 'linkedin', medium: 'paid_social', campaign: XSS[4], amount: 60 })
    rows.push({ date: day(d), source: XSS[0], medium: 'cpc', campaign: XSS[5], amount: 35 })
  }
  const spend = await ok('/v1/spend', { rows })
  if (spend.accepted !== rows.length) throw new Error(`spend: ${JSON.stringify(spend)}`)
  // A CRM connection whose last error text came from the CRM (attacker-controlled): shown, never run.
  await base.store.addCrmConnection({ id: 'crm_seeded_hubspot01', siteId: created.site.id, kind: 'hubspot', options: {}, writeBack: true, createdAt: at(0) })
  await base.store.updateCrmStatus('crm_seeded_hubspot01', { lastSyncAt: at(3), error: { reason: `HubSpot answered 400: ${XSS[2]}`, at: at(4) } })
  // Its write-backs: one sent, one failed with the CRM's (hostile) reason, one still pending.
  const deal = (target: string) => ({ connectionId: 'crm_seeded_hubspot01', object: 'deal' as const, target, contactId: null, emailEnc: null, fields: '{}' })
  await base.store.enqueueCrmOutbox([deal('d-sent'), deal('d-failed'), deal('d-pending')], at(5))
  for (const row of await base.store.dueCrmOutbox(at(5), 10, 60_000)) {
    if (row.target === 'd-sent') await base.store.settleCrmOutbox(row.id, row.version, { status: 'sent', at: at(5) })
    if (row.target === 'd-failed') await base.store.settleCrmOutbox(row.id, row.version, { status: 'failed', at: at(6), reason: `HubSpot answered 400: ${XSS[3]}` })
  }
  return { server, site: created.site, key: created.secretKey, leadId, leadEmail: 'ann@example.com', payloadLeadId, nurturedLeadId, account: { id: accountId, leadIds: globex }, won: { all: 20_000, firstDays: 12_000 } }
}
