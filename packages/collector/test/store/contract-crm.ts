// Contract cases of the CRM connections and their webhook inbox, called from storeContract so every
// implementation runs them (the inbox surviving a reopen is the durability promise of a webhook's 200).

import { describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/types.js'
import { makeSite, rid } from './fixtures.js'

export function crmContract(getStore: () => Store, reopen: () => Promise<Store>): void {
  describe('CRM connections and inbox', () => {
    it('adds, lists, records status and errors, and removes a connection with its inbox', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const id = `crm_${rid(12)}`
      const added = await store.addCrmConnection({ id, siteId: site.id, kind: 'hubspot', options: { token: 'v1.cipher', apiBase: 'https://x' }, writeBack: true, createdAt: 5000 })
      expect(added).toEqual({
        id, siteId: site.id, kind: 'hubspot', options: { token: 'v1.cipher', apiBase: 'https://x' }, writeBack: true, createdAt: 5000,
        cursor: null, lastEventAt: null, lastSyncAt: null, errors: 0, lastError: null, lastErrorAt: null,
      })
      await store.updateCrmStatus(id, { cursor: 'c1', lastSyncAt: 6000 })
      await store.updateCrmStatus(id, { error: { reason: 'HubSpot answered 500', at: 7000 } })
      await store.updateCrmStatus(id, { error: { reason: 'x'.repeat(2000), at: 8000 } })
      const got = await store.getCrmConnection(id)
      expect(got).toMatchObject({ cursor: 'c1', lastSyncAt: 6000, errors: 2, lastErrorAt: 8000 })
      expect(got?.lastError?.length).toBe(500)
      expect((await store.listCrmConnections()).map((c) => c.id)).toContain(id)
      await store.enqueueCrmInbox(id, [{ key: 'e1', item: '{}' }], 9000)
      expect(await store.removeCrmConnection(id)).toBe(true)
      expect(await store.removeCrmConnection(id)).toBe(false)
      expect(await store.getCrmConnection(id)).toBeNull()
      expect((await store.dueCrmInbox(Number.MAX_SAFE_INTEGER, 1000)).filter((e) => e.connectionId === id)).toEqual([])
    })

    it('keeps a redelivered item once, hands out due rows, retries later, and settles', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const id = `crm_${rid(12)}`
      await store.addCrmConnection({ id, siteId: site.id, kind: 'hubspot', options: {}, writeBack: false, createdAt: 1 })
      const before = await store.pendingCrmInbox()
      expect(await store.enqueueCrmInbox(id, [{ key: 'a', item: '{"n":1}' }, { key: 'b', item: '{"n":2}' }], 10_000)).toEqual({ stored: 2, duplicates: 0 })
      expect(await store.enqueueCrmInbox(id, [{ key: 'a', item: '{"n":99}' }], 11_000)).toEqual({ stored: 0, duplicates: 1 })
      expect((await store.getCrmConnection(id))?.lastEventAt).toBe(11_000)
      expect(await store.pendingCrmInbox()).toBe(before + 2)
      const mine = async (now: number) => (await store.dueCrmInbox(now, 1000)).filter((e) => e.connectionId === id)
      expect(await mine(9_999)).toEqual([])
      const due = await mine(10_000)
      expect(due.map((e) => e.item).sort()).toEqual(['{"n":1}', '{"n":2}'])
      const [a, b] = due
      await store.settleCrmInbox(a.id, { status: 'retry', at: 20_000, reason: '429' })
      await store.settleCrmInbox(b.id, { status: 'done' })
      expect(await mine(19_999)).toEqual([])
      expect(await mine(20_000)).toEqual([{ ...a, attempts: 1 }])
      await store.settleCrmInbox(a.id, { status: 'failed', reason: 'gone' })
      expect(await mine(Number.MAX_SAFE_INTEGER)).toEqual([])
      expect(await store.pendingCrmInbox()).toBe(before)
      // Settled rows still recognise a redelivery until pruned.
      expect(await store.enqueueCrmInbox(id, [{ key: 'b', item: '{}' }], 12_000)).toEqual({ stored: 0, duplicates: 1 })
      expect(await store.pruneCrmInbox(10_001)).toBeGreaterThanOrEqual(2)
      expect(await store.enqueueCrmInbox(id, [{ key: 'b', item: '{}' }], 13_000)).toEqual({ stored: 1, duplicates: 0 })
    })

    it('keeps unprocessed inbox rows across close and reopen', async () => {
      let store = getStore()
      const { site } = await makeSite(store)
      const id = `crm_${rid(12)}`
      await store.addCrmConnection({ id, siteId: site.id, kind: 'hubspot', options: {}, writeBack: false, createdAt: 1 })
      await store.enqueueCrmInbox(id, [{ key: 'survivor', item: '{"deal":"42"}' }], 50_000)
      store = await reopen()
      const due = (await store.dueCrmInbox(50_000, 1000)).filter((e) => e.connectionId === id)
      expect(due).toMatchObject([{ item: '{"deal":"42"}', attempts: 0, receivedAt: 50_000 }])
    })
  })
}
