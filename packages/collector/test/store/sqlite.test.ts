// The store contract on a real SQLite file, plus what only SQLite has: pragmas, migrations on
// disk, the bytes of the file, and the bulk path's speed.

import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encrypt, loadInstallKeys } from '../../src/identity/crypto.js'
import { normalizePerson } from '../../src/identity/match-keys.js'
import { openStore, SQLITE_FILE } from '../../src/store/index.js'
import { TEST_DESTINATIONS } from './fake-destination.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import { SqliteStore } from '../../src/store/sqlite/store.js'
import { ACCOUNT_SQL } from '../../src/store/sqlite/accounts.js'
import type { IngestEvent } from '../../src/store/types.js'
import { emailKey, event, externalKey, makeSite, storeContract, touch, type StoreHarness } from './contract.js'
import { expectSameReportInput } from './contract-outcomes.js'
import { attributionReport } from '../../src/reports/query.js'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'closeloop-sqlite-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Holds back what durable batches changed (as during their fsync) until `release`; `stop` ends it. */
/** A database file as the migrations below `version` left it, built by hand: today's statements no longer match that schema. */
function schemaBelow(file: string, version: number): Database.Database {
  const db = new Database(file)
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
  for (const m of SQLITE_MIGRATIONS.filter((m) => m.version < version)) {
    db.exec(m.sql)
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name)
  }
  return db
}

function holdDurable(store: SqliteStore): { release: () => void; stop: () => void } {
  const cache = (store as unknown as { reportCache: { durable: (d: unknown) => void } }).reportCache
  const durable = cache.durable.bind(cache)
  const held: unknown[] = []
  cache.durable = (d) => { held.push(d) }
  return {
    release: () => { for (const d of held.splice(0)) durable(d) },
    stop: () => { cache.durable = durable },
  }
}

function sqliteHarness(): StoreHarness {
  const dir = tempDir()
  return {
    open: () => openStore({ dataDir: dir, destinations: TEST_DESTINATIONS }),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
    another: async () => sqliteHarness(),
  }
}

storeContract('SQLite', async () => sqliteHarness())

