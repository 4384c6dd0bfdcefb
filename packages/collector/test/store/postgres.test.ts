// The store contract on a real PostgreSQL server, in a fresh schema dropped afterwards. An
// unreachable server FAILS this file (it is part of the product), with the URL in the message.

import { TEST_DESTINATIONS } from './fake-destination.js'
import pg from 'pg'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../../src/store/postgres/store.js'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations.js'
import { emailKey, event, makeSite, storeContract, touch, type StoreHarness } from './contract.js'
import { expectSameReportInput } from './contract-outcomes.js'

const URL = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schemas: string[] = []

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 5000 })
  try {
    await c.connect()
  } catch (err) {
    throw new Error(`PostgreSQL is unreachable at ${URL} (set CLOSELOOP_TEST_DATABASE_URL): ${(err as Error).message}`)
  }
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

async function freshSchema(): Promise<string> {
  const schema = `cl_test_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`CREATE SCHEMA ${schema}`))
  schemas.push(schema)
  return schema
}

afterAll(async () => {
  if (schemas.length > 0) await admin(async (c) => { for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`) })
})

describe('PostgreSQL test server', () => {
  it(`is reachable at ${URL}`, async () => {
    const version = await admin(async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v)
    expect(version).toMatch(/^\d+/)
  })
})

async function pgHarness(): Promise<StoreHarness> {
  const schema = await freshSchema()
  return {
    open: async () => {
      const store = new PostgresStore({ connectionString: URL, schema, destinations: TEST_DESTINATIONS })
      await store.migrate()
      return store
    },
    destroy: async () => undefined, // dropped with the others in afterAll
    another: pgHarness,
  }
}

storeContract('PostgreSQL', pgHarness)

