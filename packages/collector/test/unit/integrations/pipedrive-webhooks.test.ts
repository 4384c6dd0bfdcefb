// Pipedrive webhooks: the HTTP Basic pair set on the webhook, v2 bodies (the fixtures are shaped like
// Pipedrive's documented examples) and v1 bodies → inbox items, and the connection's options.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ClError } from '../../../src/errors.js'
import type { CrmConnection, InboundRequest } from '../../../src/integrations/crm/adapter.js'
import { parsePipedriveWebhook, pipedriveAdapter, type PipedriveOptions } from '../../../src/integrations/crm/pipedrive.js'

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../../fixtures/pipedrive', name), 'utf8')
const connection: CrmConnection<PipedriveOptions> = {
  id: 'crm_pd', siteId: 's', kind: 'pipedrive', writeBack: false,
  options: pipedriveAdapter.parseOptions({ 'api-token': 't', 'webhook-user': 'closeloop', 'webhook-password': 'pa:ss wörd' }),
}
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const request = (headers: Record<string, string>): InboundRequest => ({ method: 'POST', url: 'https://cl.example.com/v1/crm/pipedrive/crm_pd', headers, rawBody: Buffer.from('{}') })

function thrown(f: () => unknown): ClError {
  try { f() } catch (err) { if (err instanceof ClError) return err; throw err }
  throw new Error('did not throw')
}

describe('Pipedrive webhook auth', () => {
  it('accepts the configured Basic pair (a password may hold ":" and non-ASCII)', () => {
    expect(pipedriveAdapter.verify(request({ authorization: basic('closeloop', 'pa:ss wörd') }), connection, 0)).toEqual({ ok: true })
    expect(pipedriveAdapter.verify(request({ authorization: `basic  ${Buffer.from('closeloop:pa:ss wörd').toString('base64')}` }), connection, 0)).toEqual({ ok: true })
  })

  it('refuses a missing, non-Basic, wrong or partial pair as BAD_SIGNATURE', () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer abc' },
      { authorization: basic('closeloop', 'wrong') },
      { authorization: basic('other', 'pa:ss wörd') },
      { authorization: basic('closeloop', 'pa:ss wörd ') },
      { authorization: basic('closeloop', 'pa') },
      { authorization: 'Basic !!!' },
    ]) {
      const v = pipedriveAdapter.verify(request(headers), connection, 0)
      expect(v).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' })
    }
  })
})

