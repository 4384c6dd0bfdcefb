// A local stand-in for the parts of Salesforce's APIs the connector calls, on 127.0.0.1:0 (real
// HTTP), in their documented shapes: the OAuth 2.0 token endpoint (client credentials, form
// body), REST sObject rows (GET all fields, PATCH → 204), SOQL queries with `nextRecordsUrl`
// paging, and errors as JSON arrays of {message, errorCode}: 401 INVALID_SESSION_ID for an
// unknown or expired token, 400 INVALID_FIELD for a field the org does not have, 404 NOT_FOUND.
// `failNext` answers 429/503/403 REQUEST_LIMIT_EXCEEDED with Retry-After. SOQL is matched for
// the few query shapes the connector sends; anything else is 400 MALFORMED_QUERY.
// `sendOutboundMessage` posts an Outbound Message of held opportunities the way Salesforce's
// workflow/flow action does: a SOAP 1.1 `notifications` envelope with the chosen fields.

import { createServer, type IncomingMessage, type Server } from 'node:http'
import { listenLocal } from './listen.js'

export const API = '/services/data/v60.0'

export interface StubContact {
  Id: string
  Email: string | null
  AccountName: string | null
  /** Only read when the org has the field (`visitorField`). */
  cl_visitor_id__c?: string | null
  [custom: string]: unknown
}