describe('SqliteStore specifics', () => {
  it('creates its data directory 0700 and its files 0600, and tightens an older 0644 file', async () => {
    const parent = tempDir()
    const dir = join(parent, 'data')
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    expect(keys.integrationKey.length).toBeGreaterThan(0)
    const store = await openStore({ dataDir: dir })
    const { site } = await makeSite(store)
    await store.ingest([event(site.id, 'mode-1', 1000)])
    const mode = (f: string) => statSync(f).mode & 0o777
    expect(mode(dir)).toBe(0o700)
    for (const f of readdirSync(dir)) expect([f, mode(join(dir, f))]).toEqual([f, 0o600])
    expect(readdirSync(dir)).toEqual(expect.arrayContaining([SQLITE_FILE, `${SQLITE_FILE}-wal`]))
    await store.close()
    chmodSync(join(dir, SQLITE_FILE), 0o644)
    const again = await openStore({ dataDir: dir })
    expect(mode(join(dir, SQLITE_FILE))).toBe(0o600)
    await again.close()
  })

  it('checkpoints the WAL in a worker thread, never on a commit, and leaves an empty WAL on close', async () => {
    const dir = tempDir()
    const store = (await openStore({ dataDir: dir })) as SqliteStore
    const file = join(dir, SQLITE_FILE)
    const size = (f: string) => (existsSync(f) ? statSync(f).size : 0)
    const before = size(file)
    const { site } = await makeSite(store)
    const events: IngestEvent[] = Array.from({ length: 3000 }, (_, i) => event(site.id, `cp-${i % 300}`, 1000 + i, { touch: touch(1000 + i) }))
    await store.ingest(events)
    // The commit wrote the WAL only; the worker then copies it into the database file.
    const deadline = Date.now() + 5000
    while (size(file) <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(size(file)).toBeGreaterThan(before)
    expect(await store.exportPerson(site.id, { visitorId: 'cp-7' })).toMatchObject({ events: { length: 10 } })
    await store.close()
    expect(size(file + '-wal')).toBe(0)
    // Everything is in the database file itself.
    const again = (await openStore({ dataDir: dir })) as SqliteStore
    expect((await again.exportPerson(site.id, { visitorId: 'cp-7' })).events).toHaveLength(10)
    await again.close()
  })

  it('never checkpoints on a commit while the checkpointer runs', async () => {
    {
      const file = join(tempDir(), 'db.sqlite')
      // The checkpointer is on but far off: only a commit could checkpoint here.
      const store = new SqliteStore({ file, checkpointIntervalMs: 3_600_000 })
      await store.migrate()
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0)
      const { site } = await makeSite(store)
      const before = statSync(file).size
      // ~20 MB of WAL: far past the 1,000 pages at which SQLite's own checkpoint would copy it.
      for (let b = 0; b < 4; b++) {
        await store.ingest(Array.from({ length: 5000 }, (_, i) => event(site.id, `nc-${b}-${i % 500}`, 1000 + i, { touch: touch(1000 + i), url: `https://example.com/${'x'.repeat(400)}` })))
      }
      expect(statSync(file + '-wal').size).toBeGreaterThan(4096 * 1000)
      expect(statSync(file).size).toBe(before)
      await store.close()
    }
  })

  it('sees another connection\'s commit in its data version (the CLI writing beside a server)', async () => {
    const dir = tempDir()
    const a = await openStore({ dataDir: dir })
    const b = await openStore({ dataDir: dir })
    const before = a.dataVersion()
    await b.createSite({ name: 'other process', origins: [], publicKey: 'pk_dv', secretKeyId: 'dv', secretKeyHash: 'x' })
    expect(a.dataVersion()).not.toBe(before)
    await Promise.all([a.close(), b.close()])
  })

  describe('report cache', () => {
    const all = { touchesFrom: null, touchesTo: null }
    const touches = (siteId: string, visitor: string, from: number, n: number): IngestEvent[] =>
      Array.from({ length: n }, (_, i) => event(siteId, visitor, from + i, { touch: touch(from + i, i % 2 ? 'google' : 'bing', 'cpc') }))

    it('appends committed touches instead of scanning again, and re-reads only the leads and deals written', async () => {
      const store = (await openStore({ dataDir: tempDir() })) as SqliteStore
      const { site } = await makeSite(store)
      await store.ingest(touches(site.id, 'rc-1', 1000, 50))
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, outcomeLoads: 1, appended: 0, touches: 50, sites: 1 })
      await store.ingest([...touches(site.id, 'rc-2', 5000, 30), ...touches(site.id, 'rc-1', 500, 20)])
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, outcomeLoads: 1, appended: 50, touches: 100 })
      await store.identify({ siteId: site.id, visitorId: 'rc-2', keys: [emailKey('rc@x.example')], ts: 9000 })
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, outcomeLoads: 1, refreshed: 1 })
      const won = (dealId: string, ts: number) => ({ dealId, match: { leadId: null, keys: [emailKey('rc@x.example')] }, stage: 'won' as const, crmStage: 'Won', amount: 10, originalAmount: 10, originalCurrency: null, ts })
      await store.upsertDeals(site.id, [won('rc-d1', 9500), won('rc-d2', 9600)])
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, outcomeLoads: 1, refreshed: 3 })
      // A checkpoint by the worker thread's connection is not a change of data.
      store.db.pragma('wal_checkpoint(PASSIVE)')
      await new Promise((r) => setTimeout(r, 600))
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1 })
      await store.close()
    })

    it('never appends a batch to a site scanned after that batch committed', async () => {
      {
        const store = new SqliteStore({ file: join(tempDir(), 'db.sqlite') })
        await store.migrate()
        const { site } = await makeSite(store)
        // What each durable batch changed is held back here, as when a report scans between a
        // commit and the end of its fsync.
        const deltas = holdDurable(store)
        await store.ingest(touches(site.id, 'gr-1', 1000, 10))
        expect(await expectSameReportInput(store, site.id, all)).toHaveLength(1)
        deltas.release()
        await expectSameReportInput(store, site.id, all)
        expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, appended: 0, touches: 10 })
        // A batch the scan did not see is appended when it arrives, however late.
        await store.ingest(touches(site.id, 'gr-2', 2000, 5))
        expect(store.reportCacheStats()).toMatchObject({ appended: 0 })
        deltas.release()
        deltas.stop()
        await expectSameReportInput(store, site.id, all)
        expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, appended: 5, touches: 15 })
        await store.close()
      }
    })

    it('reads a site again with content, term and landing once a report asks for one of them, and keeps them', async () => {
      const store = (await openStore({ dataDir: tempDir() })) as SqliteStore
      const { site } = await makeSite(store)
      const landing = (visitor: string, ts: number, page: string) => event(site.id, visitor, ts, { touch: touch(ts, 'google', 'cpc', { landing: `https://example.com${page}?gclid=${visitor}` }) })
      await store.ingest([landing('lx-1', 1000, '/pricing'), landing('lx-2', 2000, '/demo')])
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1 })
      const byLanding = { ...all, extra: 'landing' as const }
      await expectSameReportInput(store, site.id, byLanding)
      await expectSameReportInput(store, site.id, byLanding)
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2, touches: 2 })
      await store.ingest([landing('lx-3', 3000, '/pricing')])
      const rows = await expectSameReportInput(store, site.id, byLanding)
      expect(rows.filter((j) => j.includes('"https://example.com/pricing"'))).toHaveLength(2)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2, appended: 1, touches: 3 })
      await expectSameReportInput(store, site.id, { ...all, extra: 'term' })
      await expectSameReportInput(store, site.id, { ...all, extra: 'content' })
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2, touches: 3 })
      await store.close()
    })

    it('rebuilds when our commit found another process\'s touches, even before that commit is durable', async () => {
      const dir = tempDir()
      const store = (await openStore({ dataDir: dir })) as SqliteStore
      const { site } = await makeSite(store)
      await store.ingest(touches(site.id, 'ow-1', 1000, 4))
      await expectSameReportInput(store, site.id, all)
      const cli = await openStore({ dataDir: dir })
      await cli.ingest(touches(site.id, 'ow-2', 2000, 3))
      await cli.close()
      // Our next commit sees their touch generation; its delta is held back (as during its fsync).
      const deltas = holdDurable(store)
      await store.ingest(touches(site.id, 'ow-3', 3000, 2))
      expect(await expectSameReportInput(store, site.id, all)).toHaveLength(3)
      deltas.release()
      deltas.stop()
      expect(await expectSameReportInput(store, site.id, all)).toHaveLength(3)
      await store.close()
    })

    it('answers a batch whose report-cache update throws, and reads the site again', async () => {
      const store = (await openStore({ dataDir: tempDir() })) as SqliteStore
      const { site } = await makeSite(store)
      await store.ingest(touches(site.id, 'cf-1', 1000, 3))
      await expectSameReportInput(store, site.id, all)
      const cache = (store as unknown as { reportCache: { durable: (d: unknown) => void } }).reportCache
      const durable = cache.durable.bind(cache)
      cache.durable = () => { throw new Error('cache bug') }
      await expect(store.ingest(touches(site.id, 'cf-2', 2000, 2))).resolves.toMatchObject({ accepted: 2 })
      cache.durable = durable
      expect(await expectSameReportInput(store, site.id, all)).toHaveLength(2)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2 })
      await store.close()
    })

    it('keeps nothing of an ingest that failed, and rebuilds after another connection wrote', async () => {
      const dir = tempDir()
      const store = (await openStore({ dataDir: dir })) as SqliteStore
      const { site } = await makeSite(store)
      await store.ingest(touches(site.id, 'rf-1', 1000, 5))
      await expectSameReportInput(store, site.id, all)
      // The second event breaks a NOT NULL constraint after the first was written: the whole
      // request is rolled back to its savepoint, the touch already inserted with it.
      const bad = [...touches(site.id, 'rf-2', 2000, 1), event(site.id, 'rf-2', Number.NaN, { touch: touch(Number.NaN) })]
      await expect(store.ingest(bad)).rejects.toThrow()
      const kept = await expectSameReportInput(store, site.id, all)
      expect(kept).toHaveLength(1)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, touches: 5 })
      // Another process (here: a second connection) writes touches; the cache cannot know them.
      const cli = await openStore({ dataDir: dir })
      await cli.ingest(touches(site.id, 'rf-3', 3000, 7))
      await cli.close()
      expect(await expectSameReportInput(store, site.id, all)).toHaveLength(2)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2, touches: 12 })
      await store.close()
    })

    it('builds the next table in a released one, never under a report still reading it', async () => {
      const store = (await openStore({ dataDir: tempDir() })) as SqliteStore
      const { site } = await makeSite(store)
      const { site: other } = await makeSite(store)
      for (let v = 0; v < 40; v++) await store.ingest(touches(site.id, `tb-${v}`, 1000 + v * 100, 1 + (v % 4)))
      for (let v = 0; v < 40; v += 3) await store.identify({ siteId: site.id, visitorId: `tb-${v}`, keys: [emailKey(`tb${v % 9}@x.example`)], ts: 1000 + v * 100 + 50 })
      const won = (n: number) => ({ dealId: `tb-d${n}`, match: { leadId: null, keys: [emailKey(`tb${n}@x.example`)] }, stage: 'won' as const, crmStage: 'Won', amount: 10 + n, originalAmount: 10 + n, originalCurrency: null, ts: 9000 + n })
      await store.upsertDeals(site.id, [0, 1, 2, 3, 4, 5].map(won))
      // A released table is overwritten at once here: a report reading one after its release
      // would come out wrong.
      const load = store.loadReportTable.bind(store)
      store.loadReportTable = async (id, opts) => {
        const d = await load(id, opts)
        const release = d.release
        return { ...d, release: () => {
          d.table.ts.fill(Number.NaN)
          for (const col of d.table.cache.values()) col.ids.fill(-1)
          release?.()
        } }
      }
      const models = ['first_touch', 'last_touch', 'linear', 'markov'] as const
      const report = (model: (typeof models)[number]) => attributionReport(store, site, { by: 'source', conversion: 'won', model })
      const expected = new Map<string, string>()
      for (const m of models) expected.set(m, JSON.stringify(await report(m)))
      expect(JSON.parse(expected.get('linear')!).totals.revenue).toBeGreaterThan(0)
      // Writes to another site change the data version (so every report loads again) but not this
      // site's figures; reports run beside them and beside each other.
      let stop = false
      const writer = (async () => {
        for (let i = 0; !stop; i++) await store.ingest(touches(other.id, `tw-${i}`, 1000 + i, 1))
      })()
      const reader = async (offset: number) => {
        for (let i = 0; i < 60; i++) {
          const m = models[(i + offset) % models.length]
          const r = report(m)
          // Other requests' turns (and commits with their fsyncs) come between a report's load and its use.
          if ((i + offset) % 4 === 1) await new Promise((resolve) => setTimeout(resolve, 1))
          else if ((i + offset) % 4 !== 0) await new Promise((resolve) => setImmediate(resolve))
          expect(JSON.stringify(await r), m).toBe(expected.get(m))
        }
      }
      await Promise.all([reader(0), reader(1), reader(2)])
      stop = true
      await writer
      // Tables were given back for the next one to be built in (how many depends on how the
      // writer's commits fell between the reports).
      expect(store.reportCacheStats().tablesReleased).toBeGreaterThan(0)

      // The interleaving that matters, made certain: a report has its (loaded) table in hand but
      // has not read it yet when a write makes another report load anew. The first table must
      // not be released under it. (Released tables stay poisoned here: nothing rebuilds them.)
      store.loadReportTable = async (id, opts) => {
        const d = await load(id, opts)
        return { ...d, release: () => { d.table.ts.fill(Number.NaN) } }
      }
      let version = 'v1'
      store.dataVersion = () => version
      await report('linear')
      const reading = report('linear')
      version = 'v2'
      const next = report('linear')
      expect(JSON.stringify(await reading)).toBe(expected.get('linear'))
      expect(JSON.stringify(await next)).toBe(expected.get('linear'))
      await store.close()
    })

    it('equals a full load through a random mix of ingests, identifies with clashing keys and deal writes', async () => {
      const store = (await openStore({ dataDir: tempDir() })) as SqliteStore
      const { site } = await makeSite(store)
      // A deal re-pointed from one lead to another while the other is identified again.
      const a = await store.identify({ siteId: site.id, visitorId: 'mv-a', keys: [emailKey('mv-a@x.example')], ts: 900 })
      const b = await store.identify({ siteId: site.id, visitorId: 'mv-b', keys: [emailKey('mv-b@x.example')], ts: 900 })
      const moved = (leadId: string) => ({ dealId: 'mv', match: { leadId, keys: [] }, stage: 'won' as const, crmStage: 'Won', amount: 5, originalAmount: 5, originalCurrency: null, ts: 950 })
      await store.upsertDeals(site.id, [moved(a.leadId)])
      await expectSameReportInput(store, site.id, all)
      await store.upsertDeals(site.id, [moved(b.leadId)])
      await store.identify({ siteId: site.id, visitorId: 'mv-b2', keys: [emailKey('mv-b@x.example')], ts: 960 })
      expect((await expectSameReportInput(store, site.id, all)).filter((j) => j.includes('"mv"'))).toHaveLength(1)
      let seed = 7
      const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
      const visitor = () => `rv-${rnd(12)}`
      const email = () => emailKey(`p${rnd(6)}@x.example`)
      const external = () => externalKey(`crm-${rnd(6)}`)
      const leads: string[] = []
      const stages = ['lead', 'sql', 'opportunity', 'won', 'lost'] as const
      for (let step = 0; step < 300; step++) {
        const op = rnd(6)
        if (op <= 1) await store.ingest(touches(site.id, visitor(), 1000 + step * 10, 1 + rnd(3)))
        else if (op === 2) {
          const keys = rnd(2) ? [email()] : rnd(2) ? [external()] : [email(), external()]
          leads.push((await store.identify({ siteId: site.id, visitorId: visitor(), keys, ts: 1000 + step * 10 })).leadId)
        } else if (op === 3 && leads.length > 0) {
          await store.linkPendingDeals(site.id, leads[rnd(leads.length)], [email(), external()])
        } else {
          const byLead = leads.length > 0 && rnd(3) === 0
          const keys = rnd(2) ? [email()] : [email(), external()]
          await store.upsertDeals(site.id, [{
            dealId: `rd-${rnd(10)}`, match: { leadId: byLead ? leads[rnd(leads.length)] : null, keys: byLead ? [] : keys },
            stage: stages[rnd(5)], crmStage: 'x', amount: 100 + rnd(900), originalAmount: 1, originalCurrency: null, ts: 1000 + step * 10,
          }])
        }
        if (step % 4 === 0) await expectSameReportInput(store, site.id, all)
      }
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, outcomeLoads: 1 })
      expect(store.reportCacheStats().refreshed).toBeGreaterThan(50)
      await store.close()
    })

    it('keeps its touches when another process wrote only leads or deals, and rebuilds when it wrote touches', async () => {
      const dir = tempDir()
      const store = (await openStore({ dataDir: dir })) as SqliteStore
      const { site } = await makeSite(store)
      await store.ingest([...touches(site.id, 'op-1', 1000, 20), ...touches(site.id, 'op-2', 2000, 10)])
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, outcomeLoads: 1, keptAfterOtherWrites: 0 })
      const cli = await openStore({ dataDir: dir })
      // A CLI deals import and an identify: no touch changed.
      const lead = await cli.identify({ siteId: site.id, visitorId: 'op-1', keys: [emailKey('op@x.example')], ts: 3000 })
      await cli.upsertDeals(site.id, [{ dealId: 'op-d', match: { leadId: lead.leadId, keys: [] }, stage: 'won', crmStage: 'Won', amount: 7, originalAmount: 7, originalCurrency: null, ts: 3500 }])
      expect((await expectSameReportInput(store, site.id, all)).filter((j) => j.includes('op-d'))).toHaveLength(1)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, outcomeLoads: 2, keptAfterOtherWrites: 1 })
      // Our own ingest after theirs still appends.
      await store.ingest(touches(site.id, 'op-3', 4000, 5))
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 1, appended: 5 })
      // They write touches, then we do before any report: our commit sees their generation.
      await cli.ingest(touches(site.id, 'op-4', 5000, 3))
      await store.ingest(touches(site.id, 'op-5', 6000, 2))
      await expectSameReportInput(store, site.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2 })
      // They erase someone: touches deleted elsewhere, so ours are rebuilt.
      await cli.erase(site.id, { emailHash: emailKey('op@x.example').hash }, [])
      const after = await expectSameReportInput(store, site.id, all)
      expect(after.some((j) => j.includes('op-d'))).toBe(false)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 3 })
      await cli.close()
      await store.close()
    })

    it('warms every site before the first report (as `closeloop serve` does before listening)', async () => {
      const dir = tempDir()
      const setup = await openStore({ dataDir: dir })
      const [a, b] = [(await makeSite(setup)).site, (await makeSite(setup)).site]
      await setup.ingest([...touches(a.id, 'w-a', 1000, 40), ...touches(b.id, 'w-b', 1000, 2)])
      await setup.close()
      const store = (await openStore({ dataDir: dir })) as SqliteStore
      expect(await store.warmReports()).toBe(42)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2, outcomeLoads: 2, sites: 2 })
      await expectSameReportInput(store, a.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2, outcomeLoads: 2 })
      await store.close()
    })

    it('keeps at most reportCacheTouches touches, dropping the least recently reported site', async () => {
      const store = new SqliteStore({ file: join(tempDir(), 'cap.sqlite'), reportCacheTouches: 100 })
      await store.migrate()
      const [a, b, big] = [(await makeSite(store)).site, (await makeSite(store)).site, (await makeSite(store)).site]
      await store.ingest([...touches(a.id, 'cap-a', 1000, 60), ...touches(b.id, 'cap-b', 1000, 30), ...touches(big.id, 'cap-big', 1000, 150)])
      // Warming keeps what fits; a site bigger than the whole cache is counted, not scanned.
      expect(await store.warmReports()).toBe(90)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2, sites: 2, touches: 90 })
      await store.warmReports()
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2 })
      await expectSameReportInput(store, a.id, all)
      await expectSameReportInput(store, b.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 2, sites: 2, touches: 90 })
      // The big site is scanned whole for each report and not kept.
      await expectSameReportInput(store, big.id, all)
      await expectSameReportInput(store, big.id, all)
      expect(store.reportCacheStats()).toMatchObject({ touchScans: 4, sites: 2, touches: 90 })
      // a grows past the cap: a, now the least recently reported, is dropped; b stays.
      await expectSameReportInput(store, b.id, all)
      await store.ingest(touches(a.id, 'cap-a2', 5000, 30))
      expect(store.reportCacheStats()).toMatchObject({ sites: 1, touches: 30 })
      await expectSameReportInput(store, a.id, all)
      expect(store.reportCacheStats()).toMatchObject({ sites: 1, touches: 90 })
      await store.close()
    })
  })

  it('fsyncs the WAL after every group commit before answering it, off the event loop', async () => {
    const dir = tempDir()
    const store = (await openStore({ dataDir: dir })) as SqliteStore
    // SQLite commits without an fsync; the store makes the commit durable itself.
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1) // NORMAL
    const { site } = await makeSite(store)
    const before = store.stats()
    let ticks = 0
    const timer = setInterval(() => ticks++, 0)
    for (let i = 0; i < 20; i++) await store.ingest([event(site.id, `fs-${i}`, 1000 + i, { touch: touch(1000 + i) })])
    clearInterval(timer)
    const after = store.stats()
    // One fsync per transaction, each settled before its request resolved...
    expect(after.fsyncs! - before.fsyncs!).toBe(after.flushes - before.flushes)
    expect(after.flushes - before.flushes).toBe(20)
    // ...and the event loop kept turning meanwhile (the fsync runs in the thread pool).
    expect(ticks).toBeGreaterThan(0)
    await store.close()
    const normal = new SqliteStore({ file: join(tempDir(), 'normal.sqlite'), synchronous: 'NORMAL' })
    await normal.migrate()
    await makeSite(normal)
    expect(normal.stats().fsyncs).toBe(0)
    await normal.close()
  })

  it('runs WAL and records applied migrations', async () => {
    const dir = tempDir()
    const store = (await openStore({ dataDir: dir })) as SqliteStore
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal')
    const versions = store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()
    expect(versions).toEqual(SQLITE_MIGRATIONS.map((m) => m.version))
    await store.close()
    expect(existsSync(join(dir, SQLITE_FILE))).toBe(true)
  })

  it('applies a later migration once, on an existing database, in order', async () => {
    const file = join(tempDir(), 'db.sqlite')
    const first = new SqliteStore({ file })
    await first.migrate()
    const { site } = await makeSite(first)
    await first.close()
    const next = [...SQLITE_MIGRATIONS, { version: 99, name: 'deals', sql: 'CREATE TABLE deals_probe (id TEXT PRIMARY KEY)' }]
    const second = new SqliteStore({ file, migrations: next })
    await second.migrate()
    await second.migrate()
    expect(second.db.prepare('SELECT count(*) FROM schema_migrations WHERE version = 99').pluck().get()).toBe(1)
    expect(second.db.prepare("SELECT name FROM sqlite_master WHERE name = 'deals_probe'").pluck().get()).toBe('deals_probe')
    expect(await second.getSite(site.id)).toEqual(site)
    await second.close()
  })

  it('derives visitors and sessions from events (migration 4 replaces the tables of version 3 by views)', async () => {
    const file = join(tempDir(), 'db.sqlite')
    // A database as version 3 left it (its statements no longer match that schema, so by hand).
    const old = schemaBelow(file, 4)
    const insert = old.prepare(`INSERT INTO events (site_id, id, type, ts, received_at, visitor_id, session_id) VALUES ('site-1', ?, 'page', ?, 0, ?, ?)`)
    insert.run('e1', 1000, 'sv-1', 's-1')
    insert.run('e2', 3000, 'sv-1', 's-1')
    insert.run('e3', 2000, 'sv-2', 's-2')
    old.exec(`INSERT INTO visitors VALUES ('site-1', 'sv-1', 1000, 3000), ('site-1', 'sv-2', 2000, 2000);
      INSERT INTO sessions VALUES ('site-1', 'sv-1', 's-1', 1000, 3000), ('site-1', 'sv-2', 's-2', 2000, 2000)`)
    old.close()
    const store = new SqliteStore({ file })
    await store.migrate()
    const site = { id: 'site-1' }
    const sessions = () => store.db.prepare('SELECT visitor_id, id, started_at, last_seen FROM sessions ORDER BY visitor_id, id').all()
    const visitors = () => store.db.prepare('SELECT id, first_seen, last_seen FROM visitors ORDER BY id').all()
    expect(store.db.prepare("SELECT type FROM sqlite_master WHERE name IN ('visitors', 'sessions')").pluck().all()).toEqual(['view', 'view'])
    expect(sessions()).toEqual([
      { visitor_id: 'sv-1', id: 's-1', started_at: 1000, last_seen: 3000 },
      { visitor_id: 'sv-2', id: 's-2', started_at: 2000, last_seen: 2000 },
    ])
    // A session ID sent by another visitor is that visitor's session, not a widening of the first one's.
    await store.ingest([event(site.id, 'sv-3', 5000, { sessionId: 's-1' }), event(site.id, 'sv-1', 4000, { sessionId: 's-1' }), event(site.id, 'sv-1', 500, { sessionId: 's-0' })])
    expect(sessions()).toEqual([
      { visitor_id: 'sv-1', id: 's-0', started_at: 500, last_seen: 500 },
      { visitor_id: 'sv-1', id: 's-1', started_at: 1000, last_seen: 4000 },
      { visitor_id: 'sv-2', id: 's-2', started_at: 2000, last_seen: 2000 },
      { visitor_id: 'sv-3', id: 's-1', started_at: 5000, last_seen: 5000 },
    ])
    expect(visitors()).toEqual([
      { id: 'sv-1', first_seen: 500, last_seen: 4000 },
      { id: 'sv-2', first_seen: 2000, last_seen: 2000 },
      { id: 'sv-3', first_seen: 5000, last_seen: 5000 },
    ])
    // A visitor's rows are a range of the events' key (migration 13: its unique index), not a scan of every event.
    const plan = store.db.prepare("EXPLAIN QUERY PLAN SELECT * FROM sessions WHERE site_id = 'site-1' AND visitor_id = 'sv-1'").all() as Array<{ detail: string }>
    expect(plan.map((r) => r.detail).join('; ')).toMatch(/SEARCH events USING INDEX events_key \(site_id=\? AND visitor_id=\?\)/)
    expect(await store.erase(site.id, { visitorId: 'sv-1' }, [])).toEqual({ leads: 0, visitors: 1, events: 4, deals: 0 })
    expect(visitors().map((r) => (r as { id: string }).id)).toEqual(['sv-2', 'sv-3'])
    expect(sessions()).toEqual([
      { visitor_id: 'sv-2', id: 's-2', started_at: 2000, last_seen: 2000 },
      { visitor_id: 'sv-3', id: 's-1', started_at: 5000, last_seen: 5000 },
    ])
    await store.close()
  })

  it('keeps every event and touch when migration 13 moves them into arrival order, and still dedupes retries', async () => {
    const file = join(tempDir(), 'db.sqlite')
    // A database as version 12 left it (its statements no longer match that schema, so by hand).
    const old = schemaBelow(file, 13)
    const insertEvent = old.prepare(`INSERT INTO events (site_id, id, type, ts, received_at, visitor_id, session_id, url) VALUES ('site-1', ?, 'page', ?, ?, ?, 's', ?)`)
    const insertTouch = old.prepare(`INSERT INTO touches (site_id, id, visitor_id, session_id, ts, source, medium, channel) VALUES ('site-1', ?, ?, 's', ?, ?, 'cpc', 'Paid Search')`)
    insertEvent.run('a-3', 2000, 2001, 'av-2', 'https://example.com/b')
    insertTouch.run('a-3', 'av-2', 2000, 'bing')
    insertEvent.run('a-1', 1000, 1001, 'av-1', 'https://example.com/a')
    insertTouch.run('a-1', 'av-1', 1000, 'google')
    insertEvent.run('a-2', 3000, 3001, 'av-1', null)
    const rows = (db: Database.Database, table: string) => db.prepare(`SELECT * FROM ${table} ORDER BY site_id, visitor_id, id`).all()
    const events = rows(old, 'events')
    const touches = rows(old, 'touches')
    old.close()

    const store = new SqliteStore({ file })
    await store.migrate()
    expect(rows(store.db, 'events')).toEqual(events)
    expect(rows(store.db, 'touches')).toEqual(touches)
    expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('events', 'touches') AND sql LIKE '%WITHOUT ROWID%'").pluck().get()).toBe(0)
    // Retries are duplicates; a new event lands after the old ones, which kept their arrival order.
    const retried = [event('site-1', 'av-2', 2000, { id: 'a-3', touch: touch(2000, 'bing') }), event('site-1', 'av-1', 3000, { id: 'a-2' })]
    expect(await store.ingest([...retried, event('site-1', 'av-0', 4000, { id: 'a-4', touch: touch(4000, 'meta') })])).toMatchObject({ accepted: 1, duplicates: 2 })
    expect(store.db.prepare('SELECT id FROM events ORDER BY rowid').pluck().all()).toEqual(['a-1', 'a-3', 'a-2', 'a-4'])
    expect(store.db.prepare('SELECT id FROM touches ORDER BY rowid').pluck().all()).toEqual(['a-1', 'a-3', 'a-4'])
    // The report scan reads a site in arrival order, not the table's pages at random through touches_key.
    const plan = store.db.prepare('EXPLAIN QUERY PLAN SELECT visitor_id FROM touches INDEXED BY touches_site WHERE site_id = ? AND ts >= 0').all('x') as Array<{ detail: string }>
    expect(plan.map((r) => r.detail).join('; ')).toMatch(/USING INDEX touches_site/)
    expect((await store.exportPerson('site-1', { visitorId: 'av-1' })).events.map((e) => e.id)).toEqual(['a-1', 'a-2'])
    await store.close()
  })

  it("reads a lead's account by primary keys, whatever the statistics say", async () => {
    const store = (await openStore({ dataDir: tempDir() })) as SqliteStore
    // Statistics of empty tables, as on an install analysed early: the join form was planned over
    // the partial index leads_account, a scan of the site's placed leads on every identify.
    store.db.exec('ANALYZE')
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${ACCOUNT_SQL.leadAccount}`).all({ site: 's', lead: 'l' }) as Array<{ detail: string }>)
      .map((r) => r.detail).join('; ')
    expect(plan).not.toMatch(/leads_account/)
    expect(plan).toMatch(/SEARCH leads USING INDEX sqlite_autoindex_leads_1 \(id=\?/)
    await store.close()
  })

  it('a failing migration leaves no trace and is retried next time', async () => {
    const file = join(tempDir(), 'db.sqlite')
    const last = Math.max(...SQLITE_MIGRATIONS.map((m) => m.version))
    const broken = [...SQLITE_MIGRATIONS, { version: last + 1, name: 'broken', sql: 'CREATE TABLE half (id TEXT); SELECT * FROM no_such_table' }]
    const store = new SqliteStore({ file, migrations: broken })
    await expect(store.migrate()).rejects.toThrow(/no_such_table/)
    expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0)
    expect(store.db.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(last)
    await store.close()
  })

  it('never writes a raw email or phone to the database file or its WAL', async () => {
    const dir = tempDir()
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    const store = await openStore({ dataDir: dir })
    const { site } = await makeSite(store)
    const rawEmail = '  Grace.Hopper+Leads@Example.COM '
    const rawPhone = '(415) 555-0132'
    const norm = normalizePerson({ email: rawEmail, phone: rawPhone }, keys.matchKey)
    if (!norm.ok) throw new Error('fixture must normalise')
    const { person } = norm
    await store.ingest([event(site.id, 'gh', 1000, { touch: touch(1000) })])
    await store.identify({
      siteId: site.id, visitorId: 'gh', keys: person.keys, ts: 2000,
      emailEnc: encrypt(person.email ?? '', keys.encryptionKey), phoneEnc: encrypt(person.phone ?? '', keys.encryptionKey),
    })
    const bytes = Buffer.concat([join(dir, SQLITE_FILE), join(dir, `${SQLITE_FILE}-wal`)]
      .filter((f) => existsSync(f)).map((f) => readFileSync(f)))
    // Sanity: the data really is in these bytes (the hash of the email is).
    expect(bytes.includes(Buffer.from(person.keys[0].hash))).toBe(true)
    for (const needle of ['grace.hopper+leads@example.com', 'Grace.Hopper', '+14155550132', '4155550132', '555-0132']) {
      expect(bytes.includes(Buffer.from(needle)), needle).toBe(false)
    }
    await store.close()
  })

  it('imports 100,000 events in one call through the bulk path', async () => {
    const store = await openStore({ dataDir: tempDir() })
    const { site } = await makeSite(store)
    const n = 100_000
    const events: IngestEvent[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const visitor = `v${i % 5000}`
      events[i] = event(site.id, visitor, 1_700_000_000_000 + i, {
        imported: true,
        sessionId: `s${i % 20_000}`,
        touch: i % 4 === 0 ? touch(1_700_000_000_000 + i, 'google', 'cpc', { landing: 'https://example.com/pricing' }) : null,
      })
    }
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    const result = await store.ingest(events)
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpu0)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    console.log(`[sqlite bulk] ${n} events: wall ${seconds.toFixed(3)} s = ${Math.round(n / seconds)}/s; cpu ${cpuSeconds.toFixed(3)} s = ${Math.round(n / cpuSeconds)}/s`)
    // The ≥ 100,000 events/s budget is measured end to end in bench/ on a quiet machine. Here,
    // on a shared CI box, CPU time (not wall time) guards against the regressions that matter:
    // a transaction or a prepare per event costs 10–100×, far below this floor.
    expect(n / cpuSeconds).toBeGreaterThan(50_000)
    expect(result.accepted).toBe(n)
    await store.close()
  })
})
