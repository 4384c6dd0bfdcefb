// HubSpot webhook signatures and batches. The v1 and v2 vectors are HubSpot's own documented
// examples (client secret yyyyyyyy-…); v3 has no published vector, so its signatures are computed
// here with node:crypto from the documented formula, independently of the connector's code.

import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { CrmConnection, InboundRequest } from '../../../src/integrations/crm/adapter.js'
import { hubspotAdapter, parseHubSpotEvents, signatureV1, signatureV2, type HubSpotOptions } from '../../../src/integrations/crm/hubspot.js'

const DOC_SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy'
const DOC_BODY = '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
const SECRET = 'c1ient-secret-0f-the-app'
const URL = 'https://cl.example.com/v1/crm/hubspot/crm_abc'
const NOW = Date.UTC(2026, 3, 1, 12)

const connection: CrmConnection<HubSpotOptions> = {
  id: 'crm_abc', siteId: 's', kind: 'hubspot', writeBack: false,
  options: hubspotAdapter.parseOptions({ token: 't', 'client-secret': SECRET }),
}

function request(body: string, headers: Record<string, string>, url = URL): InboundRequest {
  return { method: 'POST', url, headers, rawBody: Buffer.from(body) }
}

const v3 = (body: string, ts: number, secret = SECRET, method = 'POST', uri = URL) =>
  createHmac('sha256', secret).update(`${method}${uri}${body}${ts}`, 'utf8').digest('base64')

