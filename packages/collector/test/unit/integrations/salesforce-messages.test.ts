// Salesforce outbound messages without a server: the strict XML reader, the documented SOAP
// example → inbox items, and the checks of path token and OrganizationId.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { CrmConnection, InboundRequest } from '../../../src/integrations/crm/adapter.js'
import { salesforceAdapter, type SalesforceOptions } from '../../../src/integrations/crm/salesforce.js'
import { parseXml } from '../../../src/integrations/xml.js'

const FIXTURE = readFileSync(join(import.meta.dirname, '../../fixtures/salesforce/outbound-opportunity.xml'))
const TOKEN = 'abcdefghijklmnopqrstuvwxyz012345'

function connection(over: Record<string, string> = {}): CrmConnection<SalesforceOptions> {
  const options = salesforceAdapter.parseOptions({
    'instance-url': 'https://acme.my.salesforce.com', 'access-token': 't', 'org-id': '00Dxx0000001gEREAY', 'email-field': 'Contact_Email__c', 'path-token': TOKEN, ...over,
  })
  return { id: 'crm_1', siteId: 's', kind: 'salesforce', options, writeBack: false }
}

const request = (body: Buffer | string, pathToken?: string): InboundRequest =>
  ({ method: 'POST', url: 'https://cl.example.com/v1/crm/salesforce/crm_1/x', headers: {}, rawBody: Buffer.from(body), ...(pathToken !== undefined ? { pathToken } : {}) })

function codeOf(f: () => unknown): string {
  try { f() } catch (err) { return `${(err as { code?: string }).code}: ${(err as Error).message}` }
  return 'no error'
}