export interface SalesforceStub {
  url: string
  clientId: string
  clientSecret: string
  /** A fixed access token that always works (the --access-token way). */
  fixedToken: string
  opportunities: Map<string, Record<string, unknown>>
  contacts: Map<string, StubContact>
  roles: Array<{ OpportunityId: string; ContactId: string; IsPrimary: boolean }>
  /** Custom fields the admin created, per object: PATCH of others is 400 INVALID_FIELD. */
  customFields: { Contact: Set<string>; Opportunity: Set<string> }
  /** Whether Contact has cl_visitor_id__c (SOQL naming it otherwise is INVALID_FIELD). */
  visitorField: boolean
  /** Records per query page (Salesforce: 2000 by default). */
  pageSize: number
  calls: Array<{ method: string; path: string; body: string; authorization: string | undefined }>
  /** PATCH requests as received: the write-backs. */
  writes: Array<{ object: string; id: string; body: Record<string, unknown> }>
  tokensIssued: number
  /** The org's 18-character ID, as outbound messages carry it. */
  orgId: string
  /**
   * POSTs an Outbound Message to `endpoint` as Salesforce does: one Notification per held
   * opportunity, with its Id and the `fields` the message was set up to send (a field the row
   * lacks goes as xsi:nil). Resolves with the answer; Salesforce resends until it reads an Ack.
   */
  sendOutboundMessage(endpoint: string, opportunityIds: string[], fields: string[]): Promise<{ status: number; body: string }>
  /** Every issued token stops working (sessions expired). */
  expireTokens(): void
  failNext(n: number, retryAfter: number | null, status?: number, errorCode?: string): void
  close(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const xmlText = (v: unknown): string => String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export async function startSalesforceStub(opts: { clientId?: string; clientSecret?: string; fixedToken?: string; orgId?: string } = {}): Promise<SalesforceStub> {
  const clientId = opts.clientId ?? '3MVG9stubConsumerKey'
  const clientSecret = opts.clientSecret ?? 'stub-consumer-secret'
  const fixedToken = opts.fixedToken ?? '00Dstub!fixed.access.token'
  const valid = new Set<string>([fixedToken])
  const locators = new Map<string, Array<Record<string, unknown>>>()
  let failures: Array<{ retryAfter: number | null; status: number; errorCode: string }> = []
  let url = ''
  let notificationsSent = 0

  const stub: Omit<SalesforceStub, 'url' | 'close'> = {
    clientId, clientSecret, fixedToken, orgId: opts.orgId ?? '00Dxx0000001gEREAY',
    opportunities: new Map(), contacts: new Map(), roles: [],
    customFields: { Contact: new Set(), Opportunity: new Set() },
    visitorField: true,
    pageSize: 2000,
    calls: [], writes: [], tokensIssued: 0,
    expireTokens() { for (const t of [...valid]) if (t !== fixedToken) valid.delete(t) },
    failNext(n, retryAfter, status = 429, errorCode = 'REQUEST_LIMIT_EXCEEDED') {
      failures = Array.from({ length: n }, () => ({ retryAfter, status, errorCode }))
    },
    async sendOutboundMessage(endpoint, opportunityIds, fields) {
      const org = stub.orgId
      const notifications = opportunityIds.map((id) => {
        const row = stub.opportunities.get(id)
        if (!row) throw new Error(`no opportunity ${id} in the stub`)
        // Notification IDs are 04l… record IDs (18 characters), one per notification.
        const notificationId = `04lxx${String(++notificationsSent).padStart(10, '0')}AAA`
        const sObject = ['Id', ...fields.filter((f) => f !== 'Id')].map((f) => {
          const v = row[f]
          return v === undefined || v === null ? `<sf:${f} xsi:nil="true"/>` : `<sf:${f}>${xmlText(v)}</sf:${f}>`
        }).join('')
        return `<Notification><Id>${notificationId}</Id><sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">${sObject}</sObject></Notification>`
      })
      const envelope = '<?xml version="1.0" encoding="UTF-8"?>'
        + '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        + `<OrganizationId>${org}</OrganizationId><ActionId>04kxx0000000001AAA</ActionId><SessionId xsi:nil="true"/>`
        + `<EnterpriseUrl>${url}/services/Soap/c/60.0/${org.slice(0, 15)}</EnterpriseUrl><PartnerUrl>${url}/services/Soap/u/60.0/${org.slice(0, 15)}</PartnerUrl>`
        + notifications.join('')
        + '</notifications></soapenv:Body></soapenv:Envelope>'
      const r = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""', 'user-agent': 'Jakarta Commons-HttpClient/3.1' }, body: envelope })
      return { status: r.status, body: await r.text() }
    },
  }

  const page = (records: Array<Record<string, unknown>>, start: number): Record<string, unknown> => {
    const slice = records.slice(start, start + stub.pageSize)
    const done = start + stub.pageSize >= records.length
    let next: string | undefined
    if (!done) {
      const locator = `01gSTUB${locators.size + 1}`
      locators.set(locator, records)
      next = `${API}/query/${locator}-${start + stub.pageSize}`
    }
    return { totalSize: records.length, done, records: slice, ...(next ? { nextRecordsUrl: next } : {}) }
  }
  const attributes = (type: string, id: string) => ({ type, url: `${API}/sobjects/${type}/${id}` })

  /** The SOQL shapes the connector sends, answered from the stub's records. */
  function query(q: string): { status: number; body: unknown } {
    const invalid = (message: string, errorCode = 'MALFORMED_QUERY') => ({ status: 400, body: [{ message, errorCode }] })
    let m: RegExpExecArray | null
    if ((m = /^SELECT ContactId, Contact\.Email, Contact\.Account\.Name(, Contact\.cl_visitor_id__c)? FROM OpportunityContactRole WHERE OpportunityId = '(\w+)' ORDER BY IsPrimary DESC LIMIT (\d+)$/.exec(q))) {
      if (m[1] && !stub.visitorField) return invalid("No such column 'cl_visitor_id__c' on entity 'Contact'.", 'INVALID_FIELD')
      const roles = stub.roles.filter((r) => r.OpportunityId === m![2]).sort((a, b) => Number(b.IsPrimary) - Number(a.IsPrimary)).slice(0, Number(m[3]))
      return {
        status: 200,
        body: page(roles.map((r) => {
          const c = stub.contacts.get(r.ContactId)
          return {
            attributes: attributes('OpportunityContactRole', `00K${r.ContactId.slice(3)}`),
            ContactId: r.ContactId,
            Contact: c ? {
              attributes: attributes('Contact', c.Id), Email: c.Email,
              Account: c.AccountName !== null ? { attributes: attributes('Account', '001stub'), Name: c.AccountName } : null,
              ...(m![1] ? { cl_visitor_id__c: c.cl_visitor_id__c ?? null } : {}),
            } : null,
          }
        }), 0),
      }
    }
    if ((m = /^SELECT Id, SystemModstamp FROM Opportunity WHERE SystemModstamp >= (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ORDER BY SystemModstamp, Id$/.exec(q))) {
      const since = Date.parse(m[1])
      const t = (o: Record<string, unknown>) => Date.parse(String(o.SystemModstamp).replace(/\+0000$/, 'Z'))
      const rows = [...stub.opportunities.values()].filter((o) => t(o) >= since)
        .sort((a, b) => t(a) - t(b) || String(a.Id).localeCompare(String(b.Id)))
        .map((o) => ({ attributes: attributes('Opportunity', String(o.Id)), Id: o.Id, SystemModstamp: o.SystemModstamp }))
      return { status: 200, body: page(rows, 0) }
    }
    if ((m = /^SELECT Id FROM Contact WHERE Email = '((?:[^'\\]|\\.)*)' ORDER BY LastModifiedDate DESC LIMIT (\d+)$/.exec(q))) {
      const email = m[1].replace(/\\(.)/g, '$1').toLowerCase()
      const rows = [...stub.contacts.values()].filter((c) => c.Email?.toLowerCase() === email).slice(0, Number(m[2]))
      return { status: 200, body: page(rows.map((c) => ({ attributes: attributes('Contact', c.Id), Id: c.Id })), 0) }
    }
    return invalid(`unexpected query for this stub: ${q.slice(0, 200)}`)
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'http://stub')
      const body = await readBody(req)
      stub.calls.push({ method: req.method ?? '', path: u.pathname + u.search, body, authorization: req.headers.authorization })
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        if (status === 204) { res.writeHead(204, headers); res.end(); return }
        res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers })
        res.end(JSON.stringify(json))
      }
      const p = u.pathname
      if (req.method === 'POST' && p === '/services/oauth2/token') {
        const form = new URLSearchParams(body)
        if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return send(400, { error: 'invalid_request', error_description: 'content type must be application/x-www-form-urlencoded' })
        if (form.get('grant_type') !== 'client_credentials') return send(400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' })
        if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) return send(400, { error: 'invalid_client', error_description: 'invalid client credentials' })
        const token = `00Dstub!issued.${++stub.tokensIssued}`
        valid.add(token)
        return send(200, { access_token: token, signature: 'c3R1Yg==', scope: 'api', instance_url: url, id: `${url}/id/00Dxx0000001gEREAY/005xx000001Sv6AAAS`, token_type: 'Bearer', issued_at: String(Date.now()) })
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
      if (bearer === undefined || !valid.has(bearer)) return send(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }])
      const failure = failures.shift()
      if (failure) {
        const message = failure.errorCode === 'REQUEST_LIMIT_EXCEEDED' ? 'TotalRequests Limit exceeded.' : 'Server temporarily unavailable'
        return send(failure.status, [{ message, errorCode: failure.errorCode }], failure.retryAfter !== null ? { 'retry-after': String(failure.retryAfter) } : {})
      }
      let m: RegExpExecArray | null
      if (req.method === 'GET' && p === `${API}/query`) {
        const r = query(u.searchParams.get('q') ?? '')
        return send(r.status, r.body)
      }
      if (req.method === 'GET' && (m = /^\/services\/data\/v60\.0\/query\/(01g\w+)-(\d+)$/.exec(p))) {
        const records = locators.get(m[1])
        if (!records) return send(400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }])
        return send(200, page(records, Number(m[2])))
      }
      if ((m = /^\/services\/data\/v60\.0\/sobjects\/(Opportunity|Contact)\/(\w+)$/.exec(p))) {
        const [, type, id] = m
        const row = type === 'Opportunity' ? stub.opportunities.get(id) : stub.contacts.get(id)
        if (!row) return send(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }])
        if (req.method === 'GET') return send(200, { attributes: attributes(type, id), ...row })
        if (req.method === 'PATCH') {
          if (req.headers['content-type'] !== 'application/json') return send(415, [{ message: 'Unsupported Media Type', errorCode: 'UNSUPPORTED_MEDIA_TYPE' }])
          const fields = JSON.parse(body) as Record<string, unknown>
          const unknown = Object.keys(fields).find((f) => !stub.customFields[type as 'Contact' | 'Opportunity'].has(f))
          if (unknown !== undefined) return send(400, [{ message: `No such column '${unknown}' on sobject of type ${type}`, errorCode: 'INVALID_FIELD' }])
          stub.writes.push({ object: type, id, body: fields })
          Object.assign(row, fields)
          return send(204, null)
        }
      }
      send(404, [{ errorCode: 'NOT_FOUND', message: `The requested resource does not exist (stub: ${req.method} ${p})` }])
    })().catch((err: unknown) => {
      res.writeHead(500)
      res.end(String(err))
    })
  })
  const local = await listenLocal(server)
  url = local.url
  return Object.assign(stub, {
    url,
    close: local.close,
  })
}
