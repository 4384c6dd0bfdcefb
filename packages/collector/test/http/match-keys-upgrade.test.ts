// Upgrading a store whose match keys are unkeyed SHA-256 (what every store held before they were
// keyed). The store is written with the schema before the upgrade's migration and hashes as that
// code computed them; then `serve` starts on it (startServer, as the CLI runs it). Afterwards every
// hash column holds the keyed form of what it held, the old lead is found by e-mail and by phone, a
// pending deal and a pending deal contact still link, and a second start changes nothing.

import { createHash, createHmac, randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULTS, type Config } from '../../src/config.js'
import { encrypt, loadInstallKeys } from '../../src/identity/crypto.js'
import { startServer } from '../../src/http/server.js'
import { createSite } from '../../src/sites/admin.js'
import { SQLITE_FILE } from '../../src/store/index.js'
import { PostgresStore } from '../../src/store/postgres/store.js'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations.js'
import { SqliteStore } from '../../src/store/sqlite/store.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import type { Store } from '../../src/store/types.js'
import { secret, tempDir, visitorId, type TestServer } from './helpers.js'

const PG_URL = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
// The store as it was before this migration ran; later ones stay (the code under test uses their columns).
const UPGRADE_VERSION = 11
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => { for (const c of cleanups.reverse()) await c() })

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

/** Every match-key column, read in a stable order: [table.column, primary key, value]. */
const COLUMNS: Array<[string, string, string]> = [
  ['lead_identities', 'hash', "site_id || '/' || kind || '/' || lead_id"],
  ['deals', 'email_hash', "site_id || '/' || id"],
  ['deals', 'external_hash', "site_id || '/' || id"],
  ['deal_leads', 'email_hash', "site_id || '/' || deal_id || '/' || position"],
  ['deal_leads', 'external_hash', "site_id || '/' || deal_id || '/' || position"],
]

interface Kind {
  name: string
  /** A store on a new database with the schema as it was before the upgrade. */
  before(dir: string): Promise<Store>
  /** Config of `serve` on that database. */
  config(dir: string): Partial<Config>
  /** Runs SQL on the database beside the server. */
  query(dir: string, sql: string): Promise<Array<Record<string, unknown>>>
}

const pgSchemas = new Map<string, string>()