describe('Pipedrive webhook bodies', () => {
  it('turns the v2 deal change, create and delete, and person change into inbox items keyed by meta.id', () => {
    expect(parsePipedriveWebhook(Buffer.from(fixture('webhook-v2-deal-change.json')))).toEqual([
      { object: 'deal', id: '1001', change: 'changed', occurredAt: Date.parse('2026-03-15T10:00:01.482Z'), eventId: '2b5c9e3f-0a41-4d8e-b1f7-6c2d9a0e4b12' },
    ])
    expect(parsePipedriveWebhook(Buffer.from(fixture('webhook-v2-deal-create.json')))).toMatchObject([{ object: 'deal', id: '1002', change: 'created', eventId: 'c7e1f2a3-b4c5-4d6e-8f90-a1b2c3d4e5f6' }])
    expect(parsePipedriveWebhook(Buffer.from(fixture('webhook-v2-deal-delete.json')))).toMatchObject([{ object: 'deal', id: '1003', change: 'deleted' }])
    expect(parsePipedriveWebhook(Buffer.from(fixture('webhook-v2-person-change.json')))).toMatchObject([{ object: 'contact', id: '503', change: 'changed', eventId: 'e1d2c3b4-a596-4877-9869-5a4b3c2d1e0f' }])
  })

  it('skips objects Closeloop does not read (organizations, activities, new or deleted persons)', () => {
    const body = JSON.parse(fixture('webhook-v2-person-change.json')) as { meta: Record<string, unknown> }
    for (const meta of [{ entity: 'organization' }, { entity: 'activity', action: 'create' }, { action: 'create' }, { action: 'delete' }]) {
      expect(parsePipedriveWebhook(Buffer.from(JSON.stringify({ ...body, meta: { ...body.meta, ...meta } })))).toEqual([])
    }
  })

  it('reads v1 bodies too (no event ID: the inbox keys them by object, change and time)', () => {
    const v1 = { v: 1, matches_filters: { current: [] }, meta: { v: 1, action: 'updated', object: 'deal', id: 1001, company_id: 7001, user_id: 23001, host: 'acme.pipedrive.com', timestamp: 1773568801, timestamp_micro: 1773568801482000, permitted_user_ids: [23001], trans_pending: false, is_bulk_update: false, webhook_id: '88001' }, current: { id: 1001, status: 'won' }, previous: { id: 1001, status: 'open' }, retry: 0, event: 'updated.deal' }
    expect(parsePipedriveWebhook(Buffer.from(JSON.stringify(v1)))).toEqual([{ object: 'deal', id: '1001', change: 'changed', occurredAt: 1773568801482, eventId: null }])
    expect(parsePipedriveWebhook(Buffer.from(JSON.stringify({ ...v1, meta: { ...v1.meta, action: 'merged', object: 'person' } })))).toMatchObject([{ object: 'contact', change: 'changed' }])
  })

  it('refuses malformed bodies as VALIDATION with the reason', () => {
    const good = JSON.parse(fixture('webhook-v2-deal-change.json')) as { meta: Record<string, unknown> }
    const cases: Array<[string, RegExp]> = [
      ['not json', /not JSON/],
      ['[]', /JSON object/],
      ['{"data":{}}', /meta is required/],
      ['{"meta":{"foo":1}}', /meta must name the entity/],
      [JSON.stringify({ ...good, meta: { ...good.meta, entity_id: 'abc' } }), /entity_id/],
      [JSON.stringify({ ...good, meta: { ...good.meta, action: 'updated' } }), /create, change or delete/],
      [JSON.stringify({ ...good, meta: { ...good.meta, id: undefined } }), /meta\.id/],
      [JSON.stringify({ ...good, meta: { ...good.meta, timestamp: 'yesterday' } }), /timestamp/],
      [JSON.stringify({ meta: { version: '2.0', action: 'change' } }), /meta\.entity is required/],
    ]
    for (const [body, reason] of cases) {
      const e = thrown(() => parsePipedriveWebhook(Buffer.from(body)))
      expect([e.code, e.status]).toEqual(['CL_ERR_VALIDATION', 400])
      expect(e.message).toMatch(reason)
    }
  })
})

describe('Pipedrive options', () => {
  it('requires the API token and the webhook pair, and takes a company domain as API base', () => {
    const base = { 'api-token': 't', 'webhook-user': 'u', 'webhook-password': 'p' }
    expect(pipedriveAdapter.parseOptions(base).apiBase).toBe('https://api.pipedrive.com')
    expect(pipedriveAdapter.parseOptions({ ...base, 'api-base': 'https://acme.pipedrive.com/' }).apiBase).toBe('https://acme.pipedrive.com')
    expect(pipedriveAdapter.parseOptions({ ...base, 'api-base': 'https://acme.pipedrive.com/api/v1' }).apiBase).toBe('https://acme.pipedrive.com')
    for (const [raw, option] of [
      [{ ...base, 'api-token': undefined }, /--api-token/],
      [{ ...base, 'webhook-user': '' }, /--webhook-user/],
      [{ ...base, 'webhook-password': undefined }, /--webhook-password/],
      [{ ...base, 'webhook-user': 'a:b' }, /":"/],
      [{ ...base, 'api-base': 'acme.pipedrive.com' }, /--api-base/],
    ] as const) {
      const e = thrown(() => pipedriveAdapter.parseOptions(raw))
      expect(e.code).toBe('CL_ERR_BAD_CONFIG')
      expect(e.message).toMatch(option)
    }
    expect(pipedriveAdapter.secretOptions).toEqual(['api-token', 'webhook-password'])
  })
})
