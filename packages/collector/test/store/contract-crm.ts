// Contract cases of the CRM connections, their webhook inbox and their write-back outbox, called from storeContract so every
// implementation runs them (the inbox surviving a reopen is the durability promise of a webhook's 200).

import { describe, expect, it } from 'vitest'
import type { CrmOutboxWrite, Store } from '../../src/store/types.js'
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

  describe('CRM write-back outbox', () => {
    const FAR = 2 ** 50
    const contact = (connectionId: string, target: string, fields: Record<string, unknown>, over: Partial<CrmOutboxWrite> = {}): CrmOutboxWrite =>
      ({ connectionId, object: 'contact', target, contactId: null, emailEnc: 'v1.email-cipher', fields: JSON.stringify(fields), ...over })
    const connection = async (store: Store): Promise<string> => {
      const { site } = await makeSite(store)
      const id = `crm_${rid(12)}`
      await store.addCrmConnection({ id, siteId: site.id, kind: 'hubspot', options: {}, writeBack: true, createdAt: 1 })
      return id
    }
    const countsOf = async (store: Store, id: string) => (await store.crmOutboxCounts()).find((c) => c.connectionId === id)

    it('coalesces writes per record, claims due rows once per lease, and settles by version', async () => {
      const store = getStore()
      const id = await connection(store)
      const mine = async (now: number, lease = 60_000) => (await store.dueCrmOutbox(now, 1000, lease)).filter((e) => e.connectionId === id)
      expect(await store.enqueueCrmOutbox([contact(id, 'lead_1', { n: 1 }), { connectionId: id, object: 'deal', target: '77', contactId: null, emailEnc: null, fields: '{"d":1}' }], 1000)).toBe(2)
      // A newer write for the same lead replaces the fields; the stored e-mail and a known contact ID are kept.
      expect(await store.enqueueCrmOutbox([contact(id, 'lead_1', { n: 2 }, { contactId: '501' })], 1500)).toBe(1)
      expect(await store.enqueueCrmOutbox([contact(id, 'lead_1', { n: 3 }, { emailEnc: null })], 2000)).toBe(1)
      expect(await mine(999)).toEqual([])
      const due = await mine(2000)
      expect(due).toHaveLength(2)
      const c = due.find((e) => e.object === 'contact')!
      expect(c).toMatchObject({ target: 'lead_1', contactId: '501', emailEnc: 'v1.email-cipher', fields: '{"n":3}', version: 3, attempts: 0, queuedAt: 2000 })
      const d = due.find((e) => e.object === 'deal')!
      expect(d).toMatchObject({ target: '77', contactId: null, emailEnc: null, fields: '{"d":1}', version: 1, queuedAt: 1000 })
      // Claimed: not handed out again within the lease, handed out again after it (a crashed delivery).
      expect(await mine(2000)).toEqual([])
      expect((await mine(62_000)).map((e) => e.id).sort()).toEqual([c.id, d.id].sort())
      expect(await countsOf(store, id)).toEqual({ connectionId: id, sent: 0, pending: 2, failed: 0, lastError: null, lastErrorAt: null })

      // A write that arrives while a delivery is in flight wins: settling the old version changes nothing.
      expect(await store.enqueueCrmOutbox([contact(id, 'lead_1', { n: 4 })], 63_000)).toBe(1)
      expect(await store.settleCrmOutbox(c.id, 3, { status: 'sent', at: 63_001 })).toBe(false)
      const again = await mine(63_000)
      expect(again).toMatchObject([{ id: c.id, fields: '{"n":4}', version: 4 }])
      expect(await store.settleCrmOutbox(c.id, 4, { status: 'sent', at: 63_002 })).toBe(true)
      // An identical repeat of a sent row is not sent again; a changed one is.
      expect(await store.enqueueCrmOutbox([contact(id, 'lead_1', { n: 4 })], 64_000)).toBe(0)
      expect(await mine(FAR)).toHaveLength(1)

      // Retry keeps the row pending until its time; failure is final until a newer write.
      expect(await store.settleCrmOutbox(d.id, 1, { status: 'retry', at: 70_000, next: 80_000, reason: 'HubSpot answered 429' })).toBe(true)
      expect(await countsOf(store, id)).toEqual({ connectionId: id, sent: 1, pending: 1, failed: 0, lastError: 'HubSpot answered 429', lastErrorAt: 70_000 })
    })

    it('retries at the settled time, fails with the reason, revives a failed row on a new write, and prunes', async () => {
      const store = getStore()
      const id = await connection(store)
      const mine = async (now: number) => (await store.dueCrmOutbox(now, 1000, 1)).filter((e) => e.connectionId === id)
      await store.enqueueCrmOutbox([contact(id, 'lead_2', { a: 1 })], 10_000)
      const [row] = await mine(10_000)
      expect(await store.settleCrmOutbox(row.id, row.version, { status: 'retry', at: 10_100, next: 20_000, reason: '429' })).toBe(true)
      // The same values again do not cut the wait short.
      expect(await store.enqueueCrmOutbox([contact(id, 'lead_2', { a: 1 })], 10_200)).toBe(0)
      expect(await mine(19_999)).toEqual([])
      const [retried] = await mine(20_000)
      expect(retried).toMatchObject({ id: row.id, attempts: 1, version: row.version, queuedAt: 10_000 })
      expect(await store.settleCrmOutbox(row.id, row.version, { status: 'failed', at: 20_100, reason: 'x'.repeat(900) })).toBe(true)
      expect(await mine(FAR)).toEqual([])
      const counts = await countsOf(store, id)
      expect(counts).toMatchObject({ sent: 0, pending: 0, failed: 1, lastErrorAt: 20_100 })
      expect(counts?.lastError?.length).toBe(500)
      // A failed row is tried again when its record changes again, even with the same values.
      expect(await store.enqueueCrmOutbox([contact(id, 'lead_2', { a: 1 })], 30_000)).toBe(1)
      const [revived] = await mine(30_000)
      expect(revived).toMatchObject({ attempts: 0, queuedAt: 30_000, version: row.version + 1 })
      expect(await store.settleCrmOutbox(revived.id, revived.version, { status: 'sent', at: 30_500 })).toBe(true)
      expect(await store.pruneCrmOutbox(30_500)).toBe(0)
      expect(await store.pruneCrmOutbox(30_501)).toBeGreaterThanOrEqual(1)
      expect(await countsOf(store, id)).toBeUndefined()
    })

    it('hands each due row to one of several claims running at once (collectors sharing the database)', async () => {
      const store = getStore()
      const id = await connection(store)
      const rows = Array.from({ length: 30 }, (_, i) => contact(id, `lead_c${i}`, { i }))
      expect(await store.enqueueCrmOutbox(rows, 90_000)).toBe(30)
      const claims = await Promise.all([0, 1, 2].map(() => store.dueCrmOutbox(90_000, 12, 60_000)))
      const mine = claims.flat().filter((e) => e.connectionId === id).map((e) => e.target)
      expect(new Set(mine).size).toBe(mine.length)
      expect(mine.length).toBeLessThanOrEqual(30)
      // Whatever no claim took is still there for the next one; nothing is handed out twice.
      const rest = (await store.dueCrmOutbox(90_000, 100, 60_000)).filter((e) => e.connectionId === id).map((e) => e.target)
      expect([...mine, ...rest].sort()).toEqual(rows.map((r) => r.target).sort())
    })

    it('keeps pending write-backs across close and reopen, and removes them with the connection', async () => {
      let store = getStore()
      const id = await connection(store)
      await store.enqueueCrmOutbox([contact(id, 'lead_3', { z: 1 })], 40_000)
      store = await reopen()
      const due = (await store.dueCrmOutbox(40_000, 1000, 1000)).filter((e) => e.connectionId === id)
      expect(due).toMatchObject([{ target: 'lead_3', fields: '{"z":1}', attempts: 0 }])
      expect(await store.removeCrmConnection(id)).toBe(true)
      expect(await countsOf(store, id)).toBeUndefined()
    })
  })
}
