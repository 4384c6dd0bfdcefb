// The storage contract: one suite, written only against the `Store` interface, run
// against every implementation. Each test works in its own site, so tests share one store.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/types.js'
import { emailKey, event, externalKey, makeSite, phoneKey, touch } from './fixtures.js'
import { outcomesContract } from './contract-outcomes.js'
import { reconcileContract } from './contract-reconcile.js'
import { funnelContract } from './contract-funnel.js'
import { crmContract } from './contract-crm.js'
import { destinationsContract } from './contract-destinations.js'
import { rekeyContract } from './contract-rekey.js'

export { emailKey, event, externalKey, makeSite, phoneKey, touch } from './fixtures.js'

export interface StoreHarness {
  /** Open (or reopen) a migrated store on the same underlying database. */
  open(): Promise<Store>
  /** Remove the database after the suite; stores are closed first. */
  destroy(): Promise<void>
  /** A harness on another, new and empty database (for store-wide steps the suite cannot share). */
  another(): Promise<StoreHarness>
}

export function storeContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let harness: StoreHarness
    let store: Store

    beforeAll(async () => {
      harness = await makeHarness()
      store = await harness.open()
    })
    afterAll(async () => {
      await store?.close()
      await harness?.destroy()
    })

    describe('deals, spend, rates and report load', () => outcomesContract(() => store))
    reconcileContract(() => store)
    funnelContract(() => store)
    rekeyContract(async () => {
      const other = await harness.another()
      return { open: () => other.open(), done: () => other.destroy() }
    })
    crmContract(() => store, async () => {
      await store.close()
      store = await harness.open()
      return store
    })
    destinationsContract(() => store)

    describe('data version', () => {
      it('changes after every committed write, and only then', async () => {
        const v0 = await store.dataVersion()
        expect(await store.dataVersion()).toBe(v0)
        const { site } = await makeSite(store)
        const v1 = await store.dataVersion()
        expect(v1).not.toBe(v0)
        await store.ingest([event(site.id, 'dv-1', 1000)])
        expect(await store.dataVersion()).not.toBe(v1)
      })
    })

    describe('sites and keys', () => {
      it('creates a site and finds it by id, name, public key and secret key id', async () => {
        const { site, keyId, keyHash } = await makeSite(store)
        expect(site.origins).toEqual(['https://example.com'])
        expect(site.currency).toBe('USD')
        expect(await store.getSite(site.id)).toEqual(site)
        expect(await store.getSiteByName(site.name)).toEqual(site)
        expect(await store.getSiteByPublicKey(site.publicKey)).toEqual(site)
        expect(await store.getSiteBySecretKeyId(keyId)).toEqual({ site, secretKeyHash: keyHash })
        expect((await store.listSites()).map((s) => s.id)).toContain(site.id)
      })

      it('returns null for unknown keys and refuses a duplicate name', async () => {
        const { site } = await makeSite(store)
        expect(await store.getSite('nope')).toBeNull()
        expect(await store.getSiteByPublicKey('pk_unknown')).toBeNull()
        expect(await store.getSiteBySecretKeyId('unknown1')).toBeNull()
        await expect(makeSite(store, site.name)).rejects.toThrow()
      })

      it('updates origins, currency and settings', async () => {
        const { site } = await makeSite(store)
        const updated = await store.updateSite(site.id, {
          origins: ['https://a.example', 'https://b.example'], currency: 'EUR', settings: { stageMapping: { 'closed won': 'won' } },
        })
        expect(updated.origins).toEqual(['https://a.example', 'https://b.example'])
        expect(await store.getSite(site.id)).toEqual(updated)
        expect(updated.settings.stageMapping).toEqual({ 'closed won': 'won' })
        expect(updated.name).toBe(site.name)
      })
    })

    describe('ingest', () => {
      it('reports accepted and duplicate outcomes in input order, deduped per site', async () => {
        const { site } = await makeSite(store)
        const { site: other } = await makeSite(store)
        const a = event(site.id, 'v1', 1000)
        const b = event(site.id, 'v1', 2000)
        const r1 = await store.ingest([a, b, { ...a }])
        expect(r1).toEqual({ accepted: 2, duplicates: 1, suppressed: 0, outcome: ['accepted', 'accepted', 'duplicate'] })
        const c = event(site.id, 'v1', 3000)
        const r2 = await store.ingest([b, c, a])
        expect(r2.outcome).toEqual(['duplicate', 'accepted', 'duplicate'])
        // The same client ID on another site is another event.
        const r3 = await store.ingest([{ ...a, siteId: other.id }])
        expect(r3.outcome).toEqual(['accepted'])
        expect(await store.ingest([])).toEqual({ accepted: 0, duplicates: 0, suppressed: 0, outcome: [] })
      })

      it('group-commits 200 concurrent ingests: all resolve, each event stored once', async () => {
        const { site } = await makeSite(store)
        const before = store.stats()
        const events = Array.from({ length: 200 }, (_, i) =>
          event(site.id, 'gc-visitor', 10_000 + i, { touch: touch(10_000 + i, `src${i}`, 'referral') }))
        // Every event sent twice at once (a retry racing its original).
        const results = await Promise.all([...events, ...events].map((e) => store.ingest([e])))
        expect(results.filter((r) => r.accepted === 1)).toHaveLength(200)
        expect(results.filter((r) => r.duplicates === 1)).toHaveLength(200)
        const after = store.stats()
        console.log(`[${name} group commit] 400 concurrent ingests in ${after.flushes - before.flushes} transactions, largest ${after.maxBatch}`)
        expect(after.jobs - before.jobs).toBe(400)
        // Far fewer transactions than requests: they were shared.
        expect(after.flushes - before.flushes).toBeLessThan(100)
        expect(after.maxBatch).toBeGreaterThan(1)
        const again = await store.ingest(events)
        expect(again.duplicates).toBe(200)
        const id = await store.identify({ siteId: site.id, visitorId: 'gc-visitor', keys: [emailKey(`gc-${site.id}@x.io`)], ts: 20_000 })
        const journey = await store.getLead(site.id, id.leadId)
        expect(journey?.touches).toHaveLength(200)
        expect(journey?.touches.map((t) => t.ts)).toEqual(events.map((e) => e.ts))
      })

      it('a failing batch fails alone and leaves no partial rows; its neighbours commit', async () => {
        const { site } = await makeSite(store)
        const good = event(site.id, 'v-ok', 1000)
        const partial = event(site.id, 'v-ok', 1001)
        const broken = event(site.id, 'v-bad', 1002, { visitorId: null as unknown as string })
        const other = event(site.id, 'v-ok', 1003)
        const results = await Promise.allSettled([
          store.ingest([good]), store.ingest([partial, broken]), store.ingest([other]),
        ])
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
        // The failed batch's first event was rolled back with it, so it is new now.
        expect((await store.ingest([partial, good, other])).outcome).toEqual(['accepted', 'duplicate', 'duplicate'])
      })

      it('keeps rejected events with their code and a bounded payload', async () => {
        const { site } = await makeSite(store)
        await store.recordRejected([
          { siteId: site.id, receivedAt: 1, code: 'CL_ERR_VALIDATION', payload: '{"type":"nope"}' },
          { siteId: site.id, receivedAt: 2, code: 'CL_ERR_VALIDATION', payload: 'x'.repeat(100_000) },
          { siteId: null, receivedAt: 3, code: 'CL_ERR_UNKNOWN_SITE', payload: '{}' },
        ])
        const rows = await store.listRejected(site.id)
        expect(rows.map((r) => r.receivedAt)).toEqual([2, 1])
        expect(rows[1]).toEqual({ siteId: site.id, receivedAt: 1, code: 'CL_ERR_VALIDATION', payload: '{"type":"nope"}' })
        expect(rows[0].payload.length).toBeGreaterThan(0)
        expect(rows[0].payload.length).toBeLessThanOrEqual(4096)
      })
    })

    describe('identify', () => {
      it('creates a lead, then links another device by the same email', async () => {
        const { site } = await makeSite(store)
        const email = emailKey('ann@example.com')
        const first = await store.identify({ siteId: site.id, visitorId: 'ann-laptop', keys: [email], emailEnc: 'v1.enc-a', traits: { plan: 'pro' }, ts: 5000 })
        expect(first.created).toBe(true)
        expect(first.visitorIds).toEqual(['ann-laptop'])
        expect(first.conflict ?? null).toBeNull()
        const second = await store.identify({ siteId: site.id, visitorId: 'ann-phone', keys: [email, phoneKey('+14155550132')], traits: { role: 'cto' }, ts: 9000 })
        expect(second.created).toBe(false)
        expect(second.leadId).toBe(first.leadId)
        expect([...second.visitorIds].sort()).toEqual(['ann-laptop', 'ann-phone'])
        // The phone key now finds the same lead.
        const third = await store.identify({ siteId: site.id, visitorId: 'ann-tablet', keys: [phoneKey('+14155550132')], ts: 9500 })
        expect(third.leadId).toBe(first.leadId)
        const journey = await store.getLead(site.id, first.leadId)
        expect(journey?.lead.identifiedAt).toBe(5000)
        expect(journey?.lead.emailEnc).toBe('v1.enc-a')
        expect(journey?.lead.traits).toEqual({ plan: 'pro', role: 'cto' })
        expect(journey?.visitorIds).toHaveLength(3)
        // Leads are per site.
        const { site: other } = await makeSite(store)
        const elsewhere = await store.identify({ siteId: other.id, visitorId: 'ann-laptop', keys: [email], ts: 5000 })
        expect(elsewhere.created).toBe(true)
        expect(await store.getLead(other.id, first.leadId)).toBeNull()
      })

      it('without a visitor creates or updates the lead by its keys and links no visitor', async () => {
        const { site } = await makeSite(store)
        const email = emailKey('novisit@example.com')
        const first = await store.identify({ siteId: site.id, keys: [email], emailEnc: 'v1.nv', traits: { form: 'demo' }, ts: 4000, journey: true })
        expect(first.created).toBe(true)
        expect(first.visitorIds).toEqual([])
        const lead = await store.getLead(site.id, first.leadId)
        expect(lead?.lead).toMatchObject({ identifiedAt: 4000, emailEnc: 'v1.nv', traits: { form: 'demo' }, firstTouchId: null })
        expect(lead?.visitorIds).toEqual([])
        expect(lead?.touches).toEqual([])
        // Again without a visitor (null): the same lead, updated.
        const again = await store.identify({ siteId: site.id, visitorId: null, keys: [email], traits: { plan: 'pro' }, ts: 5000 })
        expect([again.leadId, again.created]).toEqual([first.leadId, false])
        expect((await store.getLead(site.id, first.leadId))?.lead.traits).toEqual({ form: 'demo', plan: 'pro' })
        // A later identify with a visitor links it to that lead, with its touches.
        await store.ingest([event(site.id, 'nv-browser', 6000, { touch: touch(6000) })])
        const linked = await store.identify({ siteId: site.id, visitorId: 'nv-browser', keys: [email], ts: 7000 })
        expect(linked.leadId).toBe(first.leadId)
        expect(linked.visitorIds).toEqual(['nv-browser'])
        const journey = await store.getLead(site.id, first.leadId)
        expect(journey?.touches.map((t) => t.source)).toEqual(['google'])
        expect(journey?.lead.firstTouchId).not.toBeNull()
        // Keys of two leads without a visitor: the conflict is still recorded.
        const b = await store.identify({ siteId: site.id, keys: [phoneKey('+15550002222')], ts: 8000 })
        const both = await store.identify({ siteId: site.id, keys: [email, phoneKey('+15550002222')], ts: 9000 })
        expect(both.conflict).toEqual({ keptLeadId: first.leadId, otherLeadId: b.leadId, kind: 'phone' })
      })

      it('finds a lead by one match key, per site, and lists the newest leads first', async () => {
        const { site } = await makeSite(store)
        const ann = await store.identify({ siteId: site.id, visitorId: 'v-ann', keys: [emailKey('ann@example.com')], emailEnc: 'v1.enc-a', ts: 5000 })
        const bo = await store.identify({ siteId: site.id, visitorId: 'v-bo', keys: [phoneKey('+14155550132')], ts: 9000 })
        const cy = await store.identify({ siteId: site.id, visitorId: 'v-cy', keys: [emailKey('cy@example.com')], ts: 7000 })
        expect(await store.findLeadByKey(site.id, emailKey('ann@example.com'))).toBe(ann.leadId)
        expect(await store.findLeadByKey(site.id, phoneKey('+14155550132'))).toBe(bo.leadId)
        expect(await store.findLeadByKey(site.id, emailKey('nobody@example.com'))).toBeNull()
        // The same hash under another kind is not a match.
        expect(await store.findLeadByKey(site.id, { kind: 'phone', hash: emailKey('ann@example.com').hash })).toBeNull()
        const recent = await store.recentLeads(site.id, 10)
        expect(recent.map((l) => l.id)).toEqual([bo.leadId, cy.leadId, ann.leadId])
        expect(recent[2]).toMatchObject({ siteId: site.id, identifiedAt: 5000, emailEnc: 'v1.enc-a' })
        expect((await store.recentLeads(site.id, 2)).map((l) => l.id)).toEqual([bo.leadId, cy.leadId])
        const { site: other } = await makeSite(store)
        expect(await store.findLeadByKey(other.id, emailKey('ann@example.com'))).toBeNull()
        expect(await store.findLeadByVisitor(site.id, 'v-cy')).toBe(cy.leadId)
        expect(await store.findLeadByVisitor(site.id, 'v-nobody')).toBeNull()
        expect(await store.findLeadByVisitor(other.id, 'v-cy')).toBeNull()
        // A shared device: the lead it was linked to last.
        const dee = await store.identify({ siteId: site.id, visitorId: 'v-cy', keys: [emailKey('dee@example.com')], ts: 11000 })
        expect(dee.leadId).not.toBe(cy.leadId)
        expect(await store.findLeadByVisitor(site.id, 'v-cy')).toBe(dee.leadId)
        expect(await store.recentLeads(other.id, 10)).toEqual([])
      })

      it('linkOnly (a browser identify) links the visitor to an existing lead and changes nothing else', async () => {
        const { site } = await makeSite(store)
        const victim = await store.identify({ siteId: site.id, visitorId: 'lo-victim', keys: [emailKey('lo@example.com')], emailEnc: 'v1.enc-lo', traits: { name: 'Alice' }, company: 'Corp', ts: 1000 })
        const r = await store.identify({ siteId: site.id, visitorId: 'lo-attacker', keys: [emailKey('lo@example.com'), phoneKey('+14155550199')], phoneEnc: 'v1.enc-phone', externalId: 'mallory', traits: { name: 'Mallory' }, company: 'Evil', ts: 2000, linkOnly: true })
        expect([r.leadId, r.created]).toEqual([victim.leadId, false])
        const lead = (await store.getLead(site.id, victim.leadId))!
        expect(lead.lead).toMatchObject({ emailEnc: 'v1.enc-lo', phoneEnc: null, externalId: null, traits: { name: 'Alice' } })
        expect([...lead.visitorIds].sort()).toEqual(['lo-attacker', 'lo-victim'])
        expect(await store.findLeadByKey(site.id, phoneKey('+14155550199'))).toBeNull()
        const before = (await store.getLead(site.id, victim.leadId))!.lead.accountId
        expect(before).not.toBeNull()
        // A lead identified without any touch: a browser link does not make its device the origin.
        const bare = await store.identify({ siteId: site.id, keys: [emailKey('lo-bare@example.com')], ts: 1000 })
        await store.ingest([event(site.id, 'lo-evil', 500, { touch: touch(500) })])
        await store.identify({ siteId: site.id, visitorId: 'lo-evil', keys: [emailKey('lo-bare@example.com')], ts: 2000, linkOnly: true })
        expect((await store.getLead(site.id, bare.leadId))!.lead.firstTouchId).toBeNull()
        // A new person: created with what was sent, linkOnly or not.
        const fresh = await store.identify({ siteId: site.id, visitorId: 'lo-new', keys: [emailKey('lo-new@example.com')], traits: { name: 'Nina' }, ts: 3000, linkOnly: true })
        expect(fresh.created).toBe(true)
        expect((await store.getLead(site.id, fresh.leadId))!.lead.traits).toEqual({ name: 'Nina' })
      })

      it('keys pointing at different leads: email wins, the conflict is recorded, nothing merged', async () => {
        const { site } = await makeSite(store)
        const a = await store.identify({ siteId: site.id, visitorId: 'va', keys: [emailKey('a@x.io')], ts: 1 })
        const b = await store.identify({ siteId: site.id, visitorId: 'vb', keys: [phoneKey('+15550001111')], ts: 2 })
        const c = await store.identify({ siteId: site.id, visitorId: 'vc', keys: [externalKey('crm-9')], ts: 3 })
        // Phone listed first on purpose: priority is by kind, not by order given.
        const r = await store.identify({ siteId: site.id, visitorId: 'vx', keys: [phoneKey('+15550001111'), emailKey('a@x.io')], ts: 4 })
        expect(r.leadId).toBe(a.leadId)
        expect(r.created).toBe(false)
        expect(r.conflict).toEqual({ keptLeadId: a.leadId, otherLeadId: b.leadId, kind: 'phone' })
        const leadB = await store.getLead(site.id, b.leadId)
        expect(leadB?.visitorIds).toEqual(['vb'])
        // The phone still points at B: not silently moved to A.
        const again = await store.identify({ siteId: site.id, visitorId: 'vb2', keys: [phoneKey('+15550001111')], ts: 5 })
        expect(again.leadId).toBe(b.leadId)
        // Without an email, phone outranks external ID.
        const r2 = await store.identify({ siteId: site.id, visitorId: 'vy', keys: [externalKey('crm-9'), phoneKey('+15550001111')], ts: 6 })
        expect(r2.leadId).toBe(b.leadId)
        expect(r2.conflict).toEqual({ keptLeadId: b.leadId, otherLeadId: c.leadId, kind: 'external' })
        // Both are listed for the data-quality view, newest first, and only for this site.
        const listed = await store.listConflicts(site.id)
        expect(listed.map(({ keptLeadId, otherLeadId, kind }) => ({ keptLeadId, otherLeadId, kind }))).toEqual([
          { keptLeadId: b.leadId, otherLeadId: c.leadId, kind: 'external' },
          { keptLeadId: a.leadId, otherLeadId: b.leadId, kind: 'phone' },
        ])
        expect(listed.every((x) => x.createdAt > 0)).toBe(true)
        const other = await makeSite(store)
        expect(await store.listConflicts(other.site.id)).toEqual([])
      })

      it('concurrent identifies of one email make exactly one lead', async () => {
        const { site } = await makeSite(store)
        const key = emailKey('race@example.com')
        const outcomes = await Promise.all(Array.from({ length: 25 }, (_, i) =>
          store.identify({ siteId: site.id, visitorId: `race-${i}`, keys: [key], ts: 1000 + i })))
        expect(new Set(outcomes.map((o) => o.leadId)).size).toBe(1)
        expect(outcomes.filter((o) => o.created)).toHaveLength(1)
        const journey = await store.getLead(site.id, outcomes[0].leadId)
        expect(journey?.visitorIds).toHaveLength(25)
      })
    })

    describe('original source and journey', () => {
      it('is fixed at first identify; other devices with earlier clocks do not move it; an imported earlier touch does', async () => {
        const { site } = await makeSite(store)
        const key = emailKey('bo@example.com')
        const t1 = event(site.id, 'bo-1', 100_000, { touch: touch(100_000, 'google', 'cpc') })
        const t2 = event(site.id, 'bo-1', 200_000, { touch: touch(200_000, 'newsletter', 'email') })
        await store.ingest([t2, t1])
        const id = await store.identify({ siteId: site.id, visitorId: 'bo-1', keys: [key], ts: 250_000 })
        expect((await store.getLead(site.id, id.leadId))?.lead.firstTouchId).toBe(t1.id)

        // Another device whose clock runs early, linked later.
        const early = event(site.id, 'bo-2', 50_000, { touch: touch(50_000, 'bing', 'cpc') })
        await store.ingest([early])
        await store.identify({ siteId: site.id, visitorId: 'bo-2', keys: [key], ts: 300_000 })
        // A collected touch with an earlier clock, after the link.
        const skewed = event(site.id, 'bo-1', 10_000, { touch: touch(10_000, 'facebook', 'paid_social') })
        await store.ingest([skewed])
        let journey = await store.getLead(site.id, id.leadId)
        expect(journey?.lead.firstTouchId).toBe(t1.id)
        expect(journey?.lead.identifiedAt).toBe(250_000)
        // All visitors' touches, oldest first, including those after the link.
        expect(journey?.touches.map((t) => t.touchId)).toEqual([skewed.id, early.id, t1.id, t2.id])
        expect(journey?.touches[2]).toMatchObject({ visitorId: 'bo-1', sessionId: 's-bo-1', source: 'google', medium: 'cpc', channel: 'Paid Search', campaign: 'spring' })

        // An imported touch later than the original source changes nothing…
        const lateImport = event(site.id, 'bo-1', 150_000, { imported: true, touch: touch(150_000, 'linkedin', 'cpc') })
        await store.ingest([lateImport])
        expect((await store.getLead(site.id, id.leadId))?.lead.firstTouchId).toBe(t1.id)
        // …an explicitly imported earlier one moves it.
        const imported = event(site.id, 'bo-2', 5_000, { imported: true, touch: touch(5_000, 'tradeshow', 'offline') })
        await store.ingest([imported])
        journey = await store.getLead(site.id, id.leadId)
        expect(journey?.lead.firstTouchId).toBe(imported.id)
        expect(journey?.touches[0].touchId).toBe(imported.id)
      })

      it('a lead identified before any touch takes the first touch that arrives later, then keeps it', async () => {
        const { site } = await makeSite(store)
        const id = await store.identify({ siteId: site.id, visitorId: 'cy', keys: [externalKey('cy-1')], ts: 1000 })
        expect((await store.getLead(site.id, id.leadId))?.lead.firstTouchId).toBeNull()
        const first = event(site.id, 'cy', 2000, { touch: touch(2000, 'duckduckgo', 'organic') })
        await store.ingest([first])
        const earlierClock = event(site.id, 'cy', 1500, { touch: touch(1500, 'google', 'cpc') })
        await store.ingest([earlierClock])
        const journey = await store.getLead(site.id, id.leadId)
        expect(journey?.lead.firstTouchId).toBe(first.id)
        expect(journey?.touches.map((t) => t.touchId)).toEqual([earlierClock.id, first.id])
        expect(await store.getLead(site.id, 'no-such-lead')).toBeNull()
      })

      it('a journey returned by identify (when asked for) is what getLead reads after it', async () => {
        const { site } = await makeSite(store)
        const email = emailKey('jo@example.com')
        await store.ingest([
          event(site.id, 'jo-1', 2000, { touch: touch(2000, 'google', 'cpc') }),
          event(site.id, 'jo-2', 1000, { touch: touch(1000, 'news.example', 'referral') }),
          event(site.id, 'jo-2', 3000, { touch: touch(3000, 'bing', 'cpc') }),
        ])
        for (const [visitorId, ts] of [['jo-1', 4000], ['jo-2', 5000], ['jo-none', 6000]] as const) {
          const out = await store.identify({ siteId: site.id, visitorId, keys: [email], emailEnc: 'v1.jo', traits: { step: ts }, ts, journey: true })
          const read = await store.getLead(site.id, out.leadId)
          if (out.journey) expect(out.journey).toEqual(read)
          expect(out.visitorIds).toEqual(read?.visitorIds)
        }
        const journey = await store.getLead(site.id, (await store.identify({ siteId: site.id, visitorId: 'jo-1', keys: [email], ts: 7000 })).leadId)
        // The first identify fixed jo-1's only touch as the original source; jo-2's earlier one came later.
        expect(journey?.touches.map((t) => t.ts)).toEqual([1000, 2000, 3000])
        expect(journey?.lead.firstTouchId).toBe(journey?.touches[1].touchId)
        expect(journey?.lead.traits).toEqual({ step: 6000 })
      })
    })

    describe('privacy', () => {
      it('exports everything about a person, then erases it and suppresses them', async () => {
        const { site } = await makeSite(store)
        const email = emailKey('dee@example.com')
        const phone = phoneKey('+442079460958')
        await store.ingest([
          event(site.id, 'dee-1', 1000, { touch: touch(1000), title: 'Pricing' }),
          event(site.id, 'dee-2', 2000, { type: 'track', name: 'signup', props: { plan: 'pro' } }),
          event(site.id, 'bystander', 1500, { touch: touch(1500) }),
        ])
        const a = await store.identify({ siteId: site.id, visitorId: 'dee-1', keys: [email], emailEnc: 'v1.x', ts: 3000 })
        await store.identify({ siteId: site.id, visitorId: 'dee-2', keys: [phone, email], ts: 4000 })
        const bystander = await store.identify({ siteId: site.id, visitorId: 'bystander', keys: [emailKey('eve@example.com')], ts: 3000 })

        const exported = await store.exportPerson(site.id, { phoneHash: phone.hash })
        expect(exported.leads.map((l) => l.lead.id)).toEqual([a.leadId])
        expect(exported.leads[0].lead.emailEnc).toBe('v1.x')
        expect(exported.leads[0].touches).toHaveLength(1)
        expect(exported.events.map((e) => e.visitorId).sort()).toEqual(['dee-1', 'dee-2'])
        expect(exported.events.find((e) => e.name === 'signup')?.props).toEqual({ plan: 'pro' })

        const hashes = ['supp-email-dee', 'supp-phone-dee']
        expect(await store.isSuppressed(site.id, hashes)).toBe(false)
        const erased = await store.erase(site.id, { emailHash: email.hash }, hashes)
        expect(erased).toEqual({ leads: 1, visitors: 2, events: 2, deals: 0 })
        expect(await store.getLead(site.id, a.leadId)).toBeNull()
        expect(await store.isSuppressed(site.id, ['other', 'supp-phone-dee'])).toBe(true)
        expect(await store.isSuppressed(site.id, ['other'])).toBe(false)
        const { site: otherSite } = await makeSite(store)
        expect(await store.isSuppressed(otherSite.id, hashes)).toBe(false)
        expect(await store.exportPerson(site.id, { emailHash: email.hash })).toEqual({ leads: [], events: [], touches: [] })
        expect(await store.exportPerson(site.id, { visitorId: 'dee-2' })).toEqual({ leads: [], events: [], touches: [] })
        // The identity is gone: the same email now makes a new lead.
        const again = await store.identify({ siteId: site.id, visitorId: 'dee-3', keys: [phone], ts: 9000 })
        expect(again.created).toBe(true)
        // Nobody else was touched.
        expect((await store.getLead(site.id, bystander.leadId))?.touches).toHaveLength(1)
      })

      it("erase deletes the rejected events that hold the person's identifiers, and only those", async () => {
        const { site } = await makeSite(store)
        const { site: other } = await makeSite(store)
        await store.ingest([event(site.id, 'scrub-visitor-1', 1000)])
        await store.recordRejected([
          { siteId: site.id, receivedAt: 1, code: 'CL_ERR_VALIDATION', payload: '{"visitorId":"scrub-visitor-1","type":"nope"}' },
          { siteId: site.id, receivedAt: 2, code: 'CL_ERR_VALIDATION', payload: '{"url":"https://x.example/?m=eve%40corp.example"}' },
          { siteId: site.id, receivedAt: 3, code: 'CL_ERR_VALIDATION', payload: '{"visitorId":"someone-else","props":{"phone":"+14155550100"}}' },
          { siteId: other.id, receivedAt: 4, code: 'CL_ERR_VALIDATION', payload: '{"visitorId":"scrub-visitor-1"}' },
        ])
        await store.erase(site.id, { visitorId: 'scrub-visitor-1', scrubTerms: ['scrub-visitor-1', 'eve%40corp.example'] }, ['supp-scrub'])
        expect((await store.listRejected(site.id)).map((r) => r.receivedAt)).toEqual([3])
        // Another site's rows are its own business.
        expect((await store.listRejected(other.id)).map((r) => r.receivedAt)).toEqual([4])
      })

      it("retention deletes old events and touches but each lead's first and newest touch, and old rejected rows", async () => {
        const { site } = await makeSite(store)
        const { site: other } = await makeSite(store)
        const at = (vid: string, ts: number) => event(site.id, vid, ts, { touch: touch(ts) })
        await store.ingest([at('ret-anon', 1000), at('ret-anon', 2000), at('ret-anon', 50_000), at('ret-b', 1000), at('ret-b', 3000), at('ret-b', 4000), at('ret-c', 1000), at('ret-c', 60_000)])
        await store.ingest([event(other.id, 'ret-other', 1000, { touch: touch(1000) })])
        const b = await store.identify({ siteId: site.id, visitorId: 'ret-b', keys: [emailKey('ret-b@example.com')], ts: 5000 })
        const c = await store.identify({ siteId: site.id, visitorId: 'ret-c', keys: [emailKey('ret-c@example.com')], ts: 5000 })
        const firstOfB = (await store.getLead(site.id, b.leadId))!.lead.firstTouchId
        expect(await store.applyRetention(site.id, 10_000)).toEqual({ touches: 3, events: 6 })
        const touchTimes = async (vid: string) => (await store.exportPerson(site.id, { visitorId: vid })).touches.map((t) => t.ts)
        expect(await touchTimes('ret-anon')).toEqual([50_000])
        // B: its first touch (the original source) and its newest stay; the one between goes.
        expect(await touchTimes('ret-b')).toEqual([1000, 4000])
        expect((await store.getLead(site.id, b.leadId))!.lead.firstTouchId).toBe(firstOfB)
        expect(await touchTimes('ret-c')).toEqual([1000, 60_000])
        expect((await store.exportPerson(site.id, { visitorId: 'ret-b' })).events).toEqual([])
        expect((await store.getLead(site.id, c.leadId))!.touches.map((t) => t.ts)).toEqual([1000, 60_000])
        // Other sites keep their data; a second run has nothing left to do.
        expect((await store.exportPerson(other.id, { visitorId: 'ret-other' })).events).toHaveLength(1)
        expect(await store.applyRetention(site.id, 10_000)).toEqual({ touches: 0, events: 0 })

        await store.recordRejected([
          { siteId: site.id, receivedAt: 100, code: 'CL_ERR_VALIDATION', payload: '{}' },
          { siteId: null, receivedAt: 200, code: 'CL_ERR_UNKNOWN_SITE', payload: '{}' },
          { siteId: site.id, receivedAt: 9000, code: 'CL_ERR_VALIDATION', payload: '{}' },
        ])
        expect(await store.pruneRejected(1000)).toBeGreaterThanOrEqual(2)
        expect((await store.listRejected(site.id)).map((r) => r.receivedAt)).toEqual([9000])
      })

      it('erases an anonymous visitor by visitor ID', async () => {
        const { site } = await makeSite(store)
        const e1 = event(site.id, 'anon', 1000, { touch: touch(1000) })
        await store.ingest([e1, event(site.id, 'anon', 1100)])
        const held = await store.exportPerson(site.id, { visitorId: 'anon' })
        expect(held.events).toHaveLength(2)
        // An anonymous visitor's touches are held about them too, though no lead has them.
        expect(held.touches.map((t) => [t.touchId, t.source, t.visitorId])).toEqual([[e1.id, 'google', 'anon']])
        expect(await store.erase(site.id, { visitorId: 'anon' }, ['supp-anon'])).toEqual({ leads: 0, visitors: 1, events: 2, deals: 0 })
        expect(await store.exportPerson(site.id, { visitorId: 'anon' })).toEqual({ leads: [], events: [], touches: [] })
        // Erased means gone: the same event ID is no longer a duplicate.
        expect((await store.ingest([e1])).outcome).toEqual(['accepted'])
      })

      it('refuses, in the write itself, events and identifies whose suppression hash is listed, beside ones it keeps', async () => {
        const { site } = await makeSite(store)
        const { site: other } = await makeSite(store)
        await store.erase(site.id, { visitorId: 'gone' }, ['supp-gone', 'supp-gone-email'])
        const before = event(site.id, 'kept', 900, { touch: touch(900) })
        const r = await store.ingest([
          event(site.id, 'gone', 1000, { touch: touch(1000), suppression: ['supp-gone'] }),
          { ...before, suppression: ['supp-kept'] },
          event(site.id, 'new-device', 1100, { suppression: ['supp-new-device', 'supp-gone-email'] }),
          { ...before, suppression: ['supp-kept'] },
          // The list is per site.
          event(other.id, 'gone', 1200, { suppression: ['supp-gone'] }),
        ])
        expect(r.outcome).toEqual(['suppressed', 'accepted', 'suppressed', 'duplicate', 'accepted'])
        expect(r).toMatchObject({ accepted: 2, duplicates: 1, suppressed: 2 })
        expect(await store.exportPerson(site.id, { visitorId: 'gone' })).toEqual({ leads: [], events: [], touches: [] })
        expect((await store.exportPerson(site.id, { visitorId: 'new-device' })).events).toEqual([])
        await expect(store.identify({ siteId: site.id, visitorId: 'kept', keys: [emailKey('gone@example.com')], suppression: ['supp-kept', 'supp-gone-email'], ts: 2000 }))
          .rejects.toMatchObject({ code: 'CL_ERR_SUPPRESSED' })
        expect((await store.exportPerson(site.id, { emailHash: emailKey('gone@example.com').hash })).leads).toEqual([])
        const ok = await store.identify({ siteId: site.id, visitorId: 'kept', keys: [emailKey('kept@example.com')], suppression: ['supp-kept'], ts: 2000 })
        expect(ok.created).toBe(true)
      })

      it('an event written right after an erasure of its visitor, in the same group of writes, is refused', async () => {
        const { site } = await makeSite(store)
        await store.ingest([event(site.id, 'racer', 1000, { touch: touch(1000) })])
        // Submitted together: neither waits for the other, the erasure is first.
        const [erased, late] = await Promise.all([
          store.erase(site.id, { visitorId: 'racer' }, ['supp-racer']),
          store.ingest([event(site.id, 'racer', 1100, { touch: touch(1100), suppression: ['supp-racer'] })]),
        ])
        expect(erased.events).toBe(1)
        expect(late.outcome).toEqual(['suppressed'])
        expect(await store.exportPerson(site.id, { visitorId: 'racer' })).toEqual({ leads: [], events: [], touches: [] })
      })
    })

    describe('persistence', () => {
      it('keeps everything across close and reopen', async () => {
        const { site, keyId } = await makeSite(store)
        const e = event(site.id, 'pv', 1000, { touch: touch(1000) })
        await store.ingest([e])
        const id = await store.identify({ siteId: site.id, visitorId: 'pv', keys: [emailKey('persist@example.com')], ts: 2000 })
        await store.close()
        store = await harness.open()
        expect((await store.getSiteBySecretKeyId(keyId))?.site).toEqual(site)
        expect((await store.ingest([e])).outcome).toEqual(['duplicate'])
        const journey = await store.getLead(site.id, id.leadId)
        expect(journey?.lead.firstTouchId).toBe(e.id)
        expect(journey?.touches.map((t) => t.touchId)).toEqual([e.id])
        // Migrating an up-to-date database again is a no-op.
        await store.migrate()
        expect(await store.getSite(site.id)).toEqual(site)
      })
    })
  })
}
