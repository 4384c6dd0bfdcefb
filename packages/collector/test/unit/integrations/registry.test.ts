import { describe, expect, it } from 'vitest'
import { ClError } from '../../../src/errors.js'
import type { CrmAdapter, CrmConnection } from '../../../src/integrations/crm/adapter.js'
import { createCrmRegistry, crmAdapter, crmRegistry } from '../../../src/integrations/crm/registry.js'
import { API_KINDS, DESTINATION_KINDS, FEED_KINDS, isFeedAdapter, type ApiDestinationAdapter, type FeedDestinationAdapter } from '../../../src/integrations/destinations/adapter.js'
import { createDestinationRegistry, destinationAdapter, destinationRegistry } from '../../../src/integrations/destinations/registry.js'

interface StubOptions { token: string }

function stubCrm(kind: CrmAdapter['kind']): CrmAdapter<StubOptions> {
  return {
    kind,
    secretOptions: ['token'],
    parseOptions: (raw) => ({ token: String(raw.token ?? '') }),
    verify: (request, connection: CrmConnection<StubOptions>) =>
      request.headers['x-token'] === connection.options.token ? { ok: true } : { ok: false, error: 'BAD_SIGNATURE' },
    parse: () => [],
    readDeal: async () => null,
    fetch: async () => ({ deals: [], cursor: null, more: false }),
    writeBack: async () => ({ status: 'sent' }),
  }
}

const metaStub: ApiDestinationAdapter<null> = {
  kind: 'meta',
  secretOptions: [],
  parseOptions: () => null,
  matchable: () => ({ by: 'identity' }),
  buildBatch: () => ({ requests: [] }),
  send: async () => [],
}

const feedStub: FeedDestinationAdapter<null> = {
  kind: 'google-ads-feed',
  secretOptions: [],
  parseOptions: () => null,
  matchable: () => null,
  feed: () => 'Google Click ID\n',
}

function thrown(f: () => unknown): ClError {
  try { f() } catch (err) { if (err instanceof ClError) return err; throw err }
  throw new Error('did not throw')
}

describe('CRM registry', () => {
  it('finds the adapter of a registered kind', () => {
    const hubspot = stubCrm('hubspot')
    const registry = createCrmRegistry([hubspot, stubCrm('pipedrive')])
    expect(registry.get('hubspot')).toBe(hubspot)
    expect(registry.get('pipedrive').kind).toBe('pipedrive')
    expect(registry.available()).toEqual(['hubspot', 'pipedrive'])
    const connection = { id: 'c1', siteId: 's1', kind: 'hubspot' as const, options: hubspot.parseOptions({ token: 't' }), writeBack: false }
    const request = { method: 'POST', url: '/v1/crm/hubspot/c1', headers: { 'x-token': 'nope' }, rawBody: Buffer.from('[]') }
    expect(registry.get('hubspot').verify(request, connection, 0)).toEqual({ ok: false, error: 'BAD_SIGNATURE' })
  })

  it('answers an unknown kind, or a kind without a connector, with CL_ERR_UNKNOWN_CRM_KIND', () => {
    const registry = createCrmRegistry([stubCrm('hubspot')])
    const unknown = thrown(() => registry.get('zoho'))
    expect([unknown.code, unknown.status]).toEqual(['CL_ERR_UNKNOWN_CRM_KIND', 400])
    expect(unknown.message).toBe('Unknown CRM kind "zoho"; use one of hubspot, salesforce, pipedrive')
    const missing = thrown(() => registry.get('salesforce'))
    expect(missing.code).toBe('CL_ERR_UNKNOWN_CRM_KIND')
    expect(missing.message).toContain('No CRM adapter for kind "salesforce"')
    // Lookups go by own kinds only, not by anything an object inherits.
    expect(thrown(() => registry.get('__proto__')).code).toBe('CL_ERR_UNKNOWN_CRM_KIND')
    expect(thrown(() => registry.get('constructor')).code).toBe('CL_ERR_UNKNOWN_CRM_KIND')
    expect(registry.isKind('salesforce')).toBe(true)
    expect(registry.isKind('HubSpot')).toBe(false)
  })

  it('refuses two adapters of one kind', () => {
    expect(() => createCrmRegistry([stubCrm('hubspot'), stubCrm('hubspot')])).toThrow(/two CRM adapters of kind "hubspot"/)
  })

  it('has every CRM connector in this build', () => {
    expect(crmRegistry.available()).toEqual(['hubspot', 'salesforce', 'pipedrive'])
    for (const kind of ['hubspot', 'salesforce', 'pipedrive']) expect(crmAdapter(kind).kind).toBe(kind)
  })
})

describe('destination registry', () => {
  it('finds API and feed adapters by kind and tells them apart', () => {
    const registry = createDestinationRegistry([feedStub, metaStub])
    expect(registry.get('meta')).toBe(metaStub)
    const feed = registry.get('google-ads-feed')
    expect(isFeedAdapter(feed)).toBe(true)
    expect(isFeedAdapter(registry.get('meta'))).toBe(false)
    if (isFeedAdapter(feed)) expect(feed.feed([], { id: 'd', siteId: 's', kind: 'google-ads-feed', options: null, send: {} })).toBe('Google Click ID\n')
    // In the product's order, not registration order.
    expect(registry.available()).toEqual(['google-ads-feed', 'meta'])
  })

  it('answers an unknown kind with CL_ERR_UNKNOWN_DESTINATION_KIND', () => {
    const registry = createDestinationRegistry([metaStub])
    const unknown = thrown(() => registry.get('tiktok'))
    expect([unknown.code, unknown.status]).toEqual(['CL_ERR_UNKNOWN_DESTINATION_KIND', 400])
    expect(unknown.message).toBe('Unknown destination kind "tiktok"; use one of google-ads, google-ads-feed, microsoft-ads-feed, meta, linkedin')
    expect(thrown(() => registry.get('linkedin')).message).toContain('No destination adapter for kind "linkedin"')
    expect(destinationRegistry.available()).toEqual(['google-ads', 'google-ads-feed', 'microsoft-ads-feed', 'meta', 'linkedin'])
    expect(destinationAdapter('google-ads').kind).toBe('google-ads')
    expect(destinationAdapter('microsoft-ads-feed').kind).toBe('microsoft-ads-feed')
  })

  it('names every kind as either an API or a feed kind, never both', () => {
    expect([...API_KINDS, ...FEED_KINDS].sort()).toEqual([...DESTINATION_KINDS].sort())
    expect(API_KINDS.filter((k) => (FEED_KINDS as readonly string[]).includes(k))).toEqual([])
  })
})