describe('XML reader', () => {
  it('resolves namespaces, decodes entities and CDATA, and keeps attributes', () => {
    const root = parseXml('<?xml version="1.0"?><!-- c --><a:r xmlns:a="urn:a" xmlns="urn:d" x=\'1 &amp; 2\'><b>x &lt;&#65;&#x42;&gt; <![CDATA[<raw>&amp;]]></b><a:c/></a:r>')
    expect([root.name, root.ns, root.attrs.x]).toEqual(['r', 'urn:a', '1 & 2'])
    expect(root.children.map((c) => [c.name, c.ns, c.text])).toEqual([['b', 'urn:d', 'x <AB> <raw>&amp;'], ['c', 'urn:a', '']])
  })

  it.each([
    ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', /DOCTYPE is not allowed/],
    ['<a>&x;</a>', /unknown or invalid entity "&x;"/],
    ['<a>fish & chips</a>', /bare "&"/],
    ['<a><b></a>', /<\/a> closes <b>/],
    ['<a>', /<a> is not closed/],
    ['<p:a/>', /undeclared namespace prefix "p"/],
    ['<a/><b/>', /content after the root element/],
    ['<a x=1/>', /must be quoted/],
    ['<a><?php x ?></a>', /processing instructions are not allowed/],
    ['', /no root element/],
    ['<a>&#0;</a>', /invalid entity/],
  ])('refuses %s', (xml, reason) => {
    expect(() => parseXml(xml)).toThrow(reason)
  })

  it('bounds size and depth', () => {
    expect(() => parseXml(`<a>${'x'.repeat(2000)}</a>`, { maxBytes: 1000 })).toThrow(/larger than 1000 bytes/)
    expect(() => parseXml(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`)).toThrow(/nest deeper than 32/)
  })
})

describe('Salesforce outbound messages', () => {
  it('turns the documented example into one inbox item per notification, with the whole deal', () => {
    const items = salesforceAdapter.parse(FIXTURE, connection())
    expect(items).toEqual([
      {
        object: 'deal', id: '006xx000001Sv6tAAC', change: 'changed', occurredAt: Date.UTC(2026, 2, 15, 10, 30), eventId: '04lxx0000000001AAA',
        deal: {
          id: '006xx000001Sv6tAAC', stage: { id: 'Signed & Countersigned', label: 'Signed & Countersigned', closed: 'won' }, amount: 12000.5, currency: 'USD',
          closeDate: Date.UTC(2026, 2, 15, 10, 30), modifiedAt: Date.UTC(2026, 2, 15, 10, 30), contacts: [{ id: '006xx000001Sv6tAAC', email: 'Ada@Acme.example', visitorId: null }],
        },
      },
      expect.objectContaining({ id: '006xx000001Sv6uAAC', eventId: '04lxx0000000002AAA', deal: expect.objectContaining({ amount: null, stage: { id: 'Proposal/Price Quote', label: 'Proposal/Price Quote', closed: null } }) }),
    ])
  })

  it('dates a closed deal within its CloseDate day: at the closing change on that day, else at the day\'s end', () => {
    const closeOf = (closeDate: string, modstamp: string, won = 'true') => {
      const xml = FIXTURE.toString('utf8')
        .replace('<sf:CloseDate>2026-03-15</sf:CloseDate>', `<sf:CloseDate>${closeDate}</sf:CloseDate>`)
        .replace('<sf:SystemModstamp>2026-03-15T10:30:00.000Z</sf:SystemModstamp>', `<sf:SystemModstamp>${modstamp}</sf:SystemModstamp>`)
        .replace('<sf:IsWon>true</sf:IsWon>', `<sf:IsWon>${won}</sf:IsWon>`)
      return salesforceAdapter.parse(Buffer.from(xml), connection())[0].deal!.closeDate
    }
    // Backdated: marked won the next morning, dated at the end of the day it names.
    expect(closeOf('2026-03-14', '2026-03-15T08:00:00.000Z')).toBe(Date.UTC(2026, 2, 15) - 1)
    // Closed ahead of a CloseDate still in the future: that day's start, as Salesforce has it.
    expect(closeOf('2026-03-20', '2026-03-15T08:00:00.000Z')).toBe(Date.UTC(2026, 2, 20))
    // Lost is closed too.
    expect(closeOf('2026-03-15', '2026-03-15T16:45:00.000Z', 'false')).toBe(Date.UTC(2026, 2, 15, 16, 45))
  })

  it('leaves the deal to a REST read when the message has neither the e-mail field nor a visitor ID', () => {
    const items = salesforceAdapter.parse(FIXTURE, connection({ 'email-field': 'Other_Email__c' }))
    expect(items.map((i) => [i.id, i.deal])).toEqual([['006xx000001Sv6tAAC', undefined], ['006xx000001Sv6uAAC', undefined]])
    const withVisitor = Buffer.from(FIXTURE.toString().replace('<sf:IsClosed>true', '<sf:cl_visitor_id__c>Vis1tor_FormSent-0001</sf:cl_visitor_id__c><sf:IsClosed>true'))
    expect(salesforceAdapter.parse(withVisitor, connection({ 'email-field': 'Other_Email__c' }))[0].deal?.contacts)
      .toEqual([{ id: '006xx000001Sv6tAAC', email: null, visitorId: 'Vis1tor_FormSent-0001' }])
  })

  it('answers a SOAP Ack in text/xml', () => {
    const reply = salesforceAdapter.inboundReply!([])
    expect([reply.status, reply.contentType]).toEqual([200, 'text/xml; charset=utf-8'])
    expect(reply.body).toContain('<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>')
  })

  it('checks the path token and the OrganizationId (15 or 18 characters)', () => {
    expect(salesforceAdapter.verify(request(FIXTURE, TOKEN), connection(), 0)).toEqual({ ok: true })
    expect(salesforceAdapter.verify(request(FIXTURE, TOKEN), connection({ 'org-id': '00Dxx0000001gER' }), 0)).toEqual({ ok: true })
    expect(salesforceAdapter.verify(request(FIXTURE, `${TOKEN}x`), connection(), 0)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' })
    expect(salesforceAdapter.verify(request(FIXTURE), connection(), 0)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' })
    expect(salesforceAdapter.verify(request(FIXTURE, TOKEN), connection({ 'org-id': '00Dxx0000001gEQ' }), 0)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE', message: expect.stringMatching(/OrganizationId/) })
  })

  it('refuses bodies it cannot read with CL_ERR_VALIDATION and the reason', () => {
    const c = connection()
    expect(codeOf(() => salesforceAdapter.parse(Buffer.from('{"json":true}'), c))).toMatch(/^CL_ERR_VALIDATION: Outbound message is not well-formed XML/)
    expect(codeOf(() => salesforceAdapter.parse(Buffer.from('<Envelope/>'), c))).toMatch(/^CL_ERR_VALIDATION: Outbound message must be a SOAP 1.1 Envelope/)
    expect(codeOf(() => salesforceAdapter.parse(Buffer.from(FIXTURE.toString().replace(/http:\/\/soap\.sforce\.com\/2005\/09\/outbound/, 'urn:other')), c))).toMatch(/no notifications element/)
    expect(codeOf(() => salesforceAdapter.parse(Buffer.from(FIXTURE.toString().replace('<Id>04lxx0000000001AAA</Id>', '<Id>1; DROP</Id>')), c))).toMatch(/Notification 0: Id must be a Salesforce ID/)
  })

  it('validates the options of crm add', () => {
    const base = { 'instance-url': 'https://acme.my.salesforce.com', 'org-id': '00Dxx0000001gEREAY', 'path-token': TOKEN }
    expect(codeOf(() => salesforceAdapter.parseOptions({ ...base }))).toMatch(/CL_ERR_BAD_CONFIG: --client-id and --client-secret .* or --access-token are required/)
    expect(codeOf(() => salesforceAdapter.parseOptions({ ...base, 'client-id': 'x' }))).toMatch(/go together/)
    expect(codeOf(() => salesforceAdapter.parseOptions({ ...base, 'access-token': 't', 'org-id': '001xx0000001gER' }))).toMatch(/--org-id must be/)
    expect(codeOf(() => salesforceAdapter.parseOptions({ ...base, 'access-token': 't', 'email-field': "Email' OR Id != '" }))).toMatch(/--email-field must be a field API name/)
    expect(codeOf(() => salesforceAdapter.parseOptions({ ...base, 'access-token': 't', 'api-version': '60' }))).toMatch(/--api-version/)
    expect(codeOf(() => salesforceAdapter.parseOptions({ ...base, 'access-token': 't', 'path-token': 'short' }))).toMatch(/--path-token must be 16 to 96/)
    expect(codeOf(() => salesforceAdapter.parseOptions({ ...base, 'access-token': 't', 'path-token': 'x'.repeat(97) }))).toMatch(/--path-token/)
    expect(salesforceAdapter.parseOptions({ ...base, 'client-id': 'id', 'client-secret': 's', 'api-version': '59.0', 'instance-url': 'https://acme.my.salesforce.com/' }))
      .toMatchObject({ instanceUrl: 'https://acme.my.salesforce.com', apiVersion: 'v59.0', auth: { kind: 'client', clientId: 'id' }, emailField: null })
  })
})