describe('PostgresStore specifics', () => {
  let schema: string
  beforeAll(async () => {
    schema = await freshSchema()
  })

  it('migrates once even when several processes start together', async () => {
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ connectionString: URL, schema, max: 2 }))
    await Promise.all(stores.map((s) => s.migrate()))
    const rows = await stores[0].pool.query('SELECT version FROM schema_migrations ORDER BY version')
    expect(rows.rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version))
    await Promise.all(stores.map((s) => s.close()))
  })

  it('concurrent identifies of one email from separate pools (processes) make one lead', async () => {
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ connectionString: URL, schema, max: 2 }))
    await stores[0].migrate()
    const { site } = await makeSite(stores[0])
    const key = emailKey('multi-process@example.com')
    const outcomes = await Promise.all(Array.from({ length: 24 }, (_, i) =>
      stores[i % 4].identify({ siteId: site.id, visitorId: `mp-${i}`, keys: [key], ts: 1000 + i })))
    expect(new Set(outcomes.map((o) => o.leadId)).size).toBe(1)
    expect(outcomes.filter((o) => o.created)).toHaveLength(1)
    expect((await stores[1].getLead(site.id, outcomes[0].leadId))?.visitorIds).toHaveLength(24)
    await Promise.all(stores.map((s) => s.close()))
  })

  it('collectors sharing the database claim disjoint conversion rows (SKIP LOCKED and a claimed-until time)', async () => {
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ connectionString: URL, schema, max: 3, destinations: TEST_DESTINATIONS }))
    await stores[0].migrate()
    const { site } = await makeSite(stores[0])
    const id = `dst_claims_${Date.now()}`
    await stores[0].addDestination({ id, siteId: site.id, kind: 'meta', options: { 'api-base': 'http://127.0.0.1:1', 'access-token': 'v1.x' }, send: { won: { name: 'Purchase', value: null } }, feedUser: null, feedSecretHash: null, createdAt: 1 })
    const leads: string[] = []
    for (let i = 0; i < 60; i++) {
      const r = await stores[i % 4].identify({ siteId: site.id, visitorId: `claim-${i}`, keys: [emailKey(`claim-${i}@example.com`)], emailEnc: 'v1.enc', ts: 1000 })
      leads.push(r.leadId)
    }
    await stores[0].upsertDeals(site.id, leads.map((leadId, i) => ({ dealId: `cd-${i}`, match: { leadId, keys: [] }, stage: 'won' as const, crmStage: 'Won', amount: i, originalAmount: i, originalCurrency: null, ts: 2000 })))
    const now = Date.now()
    // Eight claims at once from four pools, 10 rows each: no row twice, and all 60 handed out.
    const claimed = (await Promise.all(Array.from({ length: 8 }, (_, i) => stores[i % 4].claimConversions(now, now + 60_000, 10)))).flat().filter((r) => r.destinationId === id)
    const keys = claimed.map((r) => r.key)
    expect(new Set(keys).size).toBe(keys.length)
    expect(keys).toHaveLength(60)
    expect(await stores[1].claimConversions(now + 1000, now + 60_000, 100)).toEqual([])
    await Promise.all(stores.map((s) => s.close()))
  })

  it('derives visitors and sessions from events (migration 4 replaces the tables of version 3 by views)', async () => {
    const own = await freshSchema()
    // A schema as version 3 left it (its statements no longer match that schema, so by hand).
    await admin(async (c) => {
      await c.query(`SET search_path TO ${own}`)
      await c.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)')
      for (const m of POSTGRES_MIGRATIONS.filter((m) => m.version < 4)) {
        await c.query(m.sql)
        await c.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name])
      }
      await c.query(`INSERT INTO events (site_id, id, type, ts, received_at, visitor_id, session_id) VALUES
        ('site-1', 'e1', 'page', 1000, 0, 'sv-1', 's-1'), ('site-1', 'e2', 'page', 3000, 0, 'sv-1', 's-1'),
        ('site-1', 'e3', 'page', 2000, 0, 'sv-2', 's-2')`)
      await c.query(`INSERT INTO visitors VALUES ('site-1', 'sv-1', 1000, 3000), ('site-1', 'sv-2', 2000, 2000)`)
      await c.query(`INSERT INTO sessions (site_id, id, visitor_id, started_at, last_seen) VALUES
        ('site-1', 's-1', 'sv-1', 1000, 3000), ('site-1', 's-2', 'sv-2', 2000, 2000)`)
    })
    const store = new PostgresStore({ connectionString: URL, schema: own })
    await store.migrate()
    const site = { id: 'site-1' }
    const sessions = async () => (await store.pool.query(
      'SELECT visitor_id, id, started_at::int AS started_at, last_seen::int AS last_seen FROM sessions ORDER BY visitor_id, id')).rows
    const visitors = async () => (await store.pool.query('SELECT id, first_seen::int AS first_seen, last_seen::int AS last_seen FROM visitors ORDER BY id')).rows
    expect(await sessions()).toEqual([
      { visitor_id: 'sv-1', id: 's-1', started_at: 1000, last_seen: 3000 },
      { visitor_id: 'sv-2', id: 's-2', started_at: 2000, last_seen: 2000 },
    ])
    // A session ID sent by another visitor is that visitor's session.
    await store.ingest([event(site.id, 'sv-3', 5000, { sessionId: 's-1' }), event(site.id, 'sv-1', 4000, { sessionId: 's-1' }), event(site.id, 'sv-1', 500, { sessionId: 's-0' })])
    expect(await sessions()).toEqual([
      { visitor_id: 'sv-1', id: 's-0', started_at: 500, last_seen: 500 },
      { visitor_id: 'sv-1', id: 's-1', started_at: 1000, last_seen: 4000 },
      { visitor_id: 'sv-2', id: 's-2', started_at: 2000, last_seen: 2000 },
      { visitor_id: 'sv-3', id: 's-1', started_at: 5000, last_seen: 5000 },
    ])
    expect(await visitors()).toEqual([
      { id: 'sv-1', first_seen: 500, last_seen: 4000 },
      { id: 'sv-2', first_seen: 2000, last_seen: 2000 },
      { id: 'sv-3', first_seen: 5000, last_seen: 5000 },
    ])
    expect(await store.erase(site.id, { visitorId: 'sv-1' }, [])).toEqual({ leads: 0, visitors: 1, events: 4, deals: 0 })
    expect((await visitors()).map((r) => r.id)).toEqual(['sv-2', 'sv-3'])
    expect((await sessions()).map((r) => r.visitor_id)).toEqual(['sv-2', 'sv-3'])
    await store.close()
  })

  it('builds the report table from touches streamed in many COPY chunks (45,000 touches, ~3 MB)', async () => {
    const store = new PostgresStore({ connectionString: URL, schema: await freshSchema() })
    await store.migrate()
    const { site } = await makeSite(store)
    const events = Array.from({ length: 45_000 }, (_, i) =>
      event(site.id, `pg-v${i % 9000}`, 1000 + i, { touch: touch(1000 + i, i % 3 ? 'google' : 'bing', 'cpc', { landing: `https://example.com/p${i % 7}?x=${i}` }) }))
    for (let i = 0; i < events.length; i += 5000) await store.ingest(events.slice(i, i + 5000))
    for (let v = 0; v < 9000; v += 450) await store.identify({ siteId: site.id, visitorId: `pg-v${v}`, keys: [emailKey(`pg${v}@x.example`)], ts: 50_000 })
    const all = { touchesFrom: null, touchesTo: null }
    expect(await expectSameReportInput(store, site.id, all)).toHaveLength(9000)
    await expectSameReportInput(store, site.id, { ...all, extra: 'landing' })
    await expectSameReportInput(store, site.id, { touchesFrom: 10_000, touchesTo: 30_000 })
    // COPY takes no parameters, so the site ID is quoted into its SQL: a hostile one finds nothing.
    const hostile = await store.loadReportTable("x' OR site_id <> '", all)
    expect(hostile.table.ts).toHaveLength(0)
    expect(Number((await store.pool.query('SELECT count(*) AS n FROM touches')).rows[0].n)).toBe(45_000)
    await store.close()
  })

  it('rejects a schema name that is not a plain identifier', () => {
    expect(() => new PostgresStore({ connectionString: URL, schema: 'x; DROP TABLE y' })).toThrow(/schema/)
  })
})