const KINDS: Kind[] = [
  {
    name: 'SQLite',
    async before(dir) {
      const store = new SqliteStore({ file: join(dir, SQLITE_FILE), migrations: SQLITE_MIGRATIONS.filter((m) => m.version !== UPGRADE_VERSION) })
      await store.migrate()
      return store
    },
    config: (dir) => ({ dataDir: dir }),
    async query(dir, sql) {
      const db = new Database(join(dir, SQLITE_FILE), { readonly: true })
      try { return db.prepare(sql).all() as Array<Record<string, unknown>> } finally { db.close() }
    },
  },
  {
    name: 'PostgreSQL',
    async before(dir) {
      const schema = `cl_upgrade_${randomBytes(6).toString('hex')}`
      pgSchemas.set(dir, schema)
      const admin = new pg.Client({ connectionString: PG_URL })
      await admin.connect()
      await admin.query(`CREATE SCHEMA ${schema}`)
      cleanups.push(async () => { await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await admin.end() })
      const store = new PostgresStore({ connectionString: PG_URL, schema, migrations: POSTGRES_MIGRATIONS.filter((m) => m.version !== UPGRADE_VERSION) })
      await store.migrate()
      return store
    },
    // The server's pool works in the test's schema, as a deployment may pick one with `options`.
    config: (dir) => ({ dataDir: dir, databaseUrl: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${pgSchemas.get(dir)}`)}` }),
    async query(dir, sql) {
      const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${pgSchemas.get(dir)}` })
      await c.connect()
      try { return (await c.query(sql)).rows } finally { await c.end() }
    },
  },
]

async function hashColumns(kind: Kind, dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const [table, column, key] of COLUMNS) {
    for (const r of await kind.query(dir, `SELECT ${key} AS k, ${column} AS h FROM ${table} WHERE ${column} IS NOT NULL`)) out.set(`${table}.${column}:${String(r.k)}`, String(r.h))
  }
  return out
}

describe.each(KINDS)('first start on a $name store with unkeyed match keys', (kind) => {
  it('keys every stored hash once; old leads and pending deals still match', async () => {
    const dir = tempDir('closeloop-upgrade-')
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }))
    const keys = loadInstallKeys({ dataDir: dir })

    // The store as the collector wrote it before: plain SHA-256 of the normalised values.
    const old = await kind.before(dir)
    const config: Config = { ...DEFAULTS, port: 0, host: '127.0.0.1', ...kind.config(dir) }
    const { site, secretKey } = await createSite(old, { name: 'Upgrade', origins: ['https://shop.example'], cookieDomain: null })
    const lead = await old.identify({
      siteId: site.id, visitorId: visitorId(), ts: Date.UTC(2026, 0, 1),
      keys: [{ kind: 'email', hash: sha256('ada@shop.example') }, { kind: 'phone', hash: sha256('+14155550101') }, { kind: 'external', hash: sha256('crm-ada') }],
      emailEnc: encrypt('ada@shop.example', keys.encryptionKey), phoneEnc: encrypt('+14155550101', keys.encryptionKey), externalId: 'crm-ada',
    })
    const deal = { stage: 'won' as const, crmStage: 'won', amount: 500, originalAmount: 500, originalCurrency: null, ts: Date.UTC(2026, 1, 1) }
    await old.upsertDeals(site.id, [
      { ...deal, dealId: 'pending-1', match: { leadId: null, keys: [{ kind: 'email', hash: sha256('newcomer@shop.example') }] } },
      { ...deal, dealId: 'pending-2', match: { leadId: null, keys: [{ kind: 'external', hash: sha256('crm-zed') }] } },
      { ...deal, dealId: 'committee', match: { leadId: lead.leadId, keys: [] }, contacts: [{ leadId: null, keys: [{ kind: 'email', hash: sha256('cfo@shop.example') }] }] },
    ])
    await old.close()
    const before = await hashColumns(kind, dir)
    expect(before.size).toBe(6)

    // First start after the upgrade.
    let server = await startServer(config, { logger: false })
    const ts: TestServer = { url: server.url, dir, app: server.app, store: server.app.closeloop.store, site, pk: site.publicKey, sk: secretKey, close: server.close }
    try {
      const after = await hashColumns(kind, dir)
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort())
      for (const [where, h] of before) expect(after.get(where), where).toBe(createHmac('sha256', keys.matchKey).update(h).digest('hex'))
      const stored = new Set(after.values())
      for (const h of before.values()) expect(stored.has(h)).toBe(false)

      // The old lead, by e-mail and by phone from new browsers; by its external ID too.
      for (const person of [{ email: ' Ada@Shop.example' }, { phone: '(415) 555-0101' }, { externalId: 'crm-ada' }]) {
        const r = await secret(ts, '/v1/identify', { visitorId: visitorId(), ...person })
        expect(r.status, JSON.stringify(person)).toBe(200)
        expect(r.body.leadId, JSON.stringify(person)).toBe(lead.leadId)
      }
      // The pending deals link when their people arrive; so does the pending contact.
      const newcomer = await secret(ts, '/v1/identify', { visitorId: visitorId(), email: 'newcomer@shop.example' })
      expect((await secret(ts, `/v1/leads/${newcomer.body.leadId}`)).body.deals.map((d: { dealId: string }) => d.dealId)).toEqual(['pending-1'])
      const zed = await secret(ts, '/v1/identify', { visitorId: visitorId(), externalId: 'crm-zed' })
      expect((await secret(ts, `/v1/leads/${zed.body.leadId}`)).body.deals.map((d: { dealId: string }) => d.dealId)).toEqual(['pending-2'])
      const cfo = await secret(ts, '/v1/identify', { visitorId: visitorId(), email: 'cfo@shop.example' })
      expect(cfo.body.leadId).not.toBe(lead.leadId)
      expect(await kind.query(dir, "SELECT lead_id FROM deal_leads WHERE deal_id = 'committee'")).toEqual([{ lead_id: cfo.body.leadId }])
    } finally {
      await server.close()
    }

    // A second start finds the marker: nothing is keyed twice.
    const once = await hashColumns(kind, dir)
    server = await startServer(config, { logger: false })
    try {
      expect(await hashColumns(kind, dir)).toEqual(once)
      expect(await kind.query(dir, 'SELECT name FROM data_upgrades')).toEqual([{ name: 'match keys keyed' }])
      const again = await secret({ ...ts, url: server.url }, '/v1/identify', { visitorId: visitorId(), phone: '+1 415 555 0101' })
      expect(again.body.leadId).toBe(lead.leadId)
    } finally {
      await server.close()
    }
  })
})