describe('HubSpot signatures', () => {
  it("match HubSpot's documented v1 and v2 examples", () => {
    expect(signatureV1(DOC_SECRET, DOC_BODY)).toBe('232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de')
    expect(signatureV2(DOC_SECRET, 'GET', 'https://www.example.com/webhook_uri', '')).toBe('eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e')
  })

  it('accepts a v3 signature within 5 minutes and refuses a wrong, tampered or stale one', () => {
    const body = '[{"objectId":1,"subscriptionType":"deal.creation","occurredAt":1,"eventId":7}]'
    const ok = (h: Record<string, string>, b = body, url = URL) => hubspotAdapter.verify(request(b, h, url), connection, NOW)
    const ts = NOW - 4 * 60_000
    expect(ok({ 'x-hubspot-signature-v3': v3(body, ts), 'x-hubspot-request-timestamp': String(ts) })).toEqual({ ok: true })
    // Wrong secret, other body, other URL, missing or stale timestamp.
    for (const bad of [
      ok({ 'x-hubspot-signature-v3': v3(body, ts, 'other'), 'x-hubspot-request-timestamp': String(ts) }),
      ok({ 'x-hubspot-signature-v3': v3(body, ts), 'x-hubspot-request-timestamp': String(ts) }, body.replace('7', '8')),
      ok({ 'x-hubspot-signature-v3': v3(body, ts), 'x-hubspot-request-timestamp': String(ts) }, body, URL + 'x'),
      ok({ 'x-hubspot-signature-v3': v3(body, ts) }),
      ok({ 'x-hubspot-signature-v3': v3(body, NOW - 6 * 60_000), 'x-hubspot-request-timestamp': String(NOW - 6 * 60_000) }),
      // A v3 header present is authoritative: a valid v1 beside a bad v3 does not pass.
      ok({ 'x-hubspot-signature-v3': 'AAAA', 'x-hubspot-request-timestamp': String(ts), 'x-hubspot-signature': signatureV1(SECRET, body), 'x-hubspot-signature-version': 'v1' }),
    ]) expect(bad).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' })
    const stale = ok({ 'x-hubspot-signature-v3': v3(body, NOW - 6 * 60_000), 'x-hubspot-request-timestamp': String(NOW - 6 * 60_000) })
    expect(stale).toMatchObject({ message: expect.stringMatching(/5 minutes/) })
  })

  it('verifies v3 against the URI with the characters HubSpot decodes', () => {
    const encoded = `${URL}?x=a%3Ab`
    const ts = NOW
    const sig = v3('[]', ts, SECRET, 'POST', `${URL}?x=a:b`)
    expect(hubspotAdapter.verify(request('[]', { 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': String(ts) }, encoded), connection, NOW)).toEqual({ ok: true })
  })

  it('falls back to v2 and v1 when there is no v3 header', () => {
    const body = '[{"objectId":1}]'
    const check = (sig: string, version: string) => hubspotAdapter.verify(request(body, { 'x-hubspot-signature': sig, 'x-hubspot-signature-version': version }), connection, NOW)
    expect(check(signatureV2(SECRET, 'POST', URL, body), 'v2')).toEqual({ ok: true })
    expect(check(signatureV1(SECRET, body), 'v1')).toEqual({ ok: true })
    expect(check(signatureV1(SECRET, body), 'v2')).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' })
    expect(check(signatureV2(SECRET, 'POST', URL, body), 'v1')).toMatchObject({ ok: false })
    expect(check(signatureV1('other', body), 'v1')).toMatchObject({ ok: false })
    expect(hubspotAdapter.verify(request(body, {}), connection, NOW)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' })
  })
})

describe('HubSpot webhook batches', () => {
  it('turns deal and contact events into inbox items and skips other subscriptions', () => {
    const body = JSON.stringify([
      { eventId: 100, subscriptionId: 9, portalId: 62515, occurredAt: 1000, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 555 },
      { eventId: 101, subscriptionId: 9, portalId: 62515, occurredAt: 1001, subscriptionType: 'deal.propertyChange', propertyName: 'dealstage', propertyValue: 'closedwon', attemptNumber: 0, objectId: 555 },
      { eventId: 102, subscriptionId: 9, portalId: 62515, occurredAt: 1002, subscriptionType: 'deal.deletion', attemptNumber: 1, objectId: '556' },
      { eventId: 103, subscriptionId: 9, portalId: 62515, occurredAt: 1003, subscriptionType: 'contact.propertyChange', propertyName: 'email', propertyValue: 'a@b.example', objectId: 77 },
      { eventId: 104, subscriptionId: 9, portalId: 62515, occurredAt: 1004, subscriptionType: 'company.creation', objectId: 88 },
    ])
    expect(parseHubSpotEvents(Buffer.from(body))).toEqual([
      { object: 'deal', id: '555', change: 'created', occurredAt: 1000, eventId: '100' },
      { object: 'deal', id: '555', change: 'changed', occurredAt: 1001, eventId: '101' },
      { object: 'deal', id: '556', change: 'deleted', occurredAt: 1002, eventId: '102' },
      { object: 'contact', id: '77', change: 'changed', occurredAt: 1003, eventId: '103' },
    ])
  })

  it('refuses a body it cannot read, naming why', () => {
    const reason = (body: string) => { try { parseHubSpotEvents(Buffer.from(body)); return null } catch (err) { return [(err as { code: string }).code, (err as Error).message] } }
    expect(reason('{"objectId":1}')).toEqual(['CL_ERR_VALIDATION', 'HubSpot webhook body must be a JSON array of events'])
    expect(reason('[1')).toEqual(['CL_ERR_VALIDATION', 'HubSpot webhook body is not JSON'])
    expect(reason('[{"subscriptionType":"deal.creation","occurredAt":1}]')?.[1]).toMatch(/event 0: objectId/)
    expect(reason('[{"subscriptionType":"deal.creation","objectId":1}]')?.[1]).toMatch(/occurredAt/)
    expect(reason('[{"objectId":1}]')?.[1]).toMatch(/subscriptionType/)
  })

  it('requires a token and a client secret, and an http(s) API base', () => {
    expect(() => hubspotAdapter.parseOptions({ 'client-secret': 's' })).toThrow(/--token/)
    expect(() => hubspotAdapter.parseOptions({ token: 't' })).toThrow(/--client-secret/)
    expect(() => hubspotAdapter.parseOptions({ token: 't', 'client-secret': 's', 'api-base': 'ftp://x' })).toThrow(/--api-base/)
    expect(hubspotAdapter.parseOptions({ token: 't', 'client-secret': 's' }).apiBase).toBe('https://api.hubapi.com')
  })
})
