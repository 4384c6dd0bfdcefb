// The store contract on a real PostgreSQL server, in a fresh schema dropped afterwards. An
// unreachable server FAILS this file (it is part of the product), with the URL in the message.

import pg from 'pg'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../../src/store/postgres.js'
import { POSTGRES_MIGRATIONS } from '../../src/store/migrations/postgres.js'
import { emailKey, makeSite, storeContract } from './contract.js'

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

storeContract('PostgreSQL', async () => {
  const schema = await freshSchema()
  return {
    open: async () => {
      const store = new PostgresStore({ connectionString: URL, schema })
      await store.migrate()
      return store
    },
    destroy: async () => undefined, // dropped with the others in afterAll
  }
})

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

  it('rejects a schema name that is not a plain identifier', () => {
    expect(() => new PostgresStore({ connectionString: URL, schema: 'x; DROP TABLE y' })).toThrow(/schema/)
  })
})
