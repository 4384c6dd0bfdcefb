// Keying the stored match keys (Store.rekeyMatchHashes), on a database of its own: the step is
// store-wide and runs once, so it cannot share the suite's store. Written only against `Store`.

import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { DealWrite } from '../../src/outcomes/types.js'
import type { IdentityKey, Store } from '../../src/store/types.js'
import { emailKey, event, externalKey, makeSite, phoneKey, touch } from './fixtures.js'

const T = Date.UTC(2026, 0, 1)
const DAY = 86_400_000

function deal(dealId: string, extra: Partial<DealWrite>): DealWrite {
  return { dealId, match: { leadId: null, keys: [] }, stage: 'won', crmStage: 'WON', amount: 100, originalAmount: 100, originalCurrency: null, ts: T + 9 * DAY, ...extra }
}

/** `open` opens (or reopens) a migrated store on one new, empty database; `done` closes nothing and removes it. */
export function rekeyContract(freshDatabase: () => Promise<{ open(): Promise<Store>; done(): Promise<void> }>): void {
  describe('keying stored match keys', () => {
    it('rewrites every stored key once; old leads and pending deals still match under the keyed form', async () => {
      const db = await freshDatabase()
      const store = await db.open()
      try {
        const secret = randomBytes(32)
        const rekey = (h: string): string => createHmac('sha256', secret).update(h).digest('hex')
        const keyed = (k: IdentityKey): IdentityKey => ({ kind: k.kind, hash: rekey(k.hash) })
        const { site } = await makeSite(store)
        const other = await makeSite(store)
        await store.ingest([event(site.id, 'v-ada', T, { touch: touch(T) }), event(other.site.id, 'v-ada-2', T, { touch: touch(T) })])
        // Written as before keying: plain SHA-256 keys (the fixtures' hashes).
        const ada = await store.identify({ siteId: site.id, visitorId: 'v-ada', keys: [emailKey('ada@x.example'), phoneKey('+14155550132'), externalKey('crm-ada')], ts: T + DAY })
        const ada2 = await store.identify({ siteId: other.site.id, visitorId: 'v-ada-2', keys: [emailKey('ada@x.example')], ts: T + DAY })
        await store.upsertDeals(site.id, [
          deal('pending-email', { match: { leadId: null, keys: [emailKey('bob@x.example')] } }),
          deal('pending-external', { match: { leadId: null, keys: [externalKey('crm-carol')] } }),
          deal('committee', { match: { leadId: ada.leadId, keys: [] }, contacts: [{ leadId: null, keys: [emailKey('dan@x.example')] }, { leadId: null, keys: [externalKey('crm-erin')] }] }),
        ])

        let calls = 0
        // 4 identities, 2 pending deals' keys, 2 pending contacts' keys.
        expect(await store.rekeyMatchHashes((h) => { calls++; return rekey(h) })).toBe(8)
        expect(calls).toBeGreaterThan(0)

        // The old lead is found by each of its keys in keyed form, no longer by the plain ones.
        for (const k of [emailKey('ada@x.example'), phoneKey('+14155550132'), externalKey('crm-ada')]) {
          expect(await store.findLeadByKey(site.id, keyed(k))).toBe(ada.leadId)
          expect(await store.findLeadByKey(site.id, k)).toBeNull()
        }
        expect(await store.findLeadByKey(other.site.id, keyed(emailKey('ada@x.example')))).toBe(ada2.leadId)
        // identify with a keyed key joins the old lead rather than making a new one.
        const again = await store.identify({ siteId: site.id, visitorId: 'v-ada-phone', keys: [keyed(phoneKey('+14155550132'))], ts: T + 2 * DAY })
        expect(again.leadId).toBe(ada.leadId)

        // Pending deals and contacts link when their people identify with keyed keys.
        const bob = await store.identify({ siteId: site.id, visitorId: 'v-bob', keys: [keyed(emailKey('bob@x.example'))], ts: T + 3 * DAY })
        expect((await store.getDeals(site.id, bob.leadId)).map((d) => d.dealId)).toEqual(['pending-email'])
        const carol = await store.identify({ siteId: site.id, visitorId: 'v-carol', keys: [keyed(externalKey('crm-carol'))], ts: T + 3 * DAY })
        expect((await store.getDeals(site.id, carol.leadId)).map((d) => d.dealId)).toEqual(['pending-external'])
        const dan = await store.identify({ siteId: site.id, visitorId: 'v-dan', keys: [keyed(emailKey('dan@x.example'))], ts: T + 3 * DAY })
        const erin = await store.identify({ siteId: site.id, visitorId: 'v-erin', keys: [keyed(externalKey('crm-erin'))], ts: T + 3 * DAY })
        const data = await store.loadReportData(site.id, { touchesFrom: null, touchesTo: null })
        expect(data.journeys.find((j) => j.id === ada.leadId)?.deals?.find((d) => d.dealId === 'committee')?.leads).toEqual([ada.leadId, dan.leadId, erin.leadId])

        // Once only: a second run changes nothing and never calls the function.
        let later = 0
        expect(await store.rekeyMatchHashes((h) => { later++; return `${h}!` })).toBe(0)
        expect(later).toBe(0)
        expect(await store.findLeadByKey(site.id, keyed(emailKey('ada@x.example')))).toBe(ada.leadId)
      } finally {
        await store.close()
        await db.done()
      }
    })

    it('runs once when two stores on one database start at once', async () => {
      const db = await freshDatabase()
      const setup = await db.open()
      const { site } = await makeSite(setup)
      await setup.identify({ siteId: site.id, keys: [emailKey('race@x.example')], ts: T })
      await setup.close()
      const [a, b] = [await db.open(), await db.open()]
      try {
        const rekey = (h: string): string => createHmac('sha256', 'k').update(h).digest('hex')
        const results = await Promise.all([a.rekeyMatchHashes(rekey), b.rekeyMatchHashes(rekey)])
        expect(results.sort()).toEqual([0, 1])
        expect(await a.findLeadByKey(site.id, { kind: 'email', hash: rekey(emailKey('race@x.example').hash) })).not.toBeNull()
      } finally {
        await a.close()
        await b.close()
        await db.done()
      }
    })
  })
}
